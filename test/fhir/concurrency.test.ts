// Concurrent writes over HTTP: versions stay unique and gapless, optimistic locking (If-Match) lets
// exactly one writer win, no update is lost (PATCH read-modify-write), creates get distinct ids.
// A server may answer 409 to a writer that lost a race (FHIR http.html#concurrency); it may not
// lose or duplicate a version.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import { byKey, countMatches, etag, frPatient, httpFor, TEST_SYSTEM, uid, type Http } from '../support/fhir-client.ts';

let server: TestServer;
let h: Http;

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
});
after(async () => {
  await server?.close();
});

const PARALLEL = 12;

async function createPatient(p: Patient = frPatient()): Promise<Patient> {
  const res = await h.post('Patient', p);
  assert.equal(res.status, 201, res.text);
  return res.body as Patient;
}

/** The version ids of a resource's history, oldest first. */
async function versions(id: string): Promise<string[]> {
  const res = await h.get(`Patient/${id}/_history?_count=1000`);
  assert.equal(res.status, 200);
  return ((res.body as Bundle).entry ?? []).map((e) => (e.resource as Patient | undefined)?.meta?.versionId ?? `deleted:${e.request?.method}`).reverse();
}

const range = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

describe('concurrent writes', () => {
  test('parallel updates of one resource: every success is its own version, no gap, no duplicate', async () => {
    const p = await createPatient();
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => h.put(`Patient/${p.id}`, { ...p, meta: undefined, name: [{ family: `Parallèle${i}` }] })),
    );
    for (const r of results) assert.ok(r.status === 200 || r.status === 409, `parallel PUT answered ${r.status}: ${r.text.slice(0, 300)}`);
    const ok = results.filter((r) => r.status === 200);
    assert.ok(ok.length >= 1, 'no parallel update succeeded');
    const returned = ok.map((r) => (r.body as Patient).meta?.versionId).sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(returned, range(ok.length + 1).slice(1), 'the successful updates must return versions 2..n+1, each once');
    assert.deepEqual(await versions(p.id!), range(ok.length + 1));
    const current = (await h.get(`Patient/${p.id}`)).body as Patient;
    assert.equal(current.meta?.versionId, String(ok.length + 1));
    // the current content is the one of the update that got the last version
    const last = ok.find((r) => (r.body as Patient).meta?.versionId === current.meta?.versionId)!;
    assert.equal(current.name?.[0]?.family, (last.body as Patient).name?.[0]?.family);
  });

  test('parallel updates with the same If-Match: exactly one wins, the others get 412 (or 409)', async () => {
    const p = await createPatient();
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => h.put(`Patient/${p.id}`, { ...p, name: [{ family: `Verrou${i}` }] }, { 'if-match': etag(1) })),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, `exactly one writer must win: ${statuses.join(',')}`);
    assert.ok(statuses.every((s) => s === 200 || s === 412 || s === 409), `losers must get 412/409: ${statuses.join(',')}`);
    assert.deepEqual(await versions(p.id!), ['1', '2']);
  });

  test('parallel JSON Patches: no update is lost', async () => {
    const p = await createPatient();
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        h.patch(`Patient/${p.id}`, [{ op: 'add', path: '/identifier/-', value: { system: 'urn:socle:parallel', value: `p${i}` } }]),
      ),
    );
    for (const r of results) assert.ok(r.status === 200 || r.status === 409, `parallel PATCH answered ${r.status}: ${r.text.slice(0, 300)}`);
    const won = results.flatMap((r, i) => (r.status === 200 ? [`p${i}`] : []));
    assert.ok(won.length >= 1);
    const current = (await h.get(`Patient/${p.id}`)).body as Patient;
    const present = (current.identifier ?? []).filter((x) => x.system === 'urn:socle:parallel').map((x) => x.value).sort();
    assert.deepEqual(present, [...won].sort(), 'every acknowledged patch must be in the final resource (lost update)');
    assert.equal(current.meta?.versionId, String(won.length + 1));
  });

  test('parallel creates get distinct ids, all readable', async () => {
    const key = uid('par');
    const results = await Promise.all(Array.from({ length: PARALLEL * 2 }, () => h.post('Patient', frPatient({ key }))));
    for (const r of results) assert.equal(r.status, 201, r.text.slice(0, 300));
    const ids = results.map((r) => (r.body as Patient).id);
    assert.equal(new Set(ids).size, ids.length, 'duplicate ids');
    assert.equal(await countMatches(h, `Patient?${byKey(key)}&_count=100`), PARALLEL * 2);
  });

  test('parallel deletes of one resource: one delete version only', async () => {
    const p = await createPatient();
    const results = await Promise.all(Array.from({ length: PARALLEL }, () => h.delete(`Patient/${p.id}`)));
    for (const r of results) assert.ok([200, 204, 409].includes(r.status), `parallel DELETE answered ${r.status}`);
    assert.equal((await h.get(`Patient/${p.id}`)).status, 410);
    const v = await versions(p.id!);
    assert.equal(v.length, 2, `history after parallel deletes: ${v.join(',')}`);
  });

  test('parallel transactions updating the same two resources in opposite orders: no 5xx (no unhandled deadlock), no lost version', async () => {
    const a = await createPatient();
    const b = await createPatient();
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => {
        const first = i % 2 ? a : b;
        const second = i % 2 ? b : a;
        return h.post('', {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            { resource: { ...first, meta: undefined, active: true }, request: { method: 'PUT', url: `Patient/${first.id}` } },
            { resource: { ...second, meta: undefined, active: false }, request: { method: 'PUT', url: `Patient/${second.id}` } },
          ],
        });
      }),
    );
    for (const r of results) assert.ok(r.status === 200 || r.status === 409, `parallel transaction answered ${r.status}: ${r.text.slice(0, 300)}`);
    const ok = results.filter((r) => r.status === 200).length;
    assert.ok(ok >= 1, 'no transaction succeeded');
    // every committed transaction wrote one version of each resource, every failed one none
    assert.deepEqual(await versions(a.id!), range(ok + 1));
    assert.deepEqual(await versions(b.id!), range(ok + 1));
  });

  test('parallel conditional updates on a fresh identifier create one resource, not several', async () => {
    // FHIR leaves this to the server; a server that serialises conditional writes creates one resource
    // and updates it. Creating several would make every later conditional update on it fail with 412.
    const key = uid('cupar');
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => h.put(`Patient?identifier=${TEST_SYSTEM}|${key}`, frPatient({ key, family: `Cond${i}` }))),
    );
    for (const r of results) assert.ok([200, 201, 409, 412].includes(r.status), `parallel conditional PUT answered ${r.status}: ${r.text.slice(0, 300)}`);
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 1, 'parallel conditional updates created duplicates');
  });
});
