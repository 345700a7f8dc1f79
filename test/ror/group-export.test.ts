// Group-level Bulk Data $export (GET /fhir/Group/{id}/$export) with tokens: a Group of Patients
// exports its active members and their compartments; a Group of Organizations (a GHT over the demo
// ROR) its members and the resources that reference them; a Group of Groups the members of its
// Groups; _type, _since and _outputFormat as at the other levels; an unknown Group is a 404, a Group
// the caller may not read a 403; the kick-off is audited with the Group and its patients.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEvent, Bundle, Resource } from '@medplum/fhirtypes';
import { startAuthServer, type AuthTestServer } from '../auth/support.ts';
import { sleep } from '../support/fhir-client.ts';

let server: AuthTestServer;
let admin: string;
const FINESS = 'urn:oid:1.2.250.1.71.4.2.2';
const LOINC = 'http://loinc.org';

const as = (token: string, headers: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...headers });

async function fhir<T = Resource>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.fhirUrl}/${path}`, { method, headers: as(admin, { 'content-type': 'application/fhir+json' }), body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}
const create = async (resource: Resource) => (await fhir('POST', resource.resourceType, resource)).id as string;

async function kickOff(path: string, token = admin): Promise<string> {
  const res = await fetch(`${server.fhirUrl}/${path}`, { headers: as(token, { prefer: 'respond-async', accept: 'application/fhir+json' }) });
  assert.equal(res.status, 202, await res.text());
  return res.headers.get('content-location')!;
}

/** The manifest once complete, as type → ids exported (sorted). */
async function exported(path: string, token = admin): Promise<Record<string, string[]>> {
  const status = await kickOff(path, token);
  for (let i = 0; i < 200; i++) {
    const res = await fetch(status, { headers: as(token) });
    if (res.status === 202) {
      await sleep(50);
      continue;
    }
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const manifest = JSON.parse(text) as { requiresAccessToken: boolean; output: { type: string; url: string; count: number }[]; error: unknown[] };
    assert.equal(manifest.requiresAccessToken, true);
    assert.deepEqual(manifest.error, []);
    const out: Record<string, string[]> = {};
    for (const o of manifest.output) {
      const file = await fetch(o.url, { headers: as(token) });
      assert.match(file.headers.get('content-type') ?? '', /application\/fhir\+ndjson/);
      const resources = (await file.text()).trim().split('\n').map((l) => JSON.parse(l) as Resource);
      assert.equal(resources.length, o.count);
      assert.ok(resources.every((r) => r.resourceType === o.type));
      out[o.type] = [...(out[o.type] ?? []), ...resources.map((r) => r.id as string)];
    }
    for (const ids of Object.values(out)) {
      assert.equal(new Set(ids).size, ids.length, 'each resource once');
      ids.sort();
    }
    return out;
  }
  throw new Error('the export did not complete');
}


const sorted = (...ids: string[]) => [...ids].sort();
const observation = (patient: string, code: string) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: LOINC, code }] },
  subject: { reference: `Patient/${patient}` },
  valueQuantity: { value: 5.4, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
});

const patients: string[] = [];
const observations: string[][] = [];
let encounter: string;
let cohort: string;

/** EG of the demo ROR by FINESS, and the GHT Group. */
let mondor: string;
let stAntoine: string;
let brousse: string;
let pole: string;
let ght: string;
const lieux: string[] = [];
const offres: string[] = [];

before(async () => {
  server = await startAuthServer({ authRequired: true, demo: true });
  admin = await server.adminToken();
  for (const family of ['ALPHA', 'BETA', 'GAMMA']) {
    patients.push(await create({ resourceType: 'Patient', name: [{ family, given: ['Test'] }], gender: 'female', birthDate: '1970-01-01' }));
  }
  observations.push([await create(observation(patients[0], '15074-8') as Resource), await create(observation(patients[0], '2345-7') as Resource)]);
  observations.push([await create(observation(patients[1], '15074-8') as Resource)]);
  observations.push([await create(observation(patients[2], '15074-8') as Resource)]);
  encounter = await create({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${patients[0]}` } });
  cohort = await create({
    resourceType: 'Group',
    type: 'person',
    actual: true,
    name: 'Cohorte de suivi',
    member: [{ entity: { reference: `Patient/${patients[0]}` } }, { entity: { reference: `Patient/${patients[1]}` } }, { entity: { reference: `Patient/${patients[2]}` }, inactive: true }],
  });

  const eg = async (finess: string) => (await fhir<Bundle>('GET', `Organization?identifier=${FINESS}|1${finess}`)).entry![0].resource!.id as string;
  [mondor, stAntoine, brousse] = [await eg('940100027'), await eg('750100125'), await eg('940100043')];
  pole = await create({ resourceType: 'Organization', name: 'Pôle neurosciences', partOf: { reference: `Organization/${mondor}` } });
  for (const org of [mondor, stAntoine]) {
    lieux.push(...((await fhir<Bundle>('GET', `Location?organization=Organization/${org}`)).entry ?? []).map((e) => e.resource!.id as string));
    offres.push(...((await fhir<Bundle>('GET', `HealthcareService?organization=Organization/${org}`)).entry ?? []).map((e) => e.resource!.id as string));
  }
  // R4 knows no group type for organisations (R5 adds one): the closest, for legal persons, is used.
  ght = await create({
    resourceType: 'Group',
    type: 'person',
    actual: true,
    name: 'GHT de démonstration',
    member: [{ entity: { reference: `Organization/${mondor}` } }, { entity: { reference: `Organization/${stAntoine}` } }, { entity: { reference: `Organization/${brousse}` }, inactive: true }],
  });
});
after(() => server?.close());

describe('Group/$export of a Group of Patients', () => {
  it('exports the active members and their compartments, nothing of the inactive member', async () => {
    const out = await exported(`Group/${cohort}/$export`);
    assert.deepEqual(Object.keys(out).sort(), ['AuditEvent', 'Encounter', 'Group', 'Observation', 'Patient']);
    assert.deepEqual(out.Patient, sorted(patients[0], patients[1]));
    assert.deepEqual(out.Observation, sorted(...observations[0], ...observations[1]));
    assert.deepEqual(out.Encounter, [encounter]);
    assert.deepEqual(out.Group, [cohort], 'the Group is in its members’ compartments');
    // The traces of accesses to the members' data are part of their compartments (an administrator may read them).
    const traces = await fhir<Bundle>('GET', `AuditEvent?patient=Patient/${patients[0]},Patient/${patients[1]}&_count=1000&_elements=id`);
    const inCompartments = new Set((traces.entry ?? []).map((e) => e.resource!.id));
    assert.ok(out.AuditEvent.every((id) => inCompartments.has(id)));
  });

  it('honours _type, _outputFormat and _since', async () => {
    assert.deepEqual(await exported(`Group/${cohort}/$export?_type=Observation&_outputFormat=application/fhir%2Bndjson`), { Observation: sorted(...observations[0], ...observations[1]) });
    const mark = new Date().toISOString();
    await sleep(20);
    const changed = await fhir('GET', `Observation/${observations[1][0]}`);
    await fhir('PUT', `Observation/${observations[1][0]}`, { ...changed, valueQuantity: { value: 6.1, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' } });
    await fhir('PUT', `Observation/${observations[2][0]}`, { ...(await fhir('GET', `Observation/${observations[2][0]}`)), status: 'amended' });
    const since = await exported(`Group/${cohort}/$export?_type=Patient,Observation,Encounter&_since=${encodeURIComponent(mark)}`);
    assert.deepEqual(since, { Observation: [observations[1][0]] }, 'the inactive member’s change is not exported');
  });

  it('refuses a type outside the compartments and a bad _outputFormat (400)', async () => {
    for (const query of ['_type=Location', '_outputFormat=text/csv']) {
      const res = await fetch(`${server.fhirUrl}/Group/${cohort}/$export?${query}`, { headers: as(admin, { prefer: 'respond-async' }) });
      assert.equal(res.status, 400, query);
      assert.equal(((await res.json()) as Resource).resourceType, 'OperationOutcome');
    }
  });

  it('audits the kick-off with the Group and its active patients', async () => {
    const trail = await fhir<Bundle<AuditEvent>>('GET', `AuditEvent?entity=Group/${cohort}`);
    const refsOf = (a: AuditEvent) => a.entity?.map((e) => e.what?.reference ?? '') ?? [];
    const kickOffs = (trail.entry ?? []).map((e) => e.resource!).filter((a) => a.outcome === '0' && refsOf(a).some((r) => r.startsWith('$export/')));
    assert.ok(kickOffs.length >= 1);
    const refs = refsOf(kickOffs[0]);
    assert.ok(refs.includes(`Patient/${patients[0]}`) && refs.includes(`Patient/${patients[1]}`));
    assert.ok(!refs.includes(`Patient/${patients[2]}`));
  });
});

describe('Group/$export of a Group of Organizations (GHT)', () => {
  it('exports the members and the resources that reference them', async () => {
    const out = await exported(`Group/${ght}/$export?_type=Organization,Location,HealthcareService`);
    assert.deepEqual(out.Organization, sorted(mondor, stAntoine, pole), 'the members and the pôle part of one of them, not the inactive member');
    assert.equal(lieux.length, 4);
    assert.deepEqual(out.Location, sorted(...lieux));
    assert.deepEqual(out.HealthcareService, sorted(...offres));
  });

  it('without _type, covers every type that can reference an Organization', async () => {
    const out = await exported(`Group/${ght}/$export`);
    assert.deepEqual(Object.keys(out).sort(), ['AuditEvent', 'HealthcareService', 'Location', 'Organization']);
    assert.deepEqual(out.Location, sorted(...lieux));
    assert.deepEqual(out.Organization, sorted(mondor, stAntoine, pole));
    // For an administrator, the traces naming the members (reads of the EG above) come along.
    const traces = await fhir<Bundle>('GET', `AuditEvent?entity=Organization/${mondor},Organization/${stAntoine}&_count=1000&_elements=id`);
    assert.deepEqual(out.AuditEvent, sorted(...(traces.entry ?? []).map((e) => e.resource!.id as string)));
  });

  it('leaves out, without _type, the types the caller may not read; refuses them when asked by name', async () => {
    const token = await server.clientToken('ght-lecture', ['system/Group.read', 'system/Organization.read', 'system/Location.read']);
    const out = await exported(`Group/${ght}/$export`, token);
    assert.deepEqual(Object.keys(out).sort(), ['Location', 'Organization']);
    const named = await fetch(`${server.fhirUrl}/Group/${ght}/$export?_type=HealthcareService`, { headers: as(token, { prefer: 'respond-async' }) });
    assert.equal(named.status, 403);
  });

  it('takes a member Group for its own active members, at any depth and once (a cycle ends); a deleted one for none', async () => {
    const dissous = await create({ resourceType: 'Group', type: 'person', actual: true, name: 'GHT dissous', member: [{ entity: { reference: `Organization/${pole}` } }] });
    assert.equal((await fetch(`${server.fhirUrl}/Group/${dissous}`, { method: 'DELETE', headers: as(admin) })).status, 204);
    const membres = [`Group/${ght}`, `Group/${dissous}`, `Organization/${brousse}`, 'Group/region-demo'];
    await fhir('PUT', 'Group/region-demo', { resourceType: 'Group', id: 'region-demo', type: 'person', actual: true, name: 'Région', member: membres.map((reference) => ({ entity: { reference } })) });
    const deBrousse = async (type: string) => ((await fhir<Bundle>('GET', `${type}?organization=Organization/${brousse}`)).entry ?? []).map((e) => e.resource!.id as string);
    const out = await exported('Group/region-demo/$export?_type=Organization,Location,HealthcareService');
    assert.deepEqual(out.Organization, sorted(mondor, stAntoine, pole, brousse), 'the GHT’s active members, and the EG inactive in the GHT but a member of the region');
    assert.deepEqual(out.Location, sorted(...lieux, ...(await deBrousse('Location'))));
    assert.deepEqual(out.HealthcareService, sorted(...offres, ...(await deBrousse('HealthcareService'))));
  });
});

describe('Group/$export refusals', () => {
  it('answers 404 for an unknown Group, 403 for a Group the caller may not read', async () => {
    const missing = await fetch(`${server.fhirUrl}/Group/inconnu/$export`, { headers: as(admin, { prefer: 'respond-async' }) });
    assert.equal(missing.status, 404);
    const outcome = (await missing.json()) as { resourceType: string; issue: { code: string }[] };
    assert.equal(outcome.resourceType, 'OperationOutcome');
    assert.equal(outcome.issue[0].code, 'not-found');

    const token = await server.clientToken('ror-export', ['system/Organization.read', 'system/Location.read']);
    const refused = await fetch(`${server.fhirUrl}/Group/${ght}/$export`, { headers: as(token, { prefer: 'respond-async' }) });
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { issue: { diagnostics: string }[] }).issue[0].diagnostics, /Group/);
  });
});
