// Conditional create (If-None-Exist), conditional update (PUT Type?criteria), conditional delete
// (DELETE Type?criteria).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CapabilityStatement, Patient } from '@medplum/fhirtypes';
import type { Client } from 'fhir-kit-client';
import { startTestServer, type TestServer } from '../support/server.ts';
import {
  assertFhirJson,
  assertOutcome,
  byKey,
  countMatches,
  etag,
  fhirClient,
  frPatient,
  httpFor,
  responseOf,
  TEST_SYSTEM,
  uid,
  type Http,
} from '../support/fhir-client.ts';

let server: TestServer;
let client: Client;
let h: Http;

before(async () => {
  server = await startTestServer();
  client = fhirClient(server.fhirUrl);
  h = httpFor(server.fhirUrl);
});
after(async () => {
  await server?.close();
});

async function createPatient(p: Patient): Promise<Patient> {
  const res = await h.post('Patient', p);
  assert.equal(res.status, 201, `create failed: ${res.text.slice(0, 400)}`);
  return res.body as Patient;
}

const ident = (key: string) => `identifier=${TEST_SYSTEM}|${key}`;

describe('conditional create (If-None-Exist)', () => {
  test('no match: 201 and the resource is created', async () => {
    const key = uid('cc0');
    const res = await h.post('Patient', frPatient({ key }), { 'if-none-exist': ident(key) });
    assert.equal(res.status, 201, res.text);
    assertFhirJson(res);
    const p = res.body as Patient;
    assert.equal(res.headers.get('location'), `${server.fhirUrl}/Patient/${p.id}/_history/1`);
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 1);
  });

  test('one match: 200 with the existing resource, nothing new is created', async () => {
    const key = uid('cc1');
    const existing = await createPatient(frPatient({ key, family: 'Existant' }));
    const res = await h.post('Patient', frPatient({ key, family: 'Nouveau' }), { 'if-none-exist': ident(key) });
    assert.equal(res.status, 200, res.text);
    assertFhirJson(res);
    const p = res.body as Patient;
    assert.equal(p.id, existing.id);
    assert.equal(p.name?.[0]?.family, 'Existant', 'the existing resource is returned, unchanged');
    assert.equal(p.meta?.versionId, '1');
    const loc = res.headers.get('location');
    assert.ok(loc === null || loc === `${server.fhirUrl}/Patient/${existing.id}/_history/1`, `Location should name the existing resource, got ${loc}`);
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 1);
    assert.equal(await countMatches(h, 'Patient?name=Nouveau'), 0);
  });

  test('one match through fhir-kit-client (If-None-Exist header)', async () => {
    const key = uid('cc1k');
    const existing = await createPatient(frPatient({ key }));
    const p = (await client.create({ resourceType: 'Patient', body: frPatient({ key }) as any, options: { headers: { 'If-None-Exist': ident(key) } } })) as unknown as Patient;
    assert.equal(p.id, existing.id);
    assert.equal(responseOf(p).status, 200);
  });

  test('several matches: 412 with an OperationOutcome, nothing created', async () => {
    const key = uid('ccN');
    await createPatient(frPatient({ key }));
    await createPatient(frPatient({ key }));
    const res = await h.post('Patient', frPatient({ key }), { 'if-none-exist': ident(key) });
    assertOutcome(res, { status: 412, code: ['duplicate', 'multiple-matches', 'conflict', 'processing'] });
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 2);
  });

  test('criteria with several parameters: all of them must match', async () => {
    const key = uid('ccM');
    const existing = await createPatient(frPatient({ key, family: 'Multi' }));
    const res = await h.post('Patient', frPatient({ key }), { 'if-none-exist': `${ident(key)}&family=Multi` });
    assert.equal(res.status, 200, res.text);
    assert.equal((res.body as Patient).id, existing.id);
    // both parameters must match: a different family is no match, so a resource is created
    const res2 = await h.post('Patient', frPatient({ key, family: 'Autre' }), { 'if-none-exist': `${ident(key)}&family=Autre` });
    assert.equal(res2.status, 201, res2.text);
  });

  test('an invalid criterion (unknown search parameter) is refused with 400, nothing created', async () => {
    const key = uid('ccBad');
    const res = await h.post('Patient', frPatient({ key }), { 'if-none-exist': `not-a-parameter=${key}` });
    assertOutcome(res, { status: [400, 412] });
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 0);
  });
});

describe('deleted resources never match conditions', () => {
  test('If-None-Exist and conditional update ignore a deleted match: a new resource is created', async () => {
    const key = uid('cdel');
    const old = await createPatient(frPatient({ key }));
    assert.ok([200, 204].includes((await h.delete(`Patient/${old.id}`)).status));
    const cc = await h.post('Patient', frPatient({ key }), { 'if-none-exist': ident(key) });
    assert.equal(cc.status, 201, cc.text);
    assert.notEqual((cc.body as Patient).id, old.id);
    assert.ok([200, 204].includes((await h.delete(`Patient/${(cc.body as Patient).id}`)).status));
    const cu = await h.put(`Patient?${ident(key)}`, frPatient({ key }));
    assert.equal(cu.status, 201, cu.text);
    assert.notEqual((cu.body as Patient).id, old.id);
    assert.equal((await h.get(`Patient/${old.id}`)).status, 410, 'the deleted resource must stay deleted');
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 1);
  });
});

describe('conditional update (PUT Type?criteria)', () => {
  test('no match: the resource is created (201)', async () => {
    const key = uid('cu0');
    const res = await h.put(`Patient?${ident(key)}`, frPatient({ key, family: 'Créé' }));
    assert.equal(res.status, 201, res.text);
    assertFhirJson(res);
    const p = res.body as Patient;
    assert.ok(p.id);
    assert.equal(p.meta?.versionId, '1');
    assert.equal(res.headers.get('location'), `${server.fhirUrl}/Patient/${p.id}/_history/1`);
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 1);
  });

  test('no match and an id in the body: created with that id (update as create)', async () => {
    const key = uid('cu0id');
    const id = `cu-${key}`.slice(0, 64);
    const res = await h.put(`Patient?${ident(key)}`, { ...frPatient({ key }), id });
    assert.equal(res.status, 201, res.text);
    assert.equal((res.body as Patient).id, id);
    assert.equal(res.headers.get('location'), `${server.fhirUrl}/Patient/${id}/_history/1`);
    assert.equal((await h.get(`Patient/${id}`)).status, 200);
  });

  test('one match: that resource is updated (200, version 2), whether or not the body has its id', async () => {
    const key = uid('cu1');
    const existing = await createPatient(frPatient({ key, family: 'Avant' }));
    const res = await h.put(`Patient?${ident(key)}`, frPatient({ key, family: 'Après' }));
    assert.equal(res.status, 200, res.text);
    const p = res.body as Patient;
    assert.equal(p.id, existing.id);
    assert.equal(p.meta?.versionId, '2');
    assert.equal(p.name?.[0]?.family, 'Après');
    assert.equal(res.headers.get('etag'), etag(2));
    // with the matching id in the body
    const res2 = await h.put(`Patient?${ident(key)}`, { ...frPatient({ key, family: 'Encore' }), id: existing.id });
    assert.equal(res2.status, 200, res2.text);
    assert.equal((res2.body as Patient).meta?.versionId, '3');
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 1);
  });

  test('one match through fhir-kit-client (searchParams)', async () => {
    const key = uid('cu1k');
    const existing = await createPatient(frPatient({ key }));
    const p = (await client.update({ resourceType: 'Patient', searchParams: { identifier: `${TEST_SYSTEM}|${key}` }, body: frPatient({ key, given: 'Jeanne' }) as any })) as unknown as Patient;
    assert.equal(p.id, existing.id);
    assert.equal(p.name?.[0]?.given?.[0], 'Jeanne');
  });

  test('one match but a different id in the body: 400, nothing changes', async () => {
    const key = uid('cu1x');
    const existing = await createPatient(frPatient({ key }));
    const res = await h.put(`Patient?${ident(key)}`, { ...frPatient({ key }), id: 'some-other-id' });
    assertOutcome(res, { status: 400 });
    const read = (await h.get(`Patient/${existing.id}`)).body as Patient;
    assert.equal(read.meta?.versionId, '1');
    assert.equal((await h.get('Patient/some-other-id')).status, 404);
  });

  test('several matches: 412, nothing changes', async () => {
    const key = uid('cuN');
    const a = await createPatient(frPatient({ key }));
    const b = await createPatient(frPatient({ key }));
    const res = await h.put(`Patient?${ident(key)}`, frPatient({ key, family: 'Jamais' }));
    assertOutcome(res, { status: 412, code: ['duplicate', 'multiple-matches', 'conflict', 'processing'] });
    for (const p of [a, b]) assert.equal(((await h.get(`Patient/${p.id}`)).body as Patient).meta?.versionId, '1');
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 2);
  });
});

describe('conditional delete (DELETE Type?criteria)', () => {
  test('one match: deleted (200/204), then read answers 410', async () => {
    const key = uid('cd1');
    const p = await createPatient(frPatient({ key }));
    const other = await createPatient(frPatient());
    const res = await h.delete(`Patient?${ident(key)}`);
    assert.ok(res.status === 200 || res.status === 204, `conditional delete answered ${res.status}: ${res.text}`);
    assertOutcome(await h.get(`Patient/${p.id}`), { status: 410 });
    assert.equal((await h.get(`Patient/${other.id}`)).status, 200, 'a non-matching resource must survive');
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 0);
  });

  test('no match: 200/204 (or 404 with an OperationOutcome), nothing deleted', async () => {
    const survivor = await createPatient(frPatient());
    const res = await h.delete(`Patient?${ident(uid('cd0'))}`);
    assert.ok([200, 204, 404].includes(res.status), `conditional delete with no match answered ${res.status}`);
    if (res.status === 404) assertOutcome(res, { status: 404 });
    assert.equal((await h.get(`Patient/${survivor.id}`)).status, 200);
  });

  test('several matches: all deleted if the server declares conditionalDelete=multiple, else 412 and none deleted', async () => {
    const key = uid('cdN');
    const a = await createPatient(frPatient({ key }));
    const b = await createPatient(frPatient({ key }));
    const cs = (await h.get('metadata')).body as CapabilityStatement;
    const mode = cs.rest?.[0]?.resource?.find((r) => r.type === 'Patient')?.conditionalDelete;
    const res = await h.delete(`Patient?${ident(key)}`);
    if (mode === 'multiple') {
      assert.ok(res.status === 200 || res.status === 204, `conditional delete (multiple) answered ${res.status}`);
      for (const p of [a, b]) assert.equal((await h.get(`Patient/${p.id}`)).status, 410);
    } else {
      assertOutcome(res, { status: 412, code: ['duplicate', 'multiple-matches', 'conflict', 'processing'] });
      for (const p of [a, b]) assert.equal((await h.get(`Patient/${p.id}`)).status, 200);
    }
  });
});
