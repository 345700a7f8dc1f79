// Shared pieces of the checks: the checker's context, Bundle look-ups and profile validation.
import type { Validator } from '../../../fhir/validation/index.ts';
import { FORMAT_DATE_SAS, PROFIL } from '../editeur/profils.ts';
import { lireRequete } from '../editeur/recherche.ts';
import { dateSas, jourParis, instantParis } from '../editeur/temps.ts';
import type { OptionsAppel, Reponse } from './client.ts';
import { exiger, liste, type Journal } from './journal.ts';

export interface Contexte {
  base: string; journal: Journal; validateur: Validator; now: () => Date;
  appeler(chemin: string, options?: OptionsAppel): Promise<Reponse>;
}

export type Res = Record<string, any> & { resourceType: string; id?: string };

export const nomRes = (r: Res) => `${r.resourceType}/${r.id ?? '?'}`;
export const ressources = (bundle: any): Res[] => (bundle?.entry ?? []).map((e: any) => e.resource).filter(Boolean);
export const deType = (bundle: any, type: string): Res[] => ressources(bundle).filter((r) => r.resourceType === type);
export const aProfil = (r: Res, url: string) => (r.meta?.profile ?? []).includes(url);

/** The search window the SAS sends: now to the end of the day after tomorrow (Paris), at most 72 h. */
export function fenetre(now: Date): { debut: Date; fin: Date } {
  const debut = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const [a, m, j] = jourParis(now, 2);
  const finJour = instantParis(a, m, j, 23, 59, 59);
  const fin = new Date(Math.min(finJour.getTime(), debut.getTime() + 72 * 3_600_000));
  return { debut, fin };
}

/** Dates as the platform sends them: ms and offset, `|` and `+` percent-encoded. */
export const dateRequete = (d: Date) => encodeURIComponent(dateSas(d));

/** The profile each resource type must claim in an aggregation answer. */
export const PROFILS_ATTENDUS: Record<string, string[]> = {
  Slot: [PROFIL.slot, PROFIL.cptsSlot, PROFIL.sosSlot],
  Schedule: [PROFIL.schedule, PROFIL.sosSchedule],
  Practitioner: [PROFIL.practitioner],
  PractitionerRole: [PROFIL.practitionerRole],
  Location: [PROFIL.location, PROFIL.sosLocation],
  HealthcareService: [PROFIL.cptsHealthcareService],
  Organization: [PROFIL.cptsOrganization, PROFIL.sosOrganization],
};

/** Every resource, contained ones included, claims one of the SAS profiles of its type in meta.profile. */
export function verifierMetaProfils(bundle: any): void {
  const fautes: string[] = [];
  const voir = (r: Res, ou: string) => {
    const attendus = PROFILS_ATTENDUS[r.resourceType];
    const declares: string[] = r.meta?.profile ?? [];
    if (declares.length === 0) fautes.push(`${ou} ${nomRes(r)}: meta.profile is missing`);
    else if (attendus && !declares.some((p) => attendus.includes(p))) {
      fautes.push(`${ou} ${nomRes(r)}: meta.profile ${declares.join(', ')} is not ${attendus.join(' or ')}`);
    }
  };
  (bundle.entry ?? []).forEach((e: any, i: number) => {
    if (!e.resource) return;
    voir(e.resource, `entry[${i}]`);
    (e.resource.contained ?? []).forEach((c: Res, k: number) => voir(c, `entry[${i}].contained[${k}]`));
  });
  exiger(fautes.length === 0, liste(fautes));
}

/** Validates the Bundle against its profile and every entry against the profiles it claims (SAS 1.1.0). */
export function valider(validateur: Validator, bundle: any, profilBundle: string): void {
  exiger(aProfil(bundle, profilBundle), `Bundle.meta.profile must be ${profilBundle} (got ${(bundle.meta?.profile ?? []).join(', ') || 'none'})`);
  const fautes: string[] = [];
  for (const r of [bundle, ...ressources(bundle)]) {
    const res = validateur.validate(r);
    for (const i of [...res.base, ...res.profile]) {
      if (r === bundle && /Bundle\.entry\[\d+\]\.resource/.test(i.expression?.[0] ?? '')) continue; // reported per entry
      fautes.push(`${r === bundle ? 'Bundle' : nomRes(r)} ${i.expression?.[0] ?? ''}: ${i.diagnostics}`);
    }
  }
  exiger(fautes.length === 0, liste([...new Set(fautes)]));
}

/** Self link query == request query, as the kit compares them (decoded, as multisets). */
export function verifierLienSelf(bundle: any, urlRequete: string): string | undefined {
  const self = (bundle.link ?? []).find((l: any) => l.relation === 'self')?.url;
  exiger(self, 'Bundle.link with relation "self" is missing');
  const normal = (u: string) => lireRequete(u.replace(/&amp;/g, '&')).map(([k, v]) => `${k}=${v.replace(/ /g, '+')}`).sort();
  const a = normal(urlRequete);
  const b = normal(self);
  const manque = a.filter((x) => !b.includes(x));
  const enTrop = b.filter((x) => !a.includes(x));
  exiger(manque.length === 0 && enTrop.length === 0,
    `Bundle.link[self].url query differs from the request: ${[...manque.map((x) => `missing ${x}`), ...enTrop.map((x) => `unexpected ${x}`)].join('; ')}`);
  return self === urlRequete ? undefined : 'same query; URL not byte-identical to the request';
}

/** total == number of Slots. */
export function verifierTotal(bundle: any): void {
  const n = deType(bundle, 'Slot').length;
  exiger(typeof bundle.total === 'number', 'Bundle.total is missing');
  exiger(bundle.total === n, `Bundle.total is ${bundle.total} but the Bundle has ${n} Slot resources`);
}

/** Slot dates: format with ms and offset, end present, start < end, start within the window asked for. */
export function verifierDates(bundle: any, debut: Date, fin: Date): void {
  const fautes: string[] = [];
  for (const s of deType(bundle, 'Slot')) {
    for (const champ of ['start', 'end'] as const) {
      if (s[champ] === undefined) fautes.push(`${nomRes(s)} Slot.${champ} is missing`);
      else if (!FORMAT_DATE_SAS.test(s[champ])) fautes.push(`${nomRes(s)} Slot.${champ} "${s[champ]}" is not YYYY-MM-DDThh:mm:ss.SSS±hh:mm`);
    }
    const d = Date.parse(s.start);
    const f = Date.parse(s.end);
    if (!Number.isNaN(d) && d < debut.getTime()) fautes.push(`${nomRes(s)} Slot.start ${s.start} is before the window start ${dateSas(debut)}`);
    if (!Number.isNaN(d) && d > fin.getTime()) fautes.push(`${nomRes(s)} Slot.start ${s.start} is after the window end ${dateSas(fin)}`);
    if (!Number.isNaN(d) && !Number.isNaN(f) && d >= f) fautes.push(`${nomRes(s)} Slot.start ${s.start} is not before Slot.end ${s.end}`);
  }
  exiger(fautes.length === 0, liste(fautes));
}

export function reponseBundle(r: Reponse): any {
  exiger(r.statut === 200, `HTTP ${r.statut} (expected 200)${r.json?.resourceType === 'OperationOutcome' ? `: ${r.json.issue?.[0]?.diagnostics ?? ''}` : ''}`);
  exiger(r.json?.resourceType === 'Bundle', `the answer is not a FHIR Bundle (${r.texte.slice(0, 80)})`);
  exiger(r.json.type === 'searchset', `Bundle.type is "${r.json.type}" (expected searchset)`);
  return r.json;
}
