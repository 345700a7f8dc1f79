// The registration authority (autorité d'enregistrement) the Annuaire profiles carry in
// as-ext-data-trace.autorite-enregistrement, bound (required) to JDV_J83-AutoriteEnregistrement-RASS
// (codes of TRE_R60-AutoriteEnregistrement): an Ordre (CNOM, CNOP, ONI…), the SSA, ENREG, or the ARS of
// a region (ARS-84…). The ARS codes carry the INSEE code of the region, but for La Réunion (ARS-05: ARS-04
// was the former Océan Indien agency); Saint-Pierre-et-Miquelon has its own agency (AT-975).
import { readFileSync } from 'node:fs';
import type { CodeableConcept, ValueSet } from '@medplum/fhirtypes';

const donnees = (chemin: string) => new URL(`../../../data/${chemin}`, import.meta.url);

let j83: Map<string, { system: string; display?: string }> | undefined;
let regions: Map<string, string> | undefined;

function codesJ83(): Map<string, { system: string; display?: string }> {
  if (j83) return j83;
  const vs = JSON.parse(readFileSync(donnees('terminologies/nos/ValueSet-JDV-J83-AutoriteEnregistrement-RASS.json'), 'utf8')) as ValueSet;
  j83 = new Map((vs.compose?.include ?? []).flatMap((i) => (i.concept ?? []).map((c) => [c.code, { system: i.system!, display: c.display }] as const)));
  return j83;
}

/** Department (01…95, 2A, 2B, 971…976) → INSEE region, from data/referentiels/departements-regions.csv. */
function regionsParDepartement(): Map<string, string> {
  regions ??= new Map(
    readFileSync(donnees('referentiels/departements-regions.csv'), 'utf8')
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split(',') as [string, string]),
  );
  return regions;
}

/** A JDV_J83 code as a CodeableConcept; undefined for anything J83 does not list. */
export function autorite(code: string): CodeableConcept | undefined {
  const c = codesJ83().get(code);
  return c ? { coding: [{ system: c.system, code, ...(c.display ? { display: c.display } : {}) }] } : undefined;
}

/** The ARS of a department; FINESS writes the overseas ones 9A…9F (9E: Saint-Pierre-et-Miquelon). */
export function agenceRegionale(departement: string): CodeableConcept | undefined {
  const outreMer: Record<string, string> = { '9A': '971', '9B': '972', '9C': '973', '9D': '974', '9F': '976' };
  if (departement === '9E' || departement === '975') return autorite('AT-975');
  const region = regionsParDepartement().get(outreMer[departement] ?? departement);
  if (!region) return undefined;
  return autorite(`ARS-${region === '04' ? '05' : region}`);
}

/** The department of a FINESS number: its first two characters, three overseas (971…976). */
export const departementFiness = (numero: string): string => (numero.startsWith('97') ? numero.slice(0, 3) : numero.slice(0, 2));

/**
 * The RPPS column "Autorité d'enregistrement" names up to three authorities separated by '/', e.g.
 * CNOM/CNOM/ARS or ARS/CPAM/CPAM: `rang` 0 is read as the professional's, the last as the activity's.
 * "ARS" alone is the agency of the activity's region; a value outside J83 (CPAM, Variable, empty) gives none.
 */
export function autoriteRpps(colonne: string, rang: 'professionnel' | 'activite', departement: string): CodeableConcept | undefined {
  const parties = colonne.split('/').map((p) => p.split('+')[0]!.trim());
  const code = rang === 'professionnel' ? parties[0] : parties.at(-1);
  if (!code) return undefined;
  return code === 'ARS' ? agenceRegionale(departement) : autorite(code);
}
