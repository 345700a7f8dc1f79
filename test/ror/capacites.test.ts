// Capacity updates by the structures: PATCH /fhir/Location/{id} (JSON Patch) and the simpler
// POST /fhir/Location/{id}/$capacites, over HTTP with tokens. The administrator may update; a client
// whose token grants no write on Location, or a caller without a token, may not (system clients with
// system/Location.write are allowed by the policy engine, but the platform's issuer does not grant
// SMART scopes to client_credentials clients yet). Updates are versioned and audited; the ROR
// profile constraints refuse bad writes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Extension, Location } from '@medplum/fhirtypes';
import { startAuthServer, type AuthTestServer } from '../auth/support.ts';
import { http } from '../support/fhir-client.ts';
import { TRE } from './support.ts';

let server: AuthTestServer;
let admin: string;
let writer: string;
let reader: string;
let location: Location;

const as = (token: string | undefined, method: string, path: string, body?: unknown, contentType?: string) =>
  http(server.fhirUrl, method, path, { body, contentType, headers: token ? { authorization: `Bearer ${token}` } : {} });

const capacities = (l: Location) => (l.extension ?? []).filter((e) => e.url.endsWith('/ror-location-supported-capacity'));
const part = (c: Extension, name: string) => c.extension?.find((e) => e.url === name);
const statusOf = (c: Extension) => part(c, 'capacityStatus')?.valueCodeableConcept?.coding?.[0]?.code;

const disponibles = (nb: number) => ({
  resourceType: 'Parameters',
  parameter: [
    {
      name: 'capacite',
      part: [
        { name: 'capacityType', valueCode: '01' },
        { name: 'capacityStatus', valueCoding: { system: TRE('TRE_R330-TypeStatutCapacite'), code: '02' } },
        { name: 'temporalityCapacity', valueCode: '01' },
        { name: 'genderCapacityAvailable', valueCode: '03' },
        { name: 'nbCapacity', valueInteger: nb },
      ],
    },
  ],
});

before(async () => {
  server = await startAuthServer({ authRequired: true, demo: true });
  admin = await server.adminToken();
  writer = admin;
  reader = await server.clientToken('ror-lecture', ['openid']);
  const found = await as(admin, 'GET', `Location?identifier=${encodeURIComponent('11/750100125-1')}`);
  assert.equal(found.status, 200, found.text);
  location = found.body.entry[0].resource;
});
after(() => server?.close());

describe('$capacites', () => {
  it('replaces the matching capacity, stamps capacityUpdateDate, versions and audits the change', async () => {
    const before = Date.now();
    const res = await as(writer, 'POST', `Location/${location.id}/$capacites`, disponibles(7));
    assert.equal(res.status, 200, res.text);
    const updated = res.body as Location;
    assert.equal(updated.meta?.versionId, String(Number(location.meta!.versionId) + 1));
    const dispo = capacities(updated).filter((c) => statusOf(c) === '02');
    assert.equal(dispo.length, 1, 'the existing Disponible line is replaced, not duplicated');
    assert.equal(part(dispo[0], 'nbCapacity')?.valueInteger, 7);
    assert.ok(Date.parse(part(dispo[0], 'capacityUpdateDate')!.valueDateTime!) >= before - 1000);
    assert.equal(part(dispo[0], 'capacitySourceType')?.valueCodeableConcept?.coding?.[0]?.code, '01', 'fields not sent are kept');
    assert.equal(capacities(updated).length, capacities(location).length);

    const found = await as(admin, 'GET', `Location?_id=${location.id}&nb-capacity=7`);
    assert.equal(found.body.total, 1, 'searchable at once');
    const history = await as(admin, 'GET', `Location/${location.id}/_history`);
    assert.equal(history.body.entry.length, 2);
    const audit = await as(admin, 'GET', `AuditEvent?entity=Location/${location.id}/_history/2`);
    assert.equal(audit.status, 200, audit.text);
    assert.ok(audit.body.total >= 1, 'the update is in the audit trail');
  });

  it('refuses callers without the right, and changes nothing', async () => {
    assert.equal((await as(undefined, 'POST', `Location/${location.id}/$capacites`, disponibles(1))).status, 401);
    const ro = await as(reader, 'POST', `Location/${location.id}/$capacites`, disponibles(1));
    assert.equal(ro.status, 403);
    assert.match(ro.body.issue[0].diagnostics, /ror-lecture has no system\/… scope for patch on Location/);
    const pro = await as(reader, 'PATCH', `Location/${location.id}`, [{ op: 'replace', path: '/name', value: 'x' }], 'application/json-patch+json');
    assert.equal(pro.status, 403);
    const now = await as(admin, 'GET', `Location/${location.id}`);
    assert.equal(now.body.meta.versionId, '2');
  });

  it('refuses bad input with 400 and unknown lieux with 404', async () => {
    const missing = await as(writer, 'POST', `Location/${location.id}/$capacites`, { resourceType: 'Parameters', parameter: [{ name: 'capacite', part: [{ name: 'nbCapacity', valueInteger: 1 }] }] });
    assert.equal(missing.status, 400);
    assert.match(missing.body.issue[0].diagnostics, /capacityType/);
    const negative = await as(writer, 'POST', `Location/${location.id}/$capacites`, disponibles(-2));
    assert.equal(negative.status, 400);
    const wrongSystem = disponibles(1);
    (wrongSystem.parameter[0].part[1] as { valueCoding?: object }).valueCoding = { system: 'urn:x', code: '02' };
    assert.equal((await as(writer, 'POST', `Location/${location.id}/$capacites`, wrongSystem)).status, 400);
    assert.equal((await as(writer, 'POST', 'Location/inconnu/$capacites', disponibles(1))).status, 404);
  });
});

describe('PATCH of capacities', () => {
  it('lets a system/Location.write client patch nbCapacity', async () => {
    const current = (await as(admin, 'GET', `Location/${location.id}`)).body as Location;
    const i = (current.extension ?? []).findIndex((e) => e.url.endsWith('/ror-location-supported-capacity') && statusOf(e) === '01');
    const j = current.extension![i].extension!.findIndex((e) => e.url === 'nbCapacity');
    const res = await as(writer, 'PATCH', `Location/${location.id}`, [{ op: 'replace', path: `/extension/${i}/extension/${j}/valueInteger`, value: 42 }], 'application/json-patch+json');
    assert.equal(res.status, 200, res.text);
    assert.equal((await as(admin, 'GET', `Location?_id=${location.id}&nb-capacity=42`)).body.total, 1);
  });

  it('refuses a patch that breaks the ROR profile (422) and keeps the version', async () => {
    const current = (await as(admin, 'GET', `Location/${location.id}`)).body as Location;
    const cog = current.extension!.findIndex((e) => e.url.endsWith('/ror-commune-cog'));
    const res = await as(writer, 'PATCH', `Location/${location.id}`, [{ op: 'remove', path: `/extension/${cog}` }], 'application/json-patch+json');
    assert.equal(res.status, 422, res.text);
    assert.match(res.body.issue[0].diagnostics, /ror-commune-cog.*1\.\.1/);
    assert.equal((await as(admin, 'GET', `Location/${location.id}`)).body.meta.versionId, current.meta!.versionId);
  });
});
