// uri parameters (exact, :below, :above), _profile and _source; R4 composite parameters
// (Observation code-value-quantity, component-code-value-quantity, combo-code-value-quantity,
// code-value-concept); :missing=true|false on every parameter type.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.ts';
import { httpFor, type Http } from '../support/fhir-client.ts';
import { expectIds, ids, loadFixtures, q, type Fixture } from '../support/search-fixtures.ts';

const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const VS = 'https://mos.esante.gouv.fr/NOS/ValueSet';
const FR_PATIENT = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient';
const FR_PATIENT_INS = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins';

let server: TestServer;
let h: Http;

const vs = (id: string, url?: string): Fixture => ({ resourceType: 'ValueSet', id, status: 'active', ...(url ? { url } : {}) }) as Fixture;
const qty = (value: number, code: string) => ({ value, unit: code, system: UCUM, code });
const obs = (id: string, loinc: string, extra: Record<string, unknown> = {}): Fixture =>
  ({ resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: LOINC, code: loinc }] }, ...extra }) as Fixture;
const component = (loinc: string, value: number) => ({ code: { coding: [{ system: LOINC, code: loinc }] }, valueQuantity: qty(value, 'mm[Hg]') });

const FIXTURES: Fixture[] = [
  vs('vs-a', `${VS}/JDV_A`),
  vs('vs-a-b', `${VS}/JDV_A_B`),
  vs('vs-sub', `${VS}/sub`),
  vs('vs-sub-c', `${VS}/sub/JDV_C`),
  vs('vs-other-root', 'https://mos.esante.gouv.fr/NOS/ValueSetX/JDV_D'),
  vs('vs-other-host', 'https://example.org/NOS/ValueSet/JDV_A'),
  vs('vs-nourl'),
  { resourceType: 'Patient', id: 'u-fr', meta: { profile: [FR_PATIENT], source: 'https://dpi.chu-exemple.fr/fhir#lot-42' } } as Fixture,
  { resourceType: 'Patient', id: 'u-ins', meta: { profile: [FR_PATIENT, FR_PATIENT_INS], source: 'urn:oid:1.2.250.1.213.1.4.8' } } as Fixture,
  { resourceType: 'Patient', id: 'u-plain' } as Fixture,
  // composite
  obs('c-glu-54', '15074-8', { valueQuantity: qty(5.4, 'mmol/L') }),
  obs('c-glu-70', '15074-8', { valueQuantity: qty(7.0, 'mmol/L') }),
  obs('c-hba1c-70', '4548-4', { valueQuantity: qty(7.0, '%') }),
  obs('c-bp-120-80', '85354-9', { component: [component('8480-6', 120), component('8462-4', 80)] }),
  obs('c-bp-150-95', '85354-9', { component: [component('8480-6', 150), component('8462-4', 95)] }),
  obs('c-abo', '882-1', { valueCodeableConcept: { coding: [{ system: SCT, code: '278149003', display: 'Blood group A Rh(D) positive' }] } }),
  obs('c-abo-neg', '882-1', { valueCodeableConcept: { coding: [{ system: SCT, code: '278152006', display: 'Blood group A Rh(D) negative' }] } }),
  // :missing
  {
    resourceType: 'Patient',
    id: 'm-full',
    name: [{ family: 'Complet', given: ['Anne'] }],
    gender: 'female',
    birthDate: '1970-01-01',
    telecom: [{ system: 'phone', value: '0102030405' }],
    generalPractitioner: [{ reference: 'Practitioner/m-doc' }],
  } as Fixture,
  { resourceType: 'Patient', id: 'm-partial', name: [{ family: 'Partiel' }] } as Fixture,
  { resourceType: 'Practitioner', id: 'm-doc', name: [{ family: 'Médecin' }] } as Fixture,
  { resourceType: 'RiskAssessment', id: 'm-risk', status: 'final', subject: { reference: 'Patient/m-full' }, prediction: [{ probabilityDecimal: 0.3 }] } as Fixture,
  { resourceType: 'RiskAssessment', id: 'm-risk-none', status: 'final', subject: { reference: 'Patient/m-full' } } as Fixture,
];

const ALL_PATIENTS = ['m-full', 'm-partial', 'u-fr', 'u-ins', 'u-plain'];
const ALL_OBS = ['c-abo', 'c-abo-neg', 'c-bp-120-80', 'c-bp-150-95', 'c-glu-54', 'c-glu-70', 'c-hba1c-70'];

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
  await loadFixtures(h, FIXTURES);
});
after(async () => {
  await server?.close();
});

describe('uri', () => {
  test('exact match by default (no prefix matching)', async () => {
    await expectIds(h, `ValueSet?url=${q(`${VS}/JDV_A`)}`, ['vs-a']);
    await expectIds(h, `ValueSet?url=${q(`${VS}/JDV`)}`, []);
    await expectIds(h, `ValueSet?url=${q(`${VS}/JDV_A`)},${q(`${VS}/sub`)}`, ['vs-a', 'vs-sub']);
  });

  test(':below matches the URI and every URI under it', async () => {
    await expectIds(h, `ValueSet?url:below=${q(`${VS}/`)}`, ['vs-a', 'vs-a-b', 'vs-sub', 'vs-sub-c']);
    await expectIds(h, `ValueSet?url:below=${q(`${VS}/sub`)}`, ['vs-sub', 'vs-sub-c']);
    await expectIds(h, `ValueSet?url:below=${q('https://example.org/')}`, ['vs-other-host']);
  });

  test(':above matches the URI and every URI it is under', async () => {
    await expectIds(h, `ValueSet?url:above=${q(`${VS}/sub/JDV_C/v2`)}`, ['vs-sub', 'vs-sub-c']);
    await expectIds(h, `ValueSet?url:above=${q(`${VS}/JDV_A`)}`, ['vs-a']);
  });

  test('LIKE wildcards in a uri are literal', async () => {
    await expectIds(h, `ValueSet?url:below=${q('https://mos.esante.gouv.fr/NOS/ValueSet_')}`, []);
    await expectIds(h, `ValueSet?url:below=${q('%')}`, []);
  });

  test('_profile (canonical) matches any of meta.profile', async () => {
    await expectIds(h, `Patient?_profile=${q(FR_PATIENT)}`, ['u-fr', 'u-ins']);
    await expectIds(h, `Patient?_profile=${q(FR_PATIENT_INS)}`, ['u-ins']);
    await expectIds(h, `Patient?_profile=${q('https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core')}`, []);
  });

  test('_source matches meta.source', async () => {
    await expectIds(h, `Patient?_source=${q('https://dpi.chu-exemple.fr/fhir#lot-42')}`, ['u-fr']);
    await expectIds(h, `Patient?_source=${q('urn:oid:1.2.250.1.213.1.4.8')}`, ['u-ins']);
    await expectIds(h, `Patient?_source=${q('https://dpi.chu-exemple.fr/fhir')}`, []);
  });
});

describe('composite (R4)', () => {
  test('code-value-quantity: code and value of the same Observation', async () => {
    await expectIds(h, `Observation?code-value-quantity=${q(`${LOINC}|15074-8$gt6`)}`, ['c-glu-70']);
    await expectIds(h, `Observation?code-value-quantity=${q(`${LOINC}|15074-8$5.4|${UCUM}|mmol/L`)}`, ['c-glu-54']);
    await expectIds(h, `Observation?code-value-quantity=${q(`${LOINC}|4548-4$7`)}`, ['c-hba1c-70']);
  });

  test('code-value-quantity: OR of composite values', async () => {
    await expectIds(h, `Observation?code-value-quantity=${q(`${LOINC}|15074-8$gt6`)},${q(`${LOINC}|4548-4$7`)}`, ['c-glu-70', 'c-hba1c-70']);
  });

  test('component-code-value-quantity: code and value of the same component', async () => {
    await expectIds(h, `Observation?component-code-value-quantity=${q(`${LOINC}|8480-6$gt130`)}`, ['c-bp-150-95']);
    await expectIds(h, `Observation?component-code-value-quantity=${q(`${LOINC}|8462-4$80`)}`, ['c-bp-120-80']);
    // 80 is the diastolic value: the systolic component of that Observation is 120
    await expectIds(h, `Observation?component-code-value-quantity=${q(`${LOINC}|8480-6$80`)}`, []);
  });

  test('combo-code-value-quantity: the Observation or one of its components', async () => {
    await expectIds(h, `Observation?combo-code-value-quantity=${q(`${LOINC}|8462-4$95`)}`, ['c-bp-150-95']);
    await expectIds(h, `Observation?combo-code-value-quantity=${q(`${LOINC}|15074-8$lt6`)}`, ['c-glu-54']);
  });

  test('code-value-concept', async () => {
    await expectIds(h, `Observation?code-value-concept=${q(`${LOINC}|882-1$${SCT}|278149003`)}`, ['c-abo']);
    await expectIds(h, `Observation?code-value-concept=${q(`${LOINC}|15074-8$${SCT}|278149003`)}`, []);
  });
});

describe(':missing', () => {
  test('string', async () => {
    await expectIds(h, 'Patient?family:missing=true', ['u-fr', 'u-ins', 'u-plain']);
    await expectIds(h, 'Patient?family:missing=false', ['m-full', 'm-partial']);
    await expectIds(h, 'Patient?given:missing=false', ['m-full']);
  });

  test('token', async () => {
    await expectIds(h, 'Patient?gender:missing=true', ALL_PATIENTS.filter((p) => p !== 'm-full'));
    await expectIds(h, 'Patient?gender:missing=false', ['m-full']);
    await expectIds(h, 'Patient?phone:missing=false', ['m-full']);
  });

  test('date', async () => {
    await expectIds(h, 'Patient?birthdate:missing=true', ALL_PATIENTS.filter((p) => p !== 'm-full'));
    await expectIds(h, 'Patient?birthdate:missing=false', ['m-full']);
  });

  test('reference', async () => {
    await expectIds(h, 'Patient?general-practitioner:missing=false', ['m-full']);
    await expectIds(h, 'Patient?general-practitioner:missing=true', ALL_PATIENTS.filter((p) => p !== 'm-full'));
  });

  test('number', async () => {
    await expectIds(h, 'RiskAssessment?probability:missing=true', ['m-risk-none']);
    await expectIds(h, 'RiskAssessment?probability:missing=false', ['m-risk']);
  });

  test('quantity', async () => {
    await expectIds(h, 'Observation?value-quantity:missing=false', ['c-glu-54', 'c-glu-70', 'c-hba1c-70']);
    await expectIds(h, 'Observation?value-quantity:missing=true', ['c-abo', 'c-abo-neg', 'c-bp-120-80', 'c-bp-150-95']);
    await expectIds(h, 'Observation?component-value-quantity:missing=false', ['c-bp-120-80', 'c-bp-150-95']);
  });

  test('uri, including _profile and _source', async () => {
    // the platform may hold ValueSets of its own (terminology): only this file's ValueSets are compared
    const mine = (list: string[]) => list.filter((id) => id.startsWith('vs-'));
    assert.deepEqual(mine(await ids(h, 'ValueSet?url:missing=true')), ['vs-nourl']);
    assert.deepEqual(mine(await ids(h, 'ValueSet?url:missing=false')), ['vs-a', 'vs-a-b', 'vs-other-host', 'vs-other-root', 'vs-sub', 'vs-sub-c']);
    await expectIds(h, 'Patient?_profile:missing=false', ['u-fr', 'u-ins']);
    await expectIds(h, 'Patient?_source:missing=true', ['m-full', 'm-partial', 'u-plain']);
  });

  test('composite', async () => {
    await expectIds(h, 'Observation?code-value-concept:missing=false', ['c-abo', 'c-abo-neg']);
    await expectIds(h, 'Observation?code-value-quantity:missing=true', ALL_OBS.filter((o) => !['c-glu-54', 'c-glu-70', 'c-hba1c-70'].includes(o)));
  });

  test(':missing combined with another criterion', async () => {
    await expectIds(h, 'Patient?family=partiel&birthdate:missing=true', ['m-partial']);
    await expectIds(h, 'Patient?family=complet&birthdate:missing=true', []);
  });
});
