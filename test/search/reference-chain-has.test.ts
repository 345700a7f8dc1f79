// Reference search parameters (R4 search.html#reference): by id, Type/id, absolute URL (of this
// server and of another one), :Type modifier, :identifier; chained parameters over one, two and
// three levels (with and without a type modifier); reverse chaining _has, nested _has and _has
// combined with chains; deleted targets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.ts';
import { httpFor, RPPS_SYSTEM, type Http } from '../support/fhir-client.ts';
import { expectIds, loadFixtures, q, type Fixture } from '../support/search-fixtures.ts';

const FINESS = 'urn:oid:1.2.250.1.71.4.2.2';
const LOINC = 'http://loinc.org';
const GLU = `${LOINC}|15074-8`;
const HBA1C = `${LOINC}|4548-4`;
const LIPID = `${LOINC}|24331-1`;
const GLU_SERUM = `${LOINC}|2345-7`;

let server: TestServer;
let h: Http;

const ref = (reference: string) => ({ reference });
const obs = (id: string, code: string, subject: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): Fixture =>
  ({
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: LOINC, code: code.split('|')[1] }] },
    ...(subject ? { subject } : {}),
    ...extra,
  }) as Fixture;

const FIXTURES: Fixture[] = [
  { resourceType: 'Organization', id: 'org-aphp', name: 'Assistance Publique - Hôpitaux de Paris', alias: ['AP-HP'], identifier: [{ system: FINESS, value: '750712184' }] },
  { resourceType: 'Organization', id: 'org-necker', name: 'Hôpital Necker-Enfants malades', partOf: ref('Organization/org-aphp'), identifier: [{ system: FINESS, value: '750100208' }] },
  { resourceType: 'Organization', id: 'org-cochin', name: 'Hôpital Cochin', partOf: ref('Organization/org-aphp') },
  { resourceType: 'Organization', id: 'org-pasteur', name: 'Clinique Pasteur', identifier: [{ system: FINESS, value: '310780382' }] },
  { resourceType: 'Organization', id: 'org-hcl', name: 'Hospices Civils de Lyon' },
  { resourceType: 'Organization', id: 'org-edouard', name: 'Hôpital Édouard Herriot', partOf: ref('Organization/org-hcl') },
  { resourceType: 'Practitioner', id: 'pr-alice', name: [{ family: 'Durand', given: ['Alice'] }], identifier: [{ system: RPPS_SYSTEM, value: '810000000001' }] },
  { resourceType: 'Practitioner', id: 'pr-bruno', name: [{ family: 'Petit', given: ['Bruno'] }], identifier: [{ system: RPPS_SYSTEM, value: '810000000002' }] },
  { resourceType: 'Practitioner', id: 'pr-chloe', name: [{ family: 'Roux', given: ['Chloé'] }], identifier: [{ system: RPPS_SYSTEM, value: '810000000003' }] },
  { resourceType: 'PractitionerRole', id: 'role-1', practitioner: ref('Practitioner/pr-alice'), organization: ref('Organization/org-necker') },
  { resourceType: 'PractitionerRole', id: 'role-2', practitioner: ref('Practitioner/pr-bruno'), organization: ref('Organization/org-pasteur') },
  { resourceType: 'PractitionerRole', id: 'role-3', practitioner: ref('Practitioner/pr-bruno'), organization: ref('Organization/org-cochin') },
  { resourceType: 'PractitionerRole', id: 'role-4', practitioner: ref('Practitioner/pr-chloe'), organization: { identifier: { system: FINESS, value: '750100208' }, display: 'Necker' } },
  { resourceType: 'PractitionerRole', id: 'role-5', practitioner: ref('Practitioner/pr-chloe'), organization: ref('Organization/org-edouard') },
  { resourceType: 'Patient', id: 'pat-lea', name: [{ family: 'Martin', given: ['Léa'] }], birthDate: '1990-02-03', generalPractitioner: [ref('Practitioner/pr-alice')], managingOrganization: ref('Organization/org-necker') },
  { resourceType: 'Patient', id: 'pat-hugo', name: [{ family: 'Bernard', given: ['Hugo'] }], generalPractitioner: [ref('Practitioner/pr-bruno')] },
  { resourceType: 'Patient', id: 'pat-jules', name: [{ family: 'Martin', given: ['Jules'] }], generalPractitioner: [ref('Organization/org-pasteur')] },
  { resourceType: 'Patient', id: 'pat-ines', name: [{ family: 'Moreau', given: ['Inès'] }], generalPractitioner: [ref('PractitionerRole/role-5')] },
  { resourceType: 'Patient', id: 'pat-solo', name: [{ family: 'Solo', given: ['Han'] }] },
  { resourceType: 'Patient', id: 'pat-gone', name: [{ family: 'Supprimé', given: ['Paul'] }] },
  { resourceType: 'Group', id: 'grp-1', type: 'person', actual: true, name: 'Martin family' },
  obs('obs-1', GLU, ref('Patient/pat-lea')),
  obs('obs-2', HBA1C, ref('Patient/pat-hugo')),
  obs('obs-3', HBA1C, ref('Patient/pat-lea')),
  obs('obs-4', GLU, ref('http://other.example.org/fhir/Patient/ext-1')),
  obs('obs-5', GLU, ref('Group/grp-1')),
  obs('obs-6', GLU, ref('Patient/pat-jules'), { performer: [ref('Practitioner/pr-alice')] }),
  obs('obs-7', GLU, ref('Patient/pat-gone')),
  obs('obs-8', HBA1C, ref('Patient/pat-ines'), { performer: [ref('PractitionerRole/role-1')] }),
  obs('obs-9', GLU, undefined),
  // the same id as a local patient, on another server: not the local pat-solo
  obs('obs-solo', GLU_SERUM, ref('Patient/pat-solo')),
  obs('obs-ext', GLU_SERUM, ref('http://other.example.org/fhir/Patient/pat-solo')),
  {
    resourceType: 'DiagnosticReport',
    id: 'dr-1',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '24331-1' }] },
    subject: ref('Patient/pat-lea'),
    result: [ref('Observation/obs-3')],
  },
  {
    resourceType: 'DiagnosticReport',
    id: 'dr-2',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '4548-4' }] },
    subject: ref('Patient/pat-hugo'),
    result: [ref('Observation/obs-2')],
  },
];

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
  await loadFixtures(h, FIXTURES);
  const del = await h.delete('Patient/pat-gone');
  assert.ok([200, 204].includes(del.status), `delete: ${del.status} ${del.text}`);
});
after(async () => {
  await server?.close();
});

describe('reference', () => {
  test('by id, by Type/id and by absolute URL of this server', async () => {
    await expectIds(h, 'Observation?subject=pat-lea', ['obs-1', 'obs-3']);
    await expectIds(h, 'Observation?subject=Patient/pat-lea', ['obs-1', 'obs-3']);
    await expectIds(h, `Observation?subject=${q(`${server.fhirUrl}/Patient/pat-lea`)}`, ['obs-1', 'obs-3']);
  });

  test('an absolute URL of another server matches that URL only', async () => {
    await expectIds(h, `Observation?subject=${q('http://other.example.org/fhir/Patient/ext-1')}`, ['obs-4']);
    await expectIds(h, `Observation?subject=${q('http://other.example.org/fhir/Patient/pat-solo')}`, ['obs-ext']);
  });

  test('a reference to another server is not a reference to the local resource with the same id', async () => {
    await expectIds(h, 'Observation?subject=pat-solo', ['obs-solo']);
    await expectIds(h, 'Observation?subject=Patient/pat-solo', ['obs-solo']);
    await expectIds(h, 'Observation?subject:Patient.family=solo', ['obs-solo']);
    await expectIds(h, `Patient?_has:Observation:subject:code=${q(GLU_SERUM)}`, ['pat-solo']);
    await expectIds(h, 'Observation?subject=ext-1', []);
  });

  test(':Type restricts the target type; Type/id of another type matches nothing', async () => {
    await expectIds(h, 'Observation?subject:Patient=pat-lea', ['obs-1', 'obs-3']);
    await expectIds(h, 'Observation?subject:Group=grp-1', ['obs-5']);
    await expectIds(h, 'Observation?subject:Group=pat-lea', []);
    await expectIds(h, 'Observation?subject=Group/pat-lea', []);
    await expectIds(h, 'Observation?subject=grp-1', ['obs-5']);
  });

  test('patient is subject restricted to Patient', async () => {
    await expectIds(h, 'Observation?patient=pat-lea', ['obs-1', 'obs-3']);
    await expectIds(h, 'Observation?patient=grp-1', []);
  });

  test('OR with commas, AND with repeated parameters', async () => {
    await expectIds(h, 'Observation?subject=Patient/pat-lea,Patient/pat-hugo', ['obs-1', 'obs-2', 'obs-3']);
    await expectIds(h, 'Observation?subject=pat-lea&code=' + q(HBA1C), ['obs-3']);
    await expectIds(h, 'Observation?subject=pat-lea&subject=pat-hugo', []);
  });

  test('a reference to a deleted resource still matches by id', async () => {
    await expectIds(h, 'Observation?subject=Patient/pat-gone', ['obs-7']);
  });

  test(':identifier matches Reference.identifier', async () => {
    await expectIds(h, `PractitionerRole?organization:identifier=${q(`${FINESS}|750100208`)}`, ['role-4']);
    await expectIds(h, `PractitionerRole?organization:identifier=${q(`${FINESS}|310780382`)}`, []); // role-2 references it by literal reference only
  });
});

describe('chained parameters', () => {
  test('one level, with the type modifier, without it, and through patient', async () => {
    await expectIds(h, 'Observation?subject:Patient.family=martin', ['obs-1', 'obs-3', 'obs-6']);
    await expectIds(h, 'Observation?subject.family=martin', ['obs-1', 'obs-3', 'obs-6']);
    await expectIds(h, 'Observation?patient.family=martin', ['obs-1', 'obs-3', 'obs-6']);
    await expectIds(h, `Observation?subject:Patient.name=${q('léa')}`, ['obs-1', 'obs-3']);
    await expectIds(h, 'Observation?subject:Group.type=person', ['obs-5']);
  });

  test('a chain does not reach deleted resources', async () => {
    await expectIds(h, 'Observation?subject:Patient.family=supprime', []);
    await expectIds(h, 'Observation?subject:Patient.family=moreau', ['obs-8']); // control
  });

  test('chain on an identifier (token) and on a date', async () => {
    await expectIds(h, `PractitionerRole?practitioner.identifier=${q(`${RPPS_SYSTEM}|810000000002`)}`, ['role-2', 'role-3']);
    await expectIds(h, 'Observation?subject:Patient.birthdate=1990', ['obs-1', 'obs-3']);
  });

  test('two chains ANDed, and a chain ANDed with a plain parameter', async () => {
    await expectIds(h, `PractitionerRole?practitioner.identifier=${q(`${RPPS_SYSTEM}|810000000002`)}&organization.name=clinique`, ['role-2']);
    await expectIds(h, `Observation?subject:Patient.family=martin&code=${q(GLU)}`, ['obs-1', 'obs-6']);
  });

  test('OR values in a chain', async () => {
    await expectIds(h, 'Observation?subject:Patient.family=bernard,moreau', ['obs-2', 'obs-8']);
  });

  test('two levels: PractitionerRole?organization.partof.name', async () => {
    await expectIds(h, 'PractitionerRole?organization.partof.name=assistance', ['role-1', 'role-3']);
    await expectIds(h, 'PractitionerRole?organization.partof.name=ap-hp', ['role-1', 'role-3']); // alias
    await expectIds(h, 'PractitionerRole?organization:Organization.partof:Organization.name=hospices', ['role-5']);
    await expectIds(h, `PractitionerRole?organization.partof.identifier=${q(`${FINESS}|750712184`)}`, ['role-1', 'role-3']);
  });

  test('two levels: Observation?subject:Patient.general-practitioner.name (targets of several types)', async () => {
    await expectIds(h, 'Observation?subject:Patient.general-practitioner.name=alice', ['obs-1', 'obs-3']);
    await expectIds(h, 'Observation?subject:Patient.general-practitioner:Practitioner.name=bruno', ['obs-2']);
    // general-practitioner may be an Organization: its name is searched too
    await expectIds(h, 'Observation?subject:Patient.general-practitioner.name=clinique', ['obs-6']);
    await expectIds(h, 'Observation?subject:Patient.general-practitioner:Practitioner.name=clinique', []);
  });

  test('three levels: patient → general practitioner role → organization → name', async () => {
    await expectIds(h, `Observation?subject:Patient.general-practitioner:PractitionerRole.organization.name=${q('hopital édouard')}`, ['obs-8']);
    await expectIds(h, 'Patient?general-practitioner:PractitionerRole.organization.partof.name=hospices', ['pat-ines']);
  });
});

describe('reverse chaining (_has)', () => {
  test('resources referenced by a resource matching a criterion', async () => {
    await expectIds(h, `Patient?_has:Observation:subject:code=${q(HBA1C)}`, ['pat-hugo', 'pat-ines', 'pat-lea']);
    await expectIds(h, `Patient?_has:Observation:patient:code=${q(GLU)}`, ['pat-jules', 'pat-lea']);
    await expectIds(h, 'Practitioner?_has:PractitionerRole:practitioner:organization=org-pasteur', ['pr-bruno']);
    await expectIds(h, 'Group?_has:Observation:subject:code=' + q(GLU), ['grp-1']);
  });

  test('OR values and ANDed _has parameters', async () => {
    await expectIds(h, `Patient?_has:Observation:subject:code=${q(GLU)},${q(HBA1C)}`, ['pat-hugo', 'pat-ines', 'pat-jules', 'pat-lea']);
    await expectIds(h, `Patient?_has:Observation:subject:code=${q(GLU)}&_has:Observation:subject:code=${q(HBA1C)}`, ['pat-lea']);
  });

  test('_has with a chained parameter inside', async () => {
    await expectIds(h, `Organization?_has:PractitionerRole:organization:practitioner.identifier=${q(`${RPPS_SYSTEM}|810000000001`)}`, ['org-necker']);
    await expectIds(h, 'Organization?_has:PractitionerRole:organization:practitioner.name=bruno', ['org-cochin', 'org-pasteur']);
  });

  test('nested _has: patients having an observation that is the result of a lipid panel report', async () => {
    await expectIds(h, `Patient?_has:Observation:subject:_has:DiagnosticReport:result:code=${q(LIPID)}`, ['pat-lea']);
    await expectIds(h, `Patient?_has:Observation:subject:_has:DiagnosticReport:result:code=${q(HBA1C)}`, ['pat-hugo']);
  });

  test('_has combined with a plain parameter and with a chain', async () => {
    await expectIds(h, `Patient?family=martin&_has:Observation:subject:code=${q(HBA1C)}`, ['pat-lea']);
    await expectIds(h, 'Practitioner?_has:PractitionerRole:practitioner:organization.partof.name=assistance', ['pr-alice', 'pr-bruno']);
  });

  test('deleted resources are not matched through _has', async () => {
    await expectIds(h, `Patient?_has:Observation:subject:code=${q(GLU)}&_id=pat-gone`, []);
    await expectIds(h, `Patient?_has:Observation:subject:code=${q(GLU)}&_id=pat-jules`, ['pat-jules']); // control
  });
});
