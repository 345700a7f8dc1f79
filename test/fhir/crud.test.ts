// create, read, vread, update, create-on-update, delete, Prefer, content types and the search basics
// (_id, identifier, name) that the CRUD and conditional interactions rely on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { Client } from 'fhir-kit-client';
import { startTestServer, type TestServer } from '../support/server.ts';
import {
  assertFhirJson,
  assertLastModified,
  assertOutcome,
  byKey,
  countMatches,
  etag,
  expectHttpError,
  fhirClient,
  frPatient,
  glucoseObservation,
  httpFor,
  ID,
  INSTANT,
  matchResources,
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

async function createPatient(p: Patient = frPatient()): Promise<Patient> {
  const res = await h.post('Patient', p);
  assert.equal(res.status, 201, `create failed: ${res.text.slice(0, 400)}`);
  return res.body as Patient;
}

describe('create', () => {
  test('POST assigns an id, ignores the client id, answers 201 with Location, ETag, Last-Modified and meta', async () => {
    const before = Date.now();
    const sent = { ...frPatient({ family: 'Lefèvre', given: 'Zoé' }), id: 'client-chosen-id', meta: { versionId: '42', lastUpdated: '2001-01-01T00:00:00Z' } };
    const res = await h.post('Patient', sent);
    assert.equal(res.status, 201, res.text);
    assertFhirJson(res);
    const p = res.body as Patient;
    assert.equal(p.resourceType, 'Patient');
    assert.ok(p.id && ID.test(p.id), `server id "${p.id}" is not a FHIR id`);
    assert.notEqual(p.id, 'client-chosen-id', 'the server must ignore the id sent on create');
    assert.equal(p.meta?.versionId, '1');
    assert.match(p.meta?.lastUpdated ?? '', INSTANT);
    const lu = Date.parse(p.meta!.lastUpdated!);
    assert.ok(lu >= before - 2000 && lu <= Date.now() + 2000, `meta.lastUpdated ${p.meta?.lastUpdated} is not now`);
    assert.equal(res.headers.get('location'), `${server.fhirUrl}/Patient/${p.id}/_history/1`);
    assert.equal(res.headers.get('etag'), etag(1));
    assertLastModified(res.headers.get('last-modified'), p.meta?.lastUpdated);
    // the content is what was sent, accents included
    assert.equal(p.name?.[0]?.family, 'Lefèvre');
    assert.deepEqual(p.identifier, sent.identifier);
    assert.equal(p.birthDate, sent.birthDate);
    // and a read gives back the same thing
    const read = await h.get(`Patient/${p.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, p);
  });

  test('two creates get two different ids', async () => {
    const a = await createPatient();
    const b = await createPatient();
    assert.notEqual(a.id, b.id);
  });

  test('create through fhir-kit-client', async () => {
    const p = (await client.create({ resourceType: 'Patient', body: frPatient({ family: 'Bernard' }) as any })) as unknown as Patient;
    assert.ok(p.id);
    assert.equal(p.meta?.versionId, '1');
    const r = responseOf(p);
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), `${server.fhirUrl}/Patient/${p.id}/_history/1`);
  });

  test('application/json is accepted as request content type', async () => {
    const res = await h.post('Patient', frPatient(), {}, 'application/json');
    assert.equal(res.status, 201, res.text);
    assertFhirJson(res);
  });

  test('application/fhir+json with a charset parameter is accepted', async () => {
    const res = await h.post('Patient', frPatient(), {}, 'application/fhir+json; charset=utf-8');
    assert.equal(res.status, 201, res.text);
  });

  test('an Observation referencing a Patient is created with its reference intact', async () => {
    const p = await createPatient();
    const res = await h.post('Observation', glucoseObservation(`Patient/${p.id}`, 6.1));
    assert.equal(res.status, 201, res.text);
    const o = res.body as Observation;
    assert.equal(o.subject?.reference, `Patient/${p.id}`);
    assert.equal(o.valueQuantity?.value, 6.1);
    assert.equal(res.headers.get('location'), `${server.fhirUrl}/Observation/${o.id}/_history/1`);
  });
});

describe('read and vread', () => {
  test('read answers 200 with ETag and Last-Modified', async () => {
    const p = await createPatient();
    const res = await h.get(`Patient/${p.id}`);
    assert.equal(res.status, 200);
    assertFhirJson(res);
    assert.deepEqual(res.body, p);
    assert.equal(res.headers.get('etag'), etag(1));
    assertLastModified(res.headers.get('last-modified'), p.meta?.lastUpdated);
  });

  test('read through fhir-kit-client; Accept application/json also answers', async () => {
    const p = await createPatient();
    const read = (await client.read({ resourceType: 'Patient', id: p.id! })) as unknown as Patient;
    assert.equal(read.id, p.id);
    const res = await h.get(`Patient/${p.id}`, { accept: 'application/json' });
    assert.equal(res.status, 200);
    assert.equal((res.body as Patient).id, p.id);
  });

  test('HEAD on a resource answers the headers of a read without a body', async () => {
    const p = await createPatient();
    const res = await h.request('HEAD', `Patient/${p.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    assert.equal(res.headers.get('etag'), etag(1));
  });

  test('read of an unknown id answers 404 OperationOutcome not-found', async () => {
    const res = await h.get(`Patient/${uid('nope')}`);
    assertOutcome(res, { status: 404, code: 'not-found' });
    await expectHttpError(client.read({ resourceType: 'Patient', id: 'does-not-exist' }), 404);
  });

  test('vread returns each version; an unknown version answers 404', async () => {
    const p = await createPatient(frPatient({ family: 'Version1' }));
    const upd = await h.put(`Patient/${p.id}`, { ...p, name: [{ family: 'Version2' }] });
    assert.equal(upd.status, 200, upd.text);
    const v1 = await h.get(`Patient/${p.id}/_history/1`);
    assert.equal(v1.status, 200);
    assertFhirJson(v1);
    assert.equal((v1.body as Patient).name?.[0]?.family, 'Version1');
    assert.equal((v1.body as Patient).meta?.versionId, '1');
    assert.equal(v1.headers.get('etag'), etag(1));
    const v2 = (await client.vread({ resourceType: 'Patient', id: p.id!, version: '2' })) as unknown as Patient;
    assert.equal(v2.name?.[0]?.family, 'Version2');
    assert.equal(v2.meta?.versionId, '2');
    assertOutcome(await h.get(`Patient/${p.id}/_history/3`), { status: 404, code: 'not-found' });
    assertOutcome(await h.get(`Patient/${uid('nope')}/_history/1`), { status: 404, code: 'not-found' });
  });
});

describe('conditional read', () => {
  test('If-None-Match with the current ETag answers 304 without a body; a stale one answers 200', async () => {
    const cs = (await h.get('metadata')).body as { rest: Array<{ resource: Array<{ type: string; conditionalRead?: string }> }> };
    const mode = cs.rest[0]!.resource.find((r) => r.type === 'Patient')?.conditionalRead;
    assert.ok(mode === 'not-match' || mode === 'full-support', `this test expects conditionalRead not-match or full-support, the server declares ${mode}`);
    const p = await createPatient();
    const same = await h.get(`Patient/${p.id}`, { 'if-none-match': etag(1) });
    assert.equal(same.status, 304);
    assert.equal(same.text, '');
    assert.equal(same.headers.get('etag'), etag(1));
    const other = await h.get(`Patient/${p.id}`, { 'if-none-match': etag(0) });
    assert.equal(other.status, 200);
    await h.put(`Patient/${p.id}`, { ...p, active: true });
    const stale = await h.get(`Patient/${p.id}`, { 'if-none-match': etag(1) });
    assert.equal(stale.status, 200);
    assert.equal((stale.body as Patient).meta?.versionId, '2');
  });

  test('If-None-Match uses weak comparison and accepts lists and * (RFC 9110 §13.1.2)', async () => {
    const p = await createPatient();
    for (const value of ['"1"', 'W/"7", W/"1"', '*']) {
      const res = await h.get(`Patient/${p.id}`, { 'if-none-match': value });
      assert.equal(res.status, 304, `If-None-Match: ${value} should match version 1, got ${res.status}`);
    }
  });
});

describe('request and response formats', () => {
  test('_format=json and _format=application/fhir+json are accepted on read and search', async () => {
    const p = await createPatient();
    for (const f of ['json', 'application/fhir+json', 'application/json']) {
      const read = await h.get(`Patient/${p.id}?_format=${encodeURIComponent(f)}`);
      assert.equal(read.status, 200, `read with _format=${f}: ${read.status} ${read.text.slice(0, 200)}`);
      assertFhirJson(read);
      const search = await h.get(`Patient?_id=${p.id}&_format=${encodeURIComponent(f)}`);
      assert.equal(search.status, 200, `search with _format=${f}: ${search.status} ${search.text.slice(0, 200)}`);
      assert.equal((search.body as Bundle).total, 1);
    }
  });

  test('Content-Type application/fhir+json; fhirVersion=4.0 is accepted', async () => {
    const res = await h.post('Patient', frPatient(), {}, 'application/fhir+json; fhirVersion=4.0');
    assert.equal(res.status, 201, res.text);
  });

  test('meta.versionId and meta.lastUpdated sent by the client on update are ignored', async () => {
    const p = await createPatient();
    const res = await h.put(`Patient/${p.id}`, { ...p, meta: { versionId: '99', lastUpdated: '2001-01-01T00:00:00Z' } });
    assert.equal(res.status, 200, res.text);
    const u = res.body as Patient;
    assert.equal(u.meta?.versionId, '2');
    assert.ok(Date.parse(u.meta!.lastUpdated!) >= Date.parse(p.meta!.lastUpdated!));
  });

  test('meta.profile, meta.tag and meta.security sent by the client are kept', async () => {
    const meta = {
      profile: ['https://example.org/fhir/StructureDefinition/unknown-profile'],
      tag: [{ system: 'https://socle.example/tags', code: 'essai' }],
      security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }],
    };
    const res = await h.post('Patient', { ...frPatient(), meta });
    assert.equal(res.status, 201, res.text);
    const p = res.body as Patient;
    assert.deepEqual(p.meta?.profile, meta.profile);
    assert.deepEqual(p.meta?.tag, meta.tag);
    assert.deepEqual(p.meta?.security, meta.security);
  });
});

describe('update', () => {
  test('PUT increments the version and answers 200 with ETag, Last-Modified and Location', async () => {
    const p = await createPatient();
    await new Promise((r) => setTimeout(r, 5));
    const res = await h.put(`Patient/${p.id}`, { ...p, meta: undefined, name: [{ family: 'Moreau', given: ['Élise'] }] });
    assert.equal(res.status, 200, res.text);
    assertFhirJson(res);
    const u = res.body as Patient;
    assert.equal(u.id, p.id);
    assert.equal(u.meta?.versionId, '2');
    assert.equal(u.name?.[0]?.family, 'Moreau');
    assert.ok(Date.parse(u.meta!.lastUpdated!) >= Date.parse(p.meta!.lastUpdated!), 'lastUpdated went backwards');
    assert.equal(res.headers.get('etag'), etag(2));
    assertLastModified(res.headers.get('last-modified'), u.meta?.lastUpdated);
    const loc = res.headers.get('location');
    assert.ok(loc === null || loc === `${server.fhirUrl}/Patient/${p.id}/_history/2`, `Location on update should be the new version, got ${loc}`);
    const read = await h.get(`Patient/${p.id}`);
    assert.equal((read.body as Patient).meta?.versionId, '2');
    assert.equal((read.body as Patient).name?.[0]?.family, 'Moreau');
  });

  test('update through fhir-kit-client, three times', async () => {
    const p = await createPatient();
    let cur = p;
    for (const v of [2, 3, 4]) {
      cur = (await client.update({ resourceType: 'Patient', id: p.id!, body: { ...cur, active: v % 2 === 0 } as any })) as unknown as Patient;
      assert.equal(cur.meta?.versionId, String(v));
    }
  });

  test('If-Match with the current version succeeds; a stale one answers 412 and changes nothing', async () => {
    const p = await createPatient();
    const ok = await h.put(`Patient/${p.id}`, { ...p, gender: 'other' }, { 'if-match': etag(1) });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((ok.body as Patient).meta?.versionId, '2');
    const stale = await h.put(`Patient/${p.id}`, { ...p, gender: 'unknown' }, { 'if-match': etag(1) });
    assertOutcome(stale, { status: 412, code: ['conflict', 'processing', 'business-rule'] });
    const read = (await h.get(`Patient/${p.id}`)).body as Patient;
    assert.equal(read.meta?.versionId, '2');
    assert.equal(read.gender, 'other');
  });

  test('the id in the body must match the URL (400), and must be present (400)', async () => {
    const p = await createPatient();
    const mismatch = await h.put(`Patient/${p.id}`, { ...p, id: 'another-id' });
    assertOutcome(mismatch, { status: 400, code: ['invalid', 'value', 'processing'] });
    const { id: _omit, ...noId } = p;
    void _omit;
    const missing = await h.put(`Patient/${p.id}`, noId);
    assertOutcome(missing, { status: 400, code: ['invalid', 'required', 'value', 'processing'] });
    const read = (await h.get(`Patient/${p.id}`)).body as Patient;
    assert.equal(read.meta?.versionId, '1', 'a rejected update must not create a version');
    const other = await h.get('Patient/another-id');
    assert.equal(other.status, 404);
  });

  test('PUT to a new id creates the resource (201, version 1, Location) when allowCreateOnUpdate is on', async () => {
    const id = `ins-${uid('c')}`.slice(0, 60);
    const res = await h.put(`Patient/${id}`, { ...frPatient(), id });
    assert.equal(res.status, 201, res.text);
    assertFhirJson(res);
    const p = res.body as Patient;
    assert.equal(p.id, id);
    assert.equal(p.meta?.versionId, '1');
    assert.equal(res.headers.get('location'), `${server.fhirUrl}/Patient/${id}/_history/1`);
    assert.equal(res.headers.get('etag'), etag(1));
    const read = await h.get(`Patient/${id}`);
    assert.equal(read.status, 200);
    // and a second PUT is an ordinary update
    const again = await h.put(`Patient/${id}`, { ...p, active: true });
    assert.equal(again.status, 200);
    assert.equal((again.body as Patient).meta?.versionId, '2');
    const hist = (await h.get(`Patient/${id}/_history`)).body as Bundle;
    assert.deepEqual(hist.entry?.map((e) => [e.request?.method, e.response?.status?.slice(0, 3)]), [['PUT', '200'], ['PUT', '201']]);
  });

  test('PUT to a new id is refused when allowCreateOnUpdate is off, and nothing is created', async () => {
    const other = await startTestServer({ allowCreateOnUpdate: false });
    try {
      const oh = httpFor(other.fhirUrl);
      // the CapabilityStatement says so
      const cs = (await oh.get('metadata')).body as { rest: Array<{ resource: Array<{ type: string; updateCreate?: boolean }> }> };
      assert.notEqual(cs.rest[0]!.resource.find((r) => r.type === 'Patient')?.updateCreate, true, 'updateCreate must not be true when allowCreateOnUpdate is false');
      const id = uid('refused');
      const res = await oh.put(`Patient/${id}`, { ...frPatient(), id });
      assert.ok(res.status >= 400 && res.status < 500, `expected 405 or another 4xx, got ${res.status}`);
      assertOutcome(res, { status: res.status });
      assert.equal((await oh.get(`Patient/${id}`)).status, 404);
      // updating an existing resource still works
      const created = await oh.post('Patient', frPatient());
      assert.equal(created.status, 201);
      const p = created.body as Patient;
      const upd = await oh.put(`Patient/${p.id}`, { ...p, active: false });
      assert.equal(upd.status, 200, upd.text);
    } finally {
      await other.close();
    }
  });
});

describe('delete', () => {
  test('DELETE answers 200/204; read then answers 410; the old version is still readable; history records the delete', async () => {
    const p = await createPatient();
    const del = await h.delete(`Patient/${p.id}`);
    assert.ok(del.status === 200 || del.status === 204, `delete answered ${del.status}`);
    if (del.status === 204) assert.equal(del.text, '', '204 must have no body');
    else if (del.text) assertFhirJson(del);
    const gone = await h.get(`Patient/${p.id}`);
    assertOutcome(gone, { status: 410, code: ['deleted', 'not-found', 'processing'] });
    const v1 = await h.get(`Patient/${p.id}/_history/1`);
    assert.equal(v1.status, 200);
    assert.equal((v1.body as Patient).id, p.id);
    const hist = await h.get(`Patient/${p.id}/_history`);
    assert.equal(hist.status, 200);
    const b = hist.body as Bundle;
    assert.equal(b.type, 'history');
    assert.equal(b.entry?.length, 2);
    assert.equal(b.entry?.[0]?.request?.method, 'DELETE');
    assert.equal(b.entry?.[0]?.resource, undefined, 'a delete entry carries no resource');
    assert.equal(b.entry?.[1]?.request?.method, 'POST');
    // gone from searches
    assert.equal(await countMatches(h, `Patient?_id=${p.id}`), 0);
  });

  test('delete through fhir-kit-client, then read rejects with 410', async () => {
    const p = await createPatient();
    await client.delete({ resourceType: 'Patient', id: p.id! });
    const body = await expectHttpError(client.read({ resourceType: 'Patient', id: p.id! }), 410);
    assert.equal((body as OperationOutcome).resourceType, 'OperationOutcome');
  });

  test('deleting an already deleted resource is idempotent (200/204)', async () => {
    const p = await createPatient();
    const first = await h.delete(`Patient/${p.id}`);
    assert.ok([200, 204].includes(first.status));
    const second = await h.delete(`Patient/${p.id}`);
    assert.ok([200, 204].includes(second.status), `second delete answered ${second.status}: ${second.text}`);
    // no extra version is recorded for a delete that changes nothing
    const hist = (await h.get(`Patient/${p.id}/_history`)).body as Bundle;
    assert.equal(hist.entry?.length, 2, 'a repeated delete must not add a history entry');
  });

  test('deleting an unknown id answers 200/204 (idempotent) or 404 with an OperationOutcome', async () => {
    const res = await h.delete(`Patient/${uid('never')}`);
    assert.ok([200, 204, 404].includes(res.status), `delete of unknown id answered ${res.status}`);
    if (res.status === 404) assertOutcome(res, { status: 404, code: 'not-found' });
    // the same answer every time
    const again = await h.delete(`Patient/${uid('never')}`);
    assert.equal(again.status, res.status);
  });

  test('DELETE honours If-Match: a stale version answers 412 and deletes nothing', async () => {
    const p = await createPatient();
    await h.put(`Patient/${p.id}`, { ...p, active: true });
    assertOutcome(await h.delete(`Patient/${p.id}`, { 'if-match': etag(1) }), { status: 412, code: ['conflict', 'processing', 'business-rule'] });
    assert.equal((await h.get(`Patient/${p.id}`)).status, 200);
    const ok = await h.delete(`Patient/${p.id}`, { 'if-match': etag(2) });
    assert.ok([200, 204].includes(ok.status), `delete with the current If-Match answered ${ok.status}`);
    assert.equal((await h.get(`Patient/${p.id}`)).status, 410);
  });

  test('vread of the version that records the deletion answers 410 (http.html#vread)', async () => {
    const p = await createPatient();
    assert.ok([200, 204].includes((await h.delete(`Patient/${p.id}`)).status));
    assertOutcome(await h.get(`Patient/${p.id}/_history/2`), { status: 410 });
  });

  test('a deleted resource can be brought back by an update (version 3)', async () => {
    const p = await createPatient();
    assert.ok([200, 204].includes((await h.delete(`Patient/${p.id}`)).status));
    const res = await h.put(`Patient/${p.id}`, { ...p, meta: undefined, active: true });
    assert.ok(res.status === 200 || res.status === 201, `update of a deleted resource answered ${res.status}: ${res.text}`);
    assert.equal((res.body as Patient).meta?.versionId, '3');
    const read = await h.get(`Patient/${p.id}`);
    assert.equal(read.status, 200);
    assert.equal((read.body as Patient).active, true);
  });
});

describe('content fidelity', () => {
  test('extensions on primitives (_birthDate, _given with null alignment) are accepted and kept', async () => {
    const birthTime = { url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1985-07-14T10:30:00+02:00' };
    const p = {
      ...frPatient(),
      birthDate: '1985-07-14',
      _birthDate: { extension: [birthTime] },
      name: [{ family: 'Martin', given: ['Camille', 'Marie'], _given: [null, { extension: [{ url: 'https://socle.example/rang', valueInteger: 2 }] }] }],
    };
    const res = await h.post('Patient', p);
    assert.equal(res.status, 201, res.text);
    const read = (await h.get(`Patient/${(res.body as Patient).id}`)).body as Record<string, any>;
    assert.deepEqual(read._birthDate, { extension: [birthTime] });
    assert.deepEqual(read.name[0]._given, p.name[0]!._given);
  });

  test('decimal precision is preserved (1.50 stays 1.50, FHIR datatypes#decimal)', async () => {
    const raw = JSON.stringify(glucoseObservation('Patient/x', 4)).replace('"value":4,', '"value":1.50,');
    assert.ok(raw.includes('"value":1.50'));
    const res = await h.post('Observation', raw);
    assert.equal(res.status, 201, res.text);
    const read = await h.get(`Observation/${(res.body as Observation).id}`);
    assert.match(read.text, /"value"\s*:\s*1\.50\b/, `decimal precision lost: ${read.text.match(/"valueQuantity"[^}]*/)?.[0]}`);
  });

  test('contained resources and their local references are kept', async () => {
    const p = {
      ...frPatient(),
      contained: [{ resourceType: 'Practitioner', id: 'mt', name: [{ family: 'Durand', given: ['Louise'] }] }],
      generalPractitioner: [{ reference: '#mt' }],
    };
    const res = await h.post('Patient', p);
    assert.equal(res.status, 201, res.text);
    const read = (await h.get(`Patient/${(res.body as Patient).id}`)).body as Patient;
    assert.deepEqual(read.contained, p.contained);
    assert.equal(read.generalPractitioner?.[0]?.reference, '#mt');
  });
});

describe('Prefer', () => {
  test('return=minimal: 201 with an empty body and the headers', async () => {
    const res = await h.post('Patient', frPatient(), { prefer: 'return=minimal' });
    assert.equal(res.status, 201);
    assert.equal(res.text, '', 'return=minimal must give an empty body');
    const loc = res.headers.get('location');
    assert.match(loc ?? '', new RegExp(`^${server.fhirUrl}/Patient/[A-Za-z0-9\\-.]{1,64}/_history/1$`));
    assert.equal(res.headers.get('etag'), etag(1));
    const id = loc!.split('/').at(-3);
    assert.equal((await h.get(`Patient/${id}`)).status, 200);
  });

  test('return=minimal on update: 200 with an empty body', async () => {
    const p = await createPatient();
    const res = await h.put(`Patient/${p.id}`, { ...p, active: true }, { prefer: 'return=minimal' });
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    assert.equal(res.headers.get('etag'), etag(2));
  });

  test('return=representation (and the default) return the resource', async () => {
    const explicit = await h.post('Patient', frPatient(), { prefer: 'return=representation' });
    assert.equal(explicit.status, 201);
    assert.equal((explicit.body as Patient).resourceType, 'Patient');
    assert.ok((explicit.body as Patient).id);
    const dflt = await h.post('Patient', frPatient());
    assert.equal((dflt.body as Patient).resourceType, 'Patient');
  });

  test('return=OperationOutcome returns an OperationOutcome about the outcome', async () => {
    const res = await h.post('Patient', frPatient(), { prefer: 'return=OperationOutcome' });
    assert.equal(res.status, 201);
    assertFhirJson(res);
    const oo = res.body as OperationOutcome;
    assert.equal(oo.resourceType, 'OperationOutcome');
    assert.ok(oo.issue.length >= 1);
    assert.ok(oo.issue.every((i) => i.severity === 'information' || i.severity === 'warning'), 'a success outcome has no error issue');
    assert.match(res.headers.get('location') ?? '', /\/Patient\/[^/]+\/_history\/1$/);
  });

  test('return=OperationOutcome carries what validation noted without refusing', async () => {
    // maritalStatus has an extensible binding: another code is accepted, with a warning; so is an unknown profile.
    const noted = {
      ...frPatient(),
      meta: { profile: ['https://example.org/fhir/StructureDefinition/inconnu'] },
      maritalStatus: { coding: [{ system: 'https://example.org/fhir/CodeSystem/situation', code: 'PACS' }] },
    };
    const created = await h.post('Patient', noted, { prefer: 'return=OperationOutcome' });
    assert.equal(created.status, 201);
    const warnings = (created.body as OperationOutcome).issue.filter((i) => i.severity === 'warning');
    assert.ok(warnings.some((i) => /inconnu/.test(i.diagnostics ?? '')), JSON.stringify(created.body));
    assert.ok(warnings.some((i) => i.expression?.[0]?.startsWith('Patient.maritalStatus')), JSON.stringify(created.body));
    const id = (created.headers.get('location') ?? '').split('/')[5];
    const updated = await h.put(`Patient/${id}`, { ...noted, id }, { prefer: 'return=OperationOutcome' });
    assert.equal(updated.status, 200);
    assert.ok((updated.body as OperationOutcome).issue.some((i) => i.severity === 'warning'));
    const clean = await h.post('Patient', { resourceType: 'Patient', name: [{ family: 'Sansremarque' }] }, { prefer: 'return=OperationOutcome' });
    assert.deepEqual((clean.body as OperationOutcome).issue.map((i) => i.severity), ['information']);
  });
});

describe('search basics', () => {
  test('?_id= finds exactly the resource, as a searchset with total and search.mode match', async () => {
    const p = await createPatient();
    await createPatient();
    const res = await h.get(`Patient?_id=${p.id}`);
    assert.equal(res.status, 200);
    assertFhirJson(res);
    const b = res.body as Bundle;
    assert.equal(b.resourceType, 'Bundle');
    assert.equal(b.type, 'searchset');
    assert.equal(b.total, 1);
    assert.equal(b.entry?.length, 1);
    const e = b.entry![0]!;
    assert.equal(e.search?.mode, 'match');
    assert.equal((e.resource as Patient).id, p.id);
    assert.equal(e.fullUrl, `${server.fhirUrl}/Patient/${p.id}`);
    assert.ok(b.link?.some((l) => l.relation === 'self'), 'searchset without a self link');
  });

  test('?identifier=system|value and ?name= through fhir-kit-client', async () => {
    const key = uid('ident');
    const family = `Nom${uid('x').replace(/[^a-z0-9]/gi, '').slice(0, 12)}`;
    const p = await createPatient(frPatient({ key, family }));
    await createPatient(frPatient({ family: 'Autre' }));
    const byIdent = (await client.search({ resourceType: 'Patient', searchParams: { identifier: `${TEST_SYSTEM}|${key}` } })) as unknown as Bundle;
    assert.equal(byIdent.total, 1);
    assert.equal(matchResources<Patient>(byIdent)[0]?.id, p.id);
    const byName = (await client.search({ resourceType: 'Patient', searchParams: { name: family } })) as unknown as Bundle;
    assert.equal(byName.total, 1);
    assert.equal(matchResources<Patient>(byName)[0]?.id, p.id);
    // a prefix of the name matches too (string search is starts-with)
    assert.equal(await countMatches(h, `Patient?name=${encodeURIComponent(family.slice(0, -2))}`), 1);
    assert.equal(await countMatches(h, `Patient?${byKey(uid('absent'))}`), 0);
  });

  test('a search with no match is an empty searchset with total 0', async () => {
    const res = await h.get(`Patient?_id=${uid('none')}`);
    assert.equal(res.status, 200);
    const b = res.body as Bundle;
    assert.equal(b.type, 'searchset');
    assert.equal(b.total, 0);
    assert.equal(b.entry?.length ?? 0, 0);
  });
});
