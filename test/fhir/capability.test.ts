// GET /health and the CapabilityStatement (GET /fhir/metadata).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertFhirJson, fhirClient, httpFor, responseOf, type Http } from '../support/fhir-client.ts';

let server: TestServer;
let h: Http;

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
});
after(async () => {
  await server?.close();
});

describe('health', () => {
  test('GET /health answers 200 JSON', async () => {
    const res = await fetch(`${server.baseUrl}/health`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as { status?: string };
    assert.equal(typeof body, 'object');
    assert.equal(body.status, 'ok');
  });
});

describe('CapabilityStatement', () => {
  const TYPE_INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'];

  test('GET /fhir/metadata through fhir-kit-client', async () => {
    const cs = (await fhirClient(server.fhirUrl).capabilityStatement()) as unknown as CapabilityStatement;
    assert.match(responseOf(cs).headers.get('content-type') ?? '', /^application\/fhir\+json;\s*charset=utf-8$/i);
    assert.equal(cs.resourceType, 'CapabilityStatement');
    assert.equal(cs.status, 'active');
    assert.equal(cs.kind, 'instance');
    assert.equal(cs.fhirVersion, '4.0.1');
    assert.ok(typeof cs.date === 'string' && cs.date.length >= 4, 'CapabilityStatement.date is required');
    assert.ok(
      cs.format.includes('json') || cs.format.includes('application/fhir+json'),
      `format should list json, got ${JSON.stringify(cs.format)}`,
    );
    assert.ok(cs.implementation?.url === undefined || cs.implementation.url.startsWith(server.fhirUrl), `implementation.url ${cs.implementation?.url} should be the server base`);
  });

  test('rest mode server with system interactions transaction, batch and history-system', async () => {
    const res = await h.get('metadata');
    assert.equal(res.status, 200);
    assertFhirJson(res);
    const cs = res.body as CapabilityStatement;
    assert.ok(Array.isArray(cs.rest) && cs.rest.length >= 1, 'rest is missing');
    const rest = cs.rest.find((r) => r.mode === 'server');
    assert.ok(rest, 'no rest entry with mode server');
    const system = (rest.interaction ?? []).map((i) => i.code);
    for (const code of ['transaction', 'batch', 'history-system']) {
      assert.ok(system.includes(code as never), `system interaction ${code} missing (got ${system.join(', ')})`);
    }
  });

  test('every stored resource type declares the type interactions, conditional operations and versioning', async () => {
    const cs = (await h.get('metadata')).body as CapabilityStatement;
    const rest = cs.rest?.find((r) => r.mode === 'server');
    assert.ok(rest?.resource && rest.resource.length > 100, `expected the ~145 R4 resource types, got ${rest?.resource?.length}`);
    const types: string[] = rest.resource.map((r) => r.type);
    for (const t of ['Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'Observation', 'Encounter', 'DocumentReference', 'Appointment', 'Slot', 'AuditEvent']) {
      assert.ok(types.includes(t), `resource ${t} missing from the CapabilityStatement`);
    }
    assert.equal(new Set(types).size, types.length, 'a resource type is listed twice');
    assert.ok(!types.includes('OperationOutcome') && !types.includes('Parameters'), 'OperationOutcome/Parameters are not stored resource types');
    for (const t of ['Patient', 'Observation', 'Encounter', 'Practitioner']) {
      const r: CapabilityStatementRestResource | undefined = rest.resource.find((x) => x.type === t);
      assert.ok(r);
      const codes: string[] = (r.interaction ?? []).map((i) => i.code);
      for (const code of TYPE_INTERACTIONS) assert.ok(codes.includes(code as never), `${t}: interaction ${code} missing (got ${codes.join(', ')})`);
      assert.equal(r.conditionalCreate, true, `${t}.conditionalCreate`);
      assert.equal(r.conditionalUpdate, true, `${t}.conditionalUpdate`);
      assert.ok(r.conditionalDelete === 'single' || r.conditionalDelete === 'multiple', `${t}.conditionalDelete should be single or multiple, got ${r.conditionalDelete}`);
      assert.ok(r.versioning === 'versioned' || r.versioning === 'versioned-update', `${t}.versioning should be versioned or versioned-update, got ${r.versioning}`);
      assert.equal(r.readHistory, true, `${t}.readHistory`);
      assert.equal(r.updateCreate, true, `${t}.updateCreate (allowCreateOnUpdate is on by default)`);
      const params: string[] = (r.searchParam ?? []).map((p) => p.name);
      if (t === 'Patient') for (const p of ['identifier', 'name', 'birthdate']) assert.ok(params.includes(p), `Patient search parameter ${p} missing`);
    }
  });
});
