// JSON Patch (PATCH Type/id, Content-Type application/json-patch+json): add, replace, remove, test,
// failing tests, patches producing invalid resources, If-Match, unknown ids.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Patient } from '@medplum/fhirtypes';
import type { Client } from 'fhir-kit-client';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertFhirJson, assertLastModified, assertOutcome, CODE_INVALID_CODES, etag, expectHttpError, fhirClient, frPatient, httpFor, INVALID_CODES, responseOf, uid, type Http } from '../support/fhir-client.ts';

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

async function createPatient(): Promise<Patient> {
  const res = await h.post('Patient', frPatient({ family: 'Petit', given: 'Léa', gender: 'female', birthDate: '1990-02-03' }));
  assert.equal(res.status, 201, res.text);
  return res.body as Patient;
}

async function unchanged(p: Patient): Promise<void> {
  const read = (await h.get(`Patient/${p.id}`)).body as Patient;
  assert.equal(read.meta?.versionId, p.meta?.versionId, 'a refused patch created a version');
  assert.deepEqual(read, p);
}

describe('JSON Patch', () => {
  test('replace, add and remove in one patch: 200, new version, headers', async () => {
    const p = await createPatient();
    const res = await h.patch(`Patient/${p.id}`, [
      { op: 'replace', path: '/name/0/family', value: 'Grand' },
      { op: 'add', path: '/telecom', value: [{ system: 'phone', value: '+33 6 12 34 56 78', use: 'mobile' }] },
      { op: 'add', path: '/name/0/given/-', value: 'Marie' },
      { op: 'remove', path: '/address' },
    ]);
    assert.equal(res.status, 200, res.text);
    assertFhirJson(res);
    const u = res.body as Patient;
    assert.equal(u.id, p.id);
    assert.equal(u.meta?.versionId, '2');
    assert.equal(u.name?.[0]?.family, 'Grand');
    assert.deepEqual(u.name?.[0]?.given, ['Léa', 'Marie']);
    assert.equal(u.telecom?.[0]?.value, '+33 6 12 34 56 78');
    assert.equal(u.address, undefined);
    assert.equal(u.birthDate, '1990-02-03');
    assert.equal(res.headers.get('etag'), etag(2));
    assertLastModified(res.headers.get('last-modified'), u.meta?.lastUpdated);
    const read = (await h.get(`Patient/${p.id}`)).body as Patient;
    assert.deepEqual(read, u);
    const v1 = (await h.get(`Patient/${p.id}/_history/1`)).body as Patient;
    assert.equal(v1.name?.[0]?.family, 'Petit');
  });

  test('through fhir-kit-client, with a passing test op', async () => {
    const p = await createPatient();
    const u = (await client.patch({
      resourceType: 'Patient',
      id: p.id!,
      jsonPatch: [
        { op: 'test', path: '/gender', value: 'female' },
        { op: 'replace', path: '/gender', value: 'other' },
      ],
    })) as unknown as Patient;
    assert.equal(responseOf(u).status, 200);
    assert.equal(u.gender, 'other');
    assert.equal(u.meta?.versionId, '2');
  });

  test('move and copy ops', async () => {
    const p = await createPatient();
    const res = await h.patch(`Patient/${p.id}`, [
      { op: 'copy', from: '/name/0', path: '/name/-' },
      { op: 'replace', path: '/name/1/use', value: 'usual' },
      { op: 'move', from: '/address/0/city', path: '/address/0/district' },
    ]);
    assert.equal(res.status, 200, res.text);
    const u = res.body as Patient;
    assert.equal(u.name?.length, 2);
    assert.equal(u.name?.[1]?.family, 'Petit');
    assert.equal(u.name?.[1]?.use, 'usual');
    assert.equal(u.name?.[0]?.use, 'official');
    assert.equal(u.address?.[0]?.city, undefined);
    assert.equal(u.address?.[0]?.district, 'Paris');
  });

  test('a failing test op answers 412 or 422 and changes nothing', async () => {
    const p = await createPatient();
    const res = await h.patch(`Patient/${p.id}`, [
      { op: 'test', path: '/gender', value: 'male' },
      { op: 'replace', path: '/gender', value: 'other' },
    ]);
    assertOutcome(res, { status: [412, 422], code: ['conflict', 'processing', 'business-rule', ...INVALID_CODES] });
    await unchanged(p);
  });

  test('a patch producing an invalid resource answers 400 or 422 naming the element, and changes nothing', async () => {
    const p = await createPatient();
    assertOutcome(await h.patch(`Patient/${p.id}`, [{ op: 'replace', path: '/birthDate', value: 12 }]), { status: [400, 422], code: INVALID_CODES, expression: 'Patient.birthDate' });
    assertOutcome(await h.patch(`Patient/${p.id}`, [{ op: 'add', path: '/foo', value: 'bar' }]), { status: [400, 422], code: INVALID_CODES, expression: 'foo' });
    assertOutcome(await h.patch(`Patient/${p.id}`, [{ op: 'replace', path: '/gender', value: 'martian' }]), { status: [400, 422], code: CODE_INVALID_CODES, expression: 'Patient.gender' });
    await unchanged(p);
  });

  test('a patch may not change the resourceType or the id', async () => {
    const p = await createPatient();
    assertOutcome(await h.patch(`Patient/${p.id}`, [{ op: 'replace', path: '/resourceType', value: 'Practitioner' }]), { status: [400, 422] });
    assertOutcome(await h.patch(`Patient/${p.id}`, [{ op: 'replace', path: '/id', value: 'other-id' }]), { status: [400, 422] });
    await unchanged(p);
    assert.equal((await h.get('Patient/other-id')).status, 404);
  });

  test('an operation on a missing path answers 400 or 422 and changes nothing', async () => {
    const p = await createPatient();
    assertOutcome(await h.patch(`Patient/${p.id}`, [{ op: 'replace', path: '/contact/0/name/family', value: 'X' }]), { status: [400, 422] });
    assertOutcome(await h.patch(`Patient/${p.id}`, [{ op: 'remove', path: '/photo' }]), { status: [400, 422] });
    await unchanged(p);
  });

  test('a malformed patch document (not an array, unknown op, bad JSON) answers 400', async () => {
    const p = await createPatient();
    assertOutcome(await h.patch(`Patient/${p.id}`, { op: 'replace', path: '/active', value: true }), { status: 400, code: [...INVALID_CODES, 'processing'] });
    assertOutcome(await h.patch(`Patient/${p.id}`, [{ op: 'frobnicate', path: '/active', value: true }]), { status: [400, 422], code: [...INVALID_CODES, 'processing'] });
    assertOutcome(await h.patch(`Patient/${p.id}`, '[{"op":"replace",'), { status: 400, code: [...INVALID_CODES, 'processing'] });
    await unchanged(p);
  });

  test('If-Match: the current version succeeds, a stale one answers 412', async () => {
    const p = await createPatient();
    const ok = await h.patch(`Patient/${p.id}`, [{ op: 'add', path: '/active', value: true }], { 'if-match': etag(1) });
    assert.equal(ok.status, 200, ok.text);
    const stale = await h.patch(`Patient/${p.id}`, [{ op: 'replace', path: '/active', value: false }], { 'if-match': etag(1) });
    assertOutcome(stale, { status: 412, code: ['conflict', 'processing', 'business-rule'] });
    const read = (await h.get(`Patient/${p.id}`)).body as Patient;
    assert.equal(read.active, true);
    assert.equal(read.meta?.versionId, '2');
  });

  test('PATCH of an unknown id answers 404; of a deleted resource answers 410 or 404', async () => {
    assertOutcome(await h.patch(`Patient/${uid('nope')}`, [{ op: 'add', path: '/active', value: true }]), { status: 404, code: 'not-found' });
    await expectHttpError(client.patch({ resourceType: 'Patient', id: uid('nope'), jsonPatch: [{ op: 'add', path: '/active', value: true }] }), 404);
    const p = await createPatient();
    assert.ok([200, 204].includes((await h.delete(`Patient/${p.id}`)).status));
    assertOutcome(await h.patch(`Patient/${p.id}`, [{ op: 'add', path: '/active', value: true }]), { status: [404, 410] });
  });

  test('PATCH with a FHIR resource body (Content-Type application/fhir+json) is not taken for a JSON Patch', async () => {
    const p = await createPatient();
    const res = await h.patch(`Patient/${p.id}`, { ...p, active: true }, {}, 'application/fhir+json');
    assert.ok(res.status === 400 || res.status === 415 || res.status === 422, `got ${res.status}: ${res.text.slice(0, 300)}`);
    assertOutcome(res, { status: res.status });
    await unchanged(p);
  });

  test('Prefer: return=minimal on PATCH gives an empty body', async () => {
    const p = await createPatient();
    const res = await h.patch(`Patient/${p.id}`, [{ op: 'add', path: '/active', value: false }], { prefer: 'return=minimal' });
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    assert.equal(res.headers.get('etag'), etag(2));
  });
});
