// A small deterministic regional ROR for the demo (Île-de-France, code région 11): entités
// géographiques (ror-organization), their lieux (ror-location) placed at the centre of their commune
// from the COG file with WGS84 positions and capacities, and offres opérationnelles
// (ror-healthcareservice) with activités opérationnelles of JDV_J17. The EG of Saint-Antoine is
// linked to the demo structure of the same FINESS when it exists.
import type { Bundle, BundleEntry, Extension, Resource } from '@medplum/fhirtypes';
import { withContext } from '../../access/context.ts';
import { PLATFORM } from '../../access/principal.ts';
import type { FhirCore } from '../../fhir/core.ts';
import { processBundle } from '../../fhir/rest/transaction.ts';
import type { Commune } from './communes.ts';
import { EXT, PROFILE, ROR_SD, TRE } from './nomenclatures.ts';

const FINESS = 'urn:oid:1.2.250.1.71.4.2.2';
const REGION_TAG = { system: TRE.regionOM, code: '11', display: 'Île-de-France' };
const CREATED = '2025-01-06T09:00:00+01:00';
const UPDATED = '2025-01-06T09:00:00+01:00';

/** EG: FINESS géographique, name, commune (INSEE), the demo EJ it belongs to (FINESS), two offres. */
const SITES: { finess: string; name: string; insee: string; ej?: string; offres: [string, string][] }[] = [
  { finess: '750100125', name: 'Hôpital Saint-Antoine', insee: '75056', ej: '1750712184', offres: [['013', 'Cardiologie générale'], ['127', 'Réanimation polyvalente']] },
  { finess: '940100027', name: 'Hôpital Henri-Mondor', insee: '94028', offres: [['097', 'Neurologie'], ['126', 'Réanimation médicale']] },
  { finess: '940100043', name: 'Hôpital Paul-Brousse', insee: '94076', offres: [['050', 'Gériatrie, Gérontologie'], ['170', 'Soins palliatifs']] },
  { finess: '780110078', name: 'Centre hospitalier de Versailles', insee: '78646', offres: [['100', 'Obstétrique'], ['114', 'Pneumologie']] },
  { finess: '920100047', name: 'Hôpital Ambroise-Paré', insee: '92012', offres: [['013', 'Cardiologie générale'], ['050', 'Gériatrie, Gérontologie']] },
  { finess: '930110051', name: 'Centre hospitalier de Saint-Denis', insee: '93066', offres: [['100', 'Obstétrique'], ['127', 'Réanimation polyvalente']] },
  { finess: '910019447', name: 'Centre hospitalier Sud Francilien', insee: '91228', offres: [['098', 'Neurologie vasculaire'], ['114', 'Pneumologie']] },
];

const coded = (system: string, code: string, display?: string) => ({ coding: [{ system, code, ...(display ? { display } : {}) }] });
const sub = (url: string, system: string, code: string, display: string): Extension => ({ url, valueCodeableConcept: coded(system, code, display) });

/** One line of capacities (CapaciteAccueilOperationnelle), lits en temporalité courante. */
export function capacity(status: [string, string], nb: number, gender?: [string, string]): Extension {
  return {
    url: EXT.supportedCapacity,
    extension: [
      sub('capacityType', TRE.natureCapacite, '01', 'Lit'),
      sub('capacityStatus', TRE.statutCapacite, ...status),
      sub('temporalityCapacity', TRE.temporaliteCapacite, '01', 'Courant'),
      { url: 'nbCapacity', valueInteger: nb },
      sub('capacitySourceType', TRE.typeSourceCapacite, '01', 'Saisie manuelle'),
      sub('temporaryAssignement', TRE.affectationTemporaire, '01', 'Aucune'),
      ...(gender ? [sub('genderCapacityAvailable', TRE.genreCapacite, ...gender)] : []),
      { url: 'capacityUpdateDate', valueDateTime: UPDATED },
    ],
  };
}

/** Seeds the demo ROR unless one exists. Returns the number of resources written. */
export async function seedRorDemo(core: FhirCore, communes: Map<string, Commune>): Promise<number> {
  const existing = await core.search('Location', { _profile: PROFILE.location, _summary: 'count' });
  if ((existing.total ?? 0) > 0) return 0;
  const entries: BundleEntry[] = [];
  const add = (resource: Resource, key: string) =>
    entries.push({ fullUrl: `urn:uuid:${key}`, resource, request: { method: 'POST', url: resource.resourceType } });
  for (const [i, site] of SITES.entries()) {
    const commune = communes.get(site.insee);
    if (!commune) throw new Error(`demo ROR: commune ${site.insee} is not in the COG file`);
    const ej = site.ej ? (await core.search('Organization', { identifier: `${FINESS}|${site.ej}`, _count: '1' })).matches[0] : undefined;
    const eg = uuid(1, i, 0);
    add(
      {
        resourceType: 'Organization',
        meta: { profile: [PROFILE.organization], tag: [REGION_TAG] },
        identifier: [{ system: FINESS, value: `1${site.finess}` }],
        name: site.name,
        active: true,
        address: [{ city: commune.nom, extension: [{ url: `${ROR_SD}ror-commune-cog`, valueCodeableConcept: coded(TRE.commune, site.insee, commune.nom) }] }],
        ...(ej ? { partOf: { reference: `Organization/${ej.id}` } } : {}),
      } as Resource,
      eg,
    );
    site.offres.forEach(([code, display], j) => {
      const location = uuid(2, i, j);
      add(
        {
          resourceType: 'Location',
          meta: { profile: [PROFILE.location], tag: [REGION_TAG] },
          extension: [
            { url: EXT.communeCog, valueCodeableConcept: coded(TRE.commune, site.insee, commune.nom) },
            { url: EXT.metaCreationDate, valueDateTime: CREATED },
            capacity(['01', 'Installé'], 20 + 4 * i + 2 * j),
            capacity(['02', 'Disponible'], (3 * i + j) % 5, ['03', 'Indifférencié']),
          ],
          identifier: [{ type: coded(TRE.typeIdentifiantRessource, '25'), value: `11/${site.finess}-${j + 1}` }],
          status: 'active',
          name: `${display} — ${site.name}`,
          type: [coded(TRE.fonctionLieu, '001', 'Hébergement')],
          address: { city: commune.nom, country: 'FR' },
          // Units of a site sit a few hundred metres apart, around the commune's centre.
          position: { longitude: round(commune.longitude + 0.002 * j), latitude: round(commune.latitude + 0.001 * j) },
          managingOrganization: { reference: `urn:uuid:${eg}` },
        } as Resource,
        location,
      );
      add(
        {
          resourceType: 'HealthcareService',
          meta: { profile: [PROFILE.healthcareService], tag: [REGION_TAG] },
          extension: [
            { url: EXT.metaCreationDate, valueDateTime: CREATED },
            { url: EXT.sensitiveUnit, valueBoolean: false },
            { url: EXT.patientType, extension: [{ url: 'ageRange', valueRange: { low: age(code === '050' ? 75 : 18), high: age(120) } }] },
          ],
          identifier: [{ system: 'https://interop.esante.gouv.fr/ig/fhir/ror/identifiantOffre', value: `11-${site.finess}-${code}` }],
          active: true,
          name: `Hospitalisation complète de ${display.toLowerCase()}`,
          providedBy: { reference: `urn:uuid:${eg}` },
          type: [coded(TRE.champActivite, '01', 'Médecine, Chirurgie, Obstétrique (MCO)')],
          specialty: [coded(TRE.activiteOperationnelle, code, display)],
          characteristic: [coded(TRE.modePriseEnCharge, '28', 'Hospitalisation complète (HC)')],
          location: [{ reference: `urn:uuid:${location}` }],
        } as Resource,
        uuid(3, i, j),
      );
    });
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries };
  await withContext({ principal: PLATFORM }, () => processBundle(core, bundle));
  return entries.length;
}

const age = (value: number) => ({ value, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a' });
const round = (x: number) => Math.round(x * 1e5) / 1e5;
const uuid = (kind: number, i: number, j: number) => `0b0c0000-0000-4000-8000-${String(kind * 10_000 + i * 100 + j).padStart(12, '0')}`;
