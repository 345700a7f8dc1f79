// The demo data set loaded by `npm start` into an empty store: a small region (structures,
// professionals, patients with a test INS, a few observations), deterministic so that screenshots,
// tutorials and tests see the same records. Written through the FHIR core, so it is validated.
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { withContext } from '../access/context.ts';
import { PLATFORM } from '../access/principal.ts';
import type { FhirCore } from '../fhir/core.ts';
import { Alea } from '../referentiels/ins/alea.ts';
import { OID_INS_NIR_TEST, SYSTEME_TYPE_IDENTIFIANT } from '../referentiels/ins/oids.ts';
import { genererPopulation } from '../referentiels/ins/population.ts';

export const DEMO_TAG = { system: 'https://socle.esante.example/fhir/CodeSystem/jeu', code: 'demo' };
const RPPS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';
const FINESS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.2';
const PROFESSION = 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante';

const STRUCTURES = [
  { finess: '750712184', name: 'Hôpital Saint-Antoine', city: 'Paris', postalCode: '75012' },
  { finess: '690781810', name: 'Hôpital Édouard Herriot', city: 'Lyon', postalCode: '69003' },
  { finess: '130783236', name: 'Hôpital de la Timone', city: 'Marseille', postalCode: '13005' },
  { finess: '330781196', name: 'Hôpital Pellegrin', city: 'Bordeaux', postalCode: '33000' },
  { finess: '590780193', name: 'Hôpital Claude Huriez', city: 'Lille', postalCode: '59000' },
  { finess: '350005179', name: 'Centre hospitalier Pontchaillou', city: 'Rennes', postalCode: '35000' },
];

const PROFESSIONS = [
  { code: '10', display: 'Médecin' },
  { code: '60', display: 'Infirmier' },
  { code: '21', display: 'Pharmacien' },
  { code: '50', display: 'Sage-Femme' },
  { code: '70', display: 'Masseur-Kinésithérapeute' },
];

export interface DemoCounts {
  Organization: number;
  Practitioner: number;
  PractitionerRole: number;
  Patient: number;
  Observation: number;
}

/** Loads the demo set unless the store already holds data. Returns what was loaded, or undefined. */
export async function seedDemo(core: FhirCore, patients = 120): Promise<DemoCounts | undefined> {
  // Modules load their reference data (terminologies…) at start: the demo is loaded when no
  // patient nor professional exists yet.
  const { rows } = await core.db.query<{ n: number }>('SELECT (SELECT count(*) FROM "Patient") + (SELECT count(*) FROM "Practitioner") AS n');
  if (Number(rows[0].n) > 0) return undefined;
  const entries = demoEntries(patients);
  const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries };
  const { processBundle } = await import('../fhir/rest/transaction.ts');
  await withContext({ principal: PLATFORM }, () => processBundle(core, bundle));
  const counts = { Organization: 0, Practitioner: 0, PractitionerRole: 0, Patient: 0, Observation: 0 } as DemoCounts;
  for (const e of entries) counts[e.resource!.resourceType as keyof DemoCounts]++;
  return counts;
}

export function demoEntries(patientCount: number): BundleEntry[] {
  const alea = new Alea('socle-demo');
  const entries: BundleEntry[] = [];
  const add = (resource: Resource, key: string) =>
    entries.push({ fullUrl: `urn:uuid:${key}`, resource: { ...resource, meta: { tag: [DEMO_TAG] } } as Resource, request: { method: 'POST', url: resource.resourceType } });

  STRUCTURES.forEach((s, i) => {
    add(
      {
        resourceType: 'Organization',
        identifier: [{ system: FINESS_SYSTEM, value: `1${s.finess}`, type: { coding: [{ system: SYSTEME_TYPE_IDENTIFIANT, code: 'IDNST' }] } }],
        active: true,
        name: s.name,
        address: [{ city: s.city, postalCode: s.postalCode, country: 'FR' }],
      },
      uuid(1, i),
    );
  });

  const people = genererPopulation({ graine: 'socle-demo-ps', nombre: 48, partHomonymes: 0 });
  let p = 0;
  for (const person of people) {
    const rpps = `10${String(100_000_000 + p * 7919).slice(-9)}`;
    const profession = PROFESSIONS[p % PROFESSIONS.length];
    add(
      {
        resourceType: 'Practitioner',
        identifier: [{ system: RPPS_SYSTEM, value: `8${rpps}`, type: { coding: [{ system: SYSTEME_TYPE_IDENTIFIANT, code: 'IDNPS' }] } }],
        active: true,
        name: [{ family: titleCase(person.nomNaissance), given: [titleCase(person.prenoms[0])], ...(profession.code === '10' ? { prefix: ['Dr'] } : {}) }],
        gender: person.sexe === 'F' ? 'female' : 'male',
        qualification: [{ code: { coding: [{ system: PROFESSION, code: profession.code, display: profession.display }] } }],
      },
      uuid(2, p),
    );
    const structure = alea.entier(STRUCTURES.length);
    add(
      {
        resourceType: 'PractitionerRole',
        active: true,
        practitioner: { reference: `urn:uuid:${uuid(2, p)}` },
        organization: { reference: `urn:uuid:${uuid(1, structure)}` },
        code: [{ coding: [{ system: PROFESSION, code: profession.code, display: profession.display }] }],
        period: { start: `20${10 + (p % 14)}-0${1 + (p % 9)}-01` },
      },
      uuid(3, p),
    );
    p++;
  }

  let n = 0;
  for (const person of genererPopulation({ graine: 'socle-demo', nombre: patientCount, oid: OID_INS_NIR_TEST })) {
    add(
      {
        resourceType: 'Patient',
        identifier: [
          {
            use: 'official',
            system: `urn:oid:${OID_INS_NIR_TEST}`,
            value: person.nir,
            type: { coding: [{ system: SYSTEME_TYPE_IDENTIFIANT, code: 'INS-NIR-TEST' }] },
          },
        ],
        name: [{ use: 'official', family: person.nomNaissance, given: person.prenoms }],
        gender: person.sexe === 'F' ? 'female' : 'male',
        birthDate: person.dateNaissance,
      },
      uuid(4, n),
    );
    if (n % 3 === 0) {
      const weight = 50 + alea.entier(50);
      add(
        {
          resourceType: 'Observation',
          status: 'final',
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
          code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }] },
          subject: { reference: `urn:uuid:${uuid(4, n)}` },
          effectiveDateTime: `2026-0${1 + (n % 9)}-1${n % 10}T09:30:00+01:00`,
          valueQuantity: { value: weight, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
        },
        uuid(5, n),
      );
    }
    n++;
  }
  return entries;
}

/** Deterministic UUIDs for the demo's urn:uuid references (version nibble 4, variant 8). */
function uuid(kind: number, i: number): string {
  const hex = (kind * 1_000_000 + i).toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

const titleCase = (s: string) => s.toLowerCase().replace(/(^|[\s'-])(\p{L})/gu, (_, sep, c) => sep + c.toUpperCase());
