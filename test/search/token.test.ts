// Token search parameters (R4 search.html#token): code, system|code, |code (no system), system|,
// :not (which includes resources without a value), :text (Coding.display and CodeableConcept.text),
// :of-type (Identifier type + value), booleans, ContactPoints, escaped commas; _id, _tag and _security.
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.ts';
import { httpFor, INS_SYSTEM, type Http } from '../support/fhir-client.ts';
import { expectIds, loadFixtures, q, type Fixture } from '../support/search-fixtures.ts';

const A = 'urn:socle:test:a';
const B = 'urn:socle:test:b';
const V2 = 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203';
const LOINC = 'http://loinc.org';
const TAGS = 'urn:socle:test:tags';
const CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

let server: TestServer;
let h: Http;

const FIXTURES: Fixture[] = [
  {
    resourceType: 'Patient',
    id: 't-ins',
    identifier: [
      { use: 'official', type: { coding: [{ system: V2, code: 'INS-NIR' }] }, system: INS_SYSTEM, value: '285077512345678' },
      { type: { coding: [{ system: V2, code: 'PI' }] }, system: 'urn:oid:1.2.250.1.71.4.2.7', value: '123' },
    ],
    gender: 'female',
    active: true,
    telecom: [{ system: 'phone', value: '+33 6 12 34 56 78', use: 'mobile' }, { system: 'email', value: 'camille@example.fr' }],
    meta: { tag: [{ system: TAGS, code: 'vip' }], security: [{ system: CONF, code: 'R' }] },
  },
  { resourceType: 'Patient', id: 't-a123', identifier: [{ system: A, value: '123' }, { system: A, value: '456' }], gender: 'male', active: false, meta: { tag: [{ system: TAGS, code: 'import' }] } },
  { resourceType: 'Patient', id: 't-a456', identifier: [{ system: A, value: '456' }], gender: 'other', meta: { tag: [{ system: 'urn:socle:test:other-tags', code: 'vip' }] } },
  { resourceType: 'Patient', id: 't-b123', identifier: [{ system: B, value: '123' }], gender: 'female', active: true, telecom: [{ system: 'phone', value: '+33 1 40 00 00 00' }] },
  { resourceType: 'Patient', id: 't-nosys', identifier: [{ value: '123' }], gender: 'unknown', meta: { security: [{ system: CONF, code: 'N' }] } },
  { resourceType: 'Patient', id: 't-comma', identifier: [{ system: A, value: 'x,y' }] },
  { resourceType: 'Patient', id: 't-case', identifier: [{ system: A, value: 'ABC' }] },
  {
    resourceType: 'Observation',
    id: 't-glu',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '15074-8', display: 'Glucose [Moles/volume] in Blood' }], text: 'Glycémie à jeun' },
    subject: { reference: 'Patient/t-ins' },
  },
  {
    resourceType: 'Observation',
    id: 't-hba1c',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood' }] },
    subject: { reference: 'Patient/t-a123' },
  },
  {
    resourceType: 'Observation',
    id: 't-local',
    status: 'preliminary',
    code: { coding: [{ code: '15074-8' }, { system: 'urn:socle:test:local-codes', code: 'GLY' }], text: 'Glucose local' },
    subject: { reference: 'Patient/t-b123' },
  },
  { resourceType: 'Observation', id: 't-textonly', status: 'final', code: { text: 'Glycémie capillaire' } },
];

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
  await loadFixtures(h, FIXTURES);
});
after(async () => {
  await server?.close();
});

describe('token: system and code', () => {
  test('code alone matches in every system, and identifiers without system', async () => {
    await expectIds(h, 'Patient?identifier=123', ['t-a123', 't-b123', 't-ins', 't-nosys']);
  });

  test('system|code matches that system only', async () => {
    await expectIds(h, `Patient?identifier=${q(`${A}|123`)}`, ['t-a123']);
    await expectIds(h, `Patient?identifier=${q(`${INS_SYSTEM}|285077512345678`)}`, ['t-ins']);
    await expectIds(h, `Patient?identifier=${q(`${B}|456`)}`, []);
  });

  test('|code matches identifiers that have no system', async () => {
    await expectIds(h, 'Patient?identifier=%7C123', ['t-nosys']);
  });

  test('system| matches any code of that system', async () => {
    await expectIds(h, `Patient?identifier=${q(`${A}|`)}`, ['t-a123', 't-a456', 't-case', 't-comma']);
    await expectIds(h, `Patient?identifier=${q(`${B}|`)}`, ['t-b123']);
  });

  test('codes are compared exactly (case-sensitive)', async () => {
    await expectIds(h, `Patient?identifier=${q(`${A}|ABC`)}`, ['t-case']);
    await expectIds(h, `Patient?identifier=${q(`${A}|abc`)}`, []);
  });

  test('OR with commas, AND with repeated parameters (on different identifiers of one resource)', async () => {
    await expectIds(h, `Patient?identifier=${q(`${A}|456`)},${q(`${B}|123`)}`, ['t-a123', 't-a456', 't-b123']);
    await expectIds(h, `Patient?identifier=${q(`${A}|123`)}&identifier=${q(`${A}|456`)}`, ['t-a123']);
    await expectIds(h, `Patient?identifier=${q(`${A}|123`)}&identifier=${q(`${B}|123`)}`, []);
  });

  test('an escaped comma is part of the code', async () => {
    await expectIds(h, `Patient?identifier=${q(`${A}|x\\,y`)}`, ['t-comma']);
    await expectIds(h, `Patient?identifier=${q(`${A}|x`)},y`, []);
  });

  test('CodeableConcept codes: code, system|code, |code', async () => {
    await expectIds(h, 'Observation?code=15074-8', ['t-glu', 't-local']);
    await expectIds(h, `Observation?code=${q(`${LOINC}|15074-8`)}`, ['t-glu']);
    await expectIds(h, 'Observation?code=%7C15074-8', ['t-local']);
    await expectIds(h, `Observation?code=${q('urn:socle:test:local-codes|GLY')},${q(`${LOINC}|4548-4`)}`, ['t-hba1c', 't-local']);
    await expectIds(h, 'Observation?status=final', ['t-glu', 't-hba1c', 't-textonly']);
  });

  test('booleans: active=true / active=false; resources without the element match neither', async () => {
    await expectIds(h, 'Patient?active=true', ['t-b123', 't-ins']);
    await expectIds(h, 'Patient?active=false', ['t-a123']);
  });

  test('ContactPoint: telecom, phone and email', async () => {
    await expectIds(h, `Patient?phone=${q('+33 6 12 34 56 78')}`, ['t-ins']);
    await expectIds(h, `Patient?telecom=${q('phone|+33 1 40 00 00 00')}`, ['t-b123']);
    await expectIds(h, `Patient?email=${q('camille@example.fr')}`, ['t-ins']);
    await expectIds(h, `Patient?phone=${q('camille@example.fr')}`, []);
  });
});

describe('token: modifiers', () => {
  test(':not excludes the code and includes resources with no value', async () => {
    await expectIds(h, 'Patient?gender:not=female', ['t-a123', 't-a456', 't-case', 't-comma', 't-nosys']);
    await expectIds(h, 'Patient?gender:not=male&gender:not=female', ['t-a456', 't-case', 't-comma', 't-nosys']);
    await expectIds(h, `Observation?code:not=${q(`${LOINC}|15074-8`)}`, ['t-hba1c', 't-local', 't-textonly']);
  });

  test(':text matches Coding.display and CodeableConcept.text (case-insensitive, starts-with)', async () => {
    await expectIds(h, 'Observation?code:text=glucose', ['t-glu', 't-local']);
    await expectIds(h, 'Observation?code:text=HEMOGLOBIN', ['t-hba1c']);
    // CodeableConcept.text, also when the codings have a display of their own
    await expectIds(h, `Observation?code:text=${q('GLYCÉMIE')}`, ['t-glu', 't-textonly']);
  });

  test(':of-type matches Identifier.type coding and value together', async () => {
    await expectIds(h, `Patient?identifier:of-type=${q(`${V2}|INS-NIR|285077512345678`)}`, ['t-ins']);
    await expectIds(h, `Patient?identifier:of-type=${q(`${V2}|PI|123`)}`, ['t-ins']);
    // the type of one identifier with the value of another does not match
    await expectIds(h, `Patient?identifier:of-type=${q(`${V2}|INS-NIR|123`)}`, []);
    await expectIds(h, `Patient?identifier:of-type=${q(`${V2}|PI|285077512345678`)}`, []);
  });
});

describe('token: _id, _tag, _security', () => {
  test('_id with one and several ids', async () => {
    await expectIds(h, 'Patient?_id=t-ins', ['t-ins']);
    await expectIds(h, 'Patient?_id=t-ins,t-b123,does-not-exist', ['t-b123', 't-ins']);
    await expectIds(h, 'Patient?_id=t-glu', []); // an Observation id
  });

  test('_tag: system|code, code alone, :not', async () => {
    await expectIds(h, `Patient?_tag=${q(`${TAGS}|vip`)}`, ['t-ins']);
    await expectIds(h, 'Patient?_tag=vip', ['t-a456', 't-ins']);
    await expectIds(h, `Patient?_tag=${q(`${TAGS}|`)}`, ['t-a123', 't-ins']);
    await expectIds(h, `Patient?_tag:not=${q(`${TAGS}|vip`)}`, ['t-a123', 't-a456', 't-b123', 't-case', 't-comma', 't-nosys']);
  });

  test('_security', async () => {
    await expectIds(h, `Patient?_security=${q(`${CONF}|R`)}`, ['t-ins']);
    await expectIds(h, `Patient?_security=${q(`${CONF}|R`)},${q(`${CONF}|N`)}`, ['t-ins', 't-nosys']);
    await expectIds(h, `Patient?_security=${q(`${CONF}|V`)}`, []);
  });
});
