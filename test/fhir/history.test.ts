// History: instance (Type/id/_history), type (Type/_history) and system (/_history), with _since and _count.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, BundleEntry, Patient } from '@medplum/fhirtypes';
import type { Client } from 'fhir-kit-client';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertFhirJson, assertOutcome, fhirClient, frPatient, glucoseObservation, httpFor, sleep, uid, type Http } from '../support/fhir-client.ts';

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

async function post<T>(type: string, body: unknown): Promise<T> {
  const res = await h.post(type, body);
  assert.equal(res.status, 201, res.text);
  return res.body as T;
}
async function put<T extends { resourceType: string; id?: string }>(r: T): Promise<T> {
  const res = await h.put(`${r.resourceType}/${r.id}`, r);
  assert.equal(res.status, 200, res.text);
  return res.body as T;
}

async function history(path: string): Promise<Bundle> {
  const res = await h.get(path);
  assert.equal(res.status, 200, `${path}: ${res.status} ${res.text.slice(0, 300)}`);
  assertFhirJson(res);
  const b = res.body as Bundle;
  assert.equal(b.resourceType, 'Bundle');
  assert.equal(b.type, 'history');
  return b;
}

const when = (e: BundleEntry) => Date.parse(e.resource?.meta?.lastUpdated ?? e.response?.lastModified ?? '');

function assertNewestFirst(b: Bundle): void {
  for (const e of b.entry ?? []) if (e.resource) assert.ok(!Number.isNaN(when(e)), 'a history entry with a resource needs meta.lastUpdated');
  // delete entries carry no resource; they are ordered by response.lastModified when the server gives it
  const times = (b.entry ?? []).map(when).filter((t) => !Number.isNaN(t));
  for (let i = 1; i < times.length; i++) assert.ok(times[i - 1]! >= times[i]!, `history not newest first at entry ${i}: ${JSON.stringify(b.entry?.map((e) => e.fullUrl))}`);
}

/** A patient with three versions: created, updated, deleted. */
async function patientWithThreeVersions(): Promise<{ p: Patient; v2: Patient }> {
  const p = await post<Patient>('Patient', frPatient({ family: 'Historique' }));
  const v2 = await put({ ...p, name: [{ family: 'Historique2' }] });
  const del = await h.delete(`Patient/${p.id}`);
  assert.ok([200, 204].includes(del.status));
  return { p, v2 };
}

describe('instance history', () => {
  test('lists every version newest first, with request and response on each entry', async () => {
    const { p } = await patientWithThreeVersions();
    const b = await history(`Patient/${p.id}/_history`);
    assert.equal(b.entry?.length, 3);
    if (b.total !== undefined) assert.equal(b.total, 3);
    const [e3, e2, e1] = b.entry!;
    // version 3: the delete
    assert.equal(e3!.request?.method, 'DELETE');
    assert.equal(e3!.request?.url, `Patient/${p.id}`);
    assert.equal(e3!.resource, undefined);
    assert.match(e3!.response?.status ?? '', /^(200|204|410)\b/);
    // version 2: the update
    assert.equal(e2!.request?.method, 'PUT');
    assert.equal(e2!.request?.url, `Patient/${p.id}`);
    assert.match(e2!.response?.status ?? '', /^200\b/);
    assert.equal((e2!.resource as Patient).meta?.versionId, '2');
    assert.equal((e2!.resource as Patient).name?.[0]?.family, 'Historique2');
    assert.equal(e2!.fullUrl, `${server.fhirUrl}/Patient/${p.id}`);
    // version 1: the create
    assert.equal(e1!.request?.method, 'POST');
    assert.equal(e1!.request?.url, 'Patient');
    assert.match(e1!.response?.status ?? '', /^201\b/);
    assert.equal((e1!.resource as Patient).meta?.versionId, '1');
    assert.equal((e1!.resource as Patient).name?.[0]?.family, 'Historique');
    for (const e of b.entry!) assert.equal(e.response?.etag === undefined || /^W\/"\d+"$/.test(e.response.etag), true);
    assert.equal(e2!.response?.etag ?? 'W/"2"', 'W/"2"');
    assertNewestFirst(b);
  });

  test('through fhir-kit-client', async () => {
    const p = await post<Patient>('Patient', frPatient());
    await put({ ...p, active: true });
    const b = (await client.history({ resourceType: 'Patient', id: p.id! })) as unknown as Bundle;
    assert.equal(b.type, 'history');
    assert.deepEqual(b.entry?.map((e) => (e.resource as Patient).meta?.versionId), ['2', '1']);
  });

  test('_count limits the page and a next link leads to the older versions', async () => {
    const p = await post<Patient>('Patient', frPatient());
    let cur = p;
    for (let i = 0; i < 4; i++) cur = await put({ ...cur, active: i % 2 === 0 });
    const page1 = await history(`Patient/${p.id}/_history?_count=2`);
    assert.deepEqual(page1.entry?.map((e) => (e.resource as Patient).meta?.versionId), ['5', '4']);
    if (page1.total !== undefined) assert.equal(page1.total, 5);
    const next = page1.link?.find((l) => l.relation === 'next')?.url;
    assert.ok(next, `no next link: ${JSON.stringify(page1.link)}`);
    assert.ok(next.startsWith(server.fhirUrl), `next link ${next} is not on this server`);
    const page2 = await history(next);
    assert.deepEqual(page2.entry?.map((e) => (e.resource as Patient).meta?.versionId), ['3', '2']);
  });

  test('_since keeps only the versions at or after the instant', async () => {
    const p = await post<Patient>('Patient', frPatient());
    await sleep(1100);
    const v2 = await put({ ...p, active: true });
    const v3 = await put({ ...v2, active: false });
    const since = v2.meta!.lastUpdated!;
    const b = await history(`Patient/${p.id}/_history?_since=${encodeURIComponent(since)}`);
    assert.deepEqual(b.entry?.map((e) => (e.resource as Patient).meta?.versionId), ['3', '2']);
    assert.equal((b.entry?.[0]?.resource as Patient).meta?.lastUpdated, v3.meta?.lastUpdated);
    // an instant in the future: nothing
    const future = new Date(Date.now() + 3600_000).toISOString();
    const none = await history(`Patient/${p.id}/_history?_since=${encodeURIComponent(future)}`);
    assert.equal(none.entry?.length ?? 0, 0);
  });

  test('history of an unknown id answers 404; an unparseable _since answers 400', async () => {
    assertOutcome(await h.get(`Patient/${uid('nope')}/_history`), { status: 404, code: 'not-found' });
    const p = await post<Patient>('Patient', frPatient());
    assertOutcome(await h.get(`Patient/${p.id}/_history?_since=yesterday`), { status: 400, code: ['invalid', 'value', 'processing'] });
  });
});

describe('type history', () => {
  test('Type/_history lists versions of that type only, newest first, with _since', async () => {
    // the instant comes from the server's clock: the lastUpdated of a marker of another type
    const marker = await post<{ meta: { lastUpdated: string } }>('Basic', { resourceType: 'Basic', code: { text: 'marqueur' } });
    const start = marker.meta.lastUpdated;
    const a = await post<Patient>('Patient', frPatient());
    const o = await post<{ id: string }>('Observation', glucoseObservation(`Patient/${a.id}`));
    const a2 = await put({ ...a, active: true });
    const b = await post<Patient>('Patient', frPatient());
    const bundle = await history(`Patient/_history?_since=${encodeURIComponent(start)}`);
    const got = bundle.entry!.map((e) => `${(e.resource as Patient)?.id}/${(e.resource as Patient)?.meta?.versionId}`);
    assert.deepEqual(got, [`${b.id}/1`, `${a2.id}/2`, `${a.id}/1`]);
    assert.ok(bundle.entry!.every((e) => e.resource?.resourceType === 'Patient'));
    assert.ok(!got.some((g) => g.startsWith(o.id)));
    if (bundle.total !== undefined) assert.equal(bundle.total, 3);
    assertNewestFirst(bundle);
    const viaClient = (await client.history({ resourceType: 'Patient' })) as unknown as Bundle;
    assert.equal(viaClient.type, 'history');
    assert.ok((viaClient.entry?.length ?? 0) >= 3);
  });

  test('Type/_history?_count=1 returns one entry, the newest', async () => {
    const p = await post<Patient>('Patient', frPatient());
    const newest = await put({ ...p, active: false });
    const b = await history('Patient/_history?_count=1');
    assert.equal(b.entry?.length, 1);
    const r = b.entry![0]!.resource as Patient;
    assert.equal(r.id, newest.id);
    assert.equal(r.meta?.versionId, '2');
    assert.ok(b.link?.some((l) => l.relation === 'next'), 'more versions exist: a next link is expected');
  });
});

describe('system history', () => {
  test('/_history lists all types newest first, with _since and _count', async () => {
    // the instant comes from the server's clock: the lastUpdated of a marker, which is listed last
    const marker = await post<{ id: string; meta: { lastUpdated: string } }>('Basic', { resourceType: 'Basic', code: { text: 'marqueur' } });
    const start = marker.meta.lastUpdated;
    const p = await post<Patient>('Patient', frPatient());
    const o = await post<{ id: string; resourceType: string }>('Observation', glucoseObservation(`Patient/${p.id}`));
    const del = await h.delete(`Observation/${o.id}`);
    assert.ok([200, 204].includes(del.status));
    const b = await history(`_history?_since=${encodeURIComponent(start)}`);
    assert.equal(b.entry?.length, 4, JSON.stringify(b.entry?.map((e) => e.request)));
    assert.equal(b.entry![3]!.resource?.id, marker.id);
    assert.equal(b.entry![0]!.request?.method, 'DELETE');
    assert.equal(b.entry![0]!.request?.url, `Observation/${o.id}`);
    assert.equal(b.entry![1]!.resource?.resourceType, 'Observation');
    assert.equal(b.entry![1]!.request?.method, 'POST');
    assert.equal(b.entry![1]!.fullUrl, `${server.fhirUrl}/Observation/${o.id}`);
    assert.equal(b.entry![2]!.resource?.resourceType, 'Patient');
    assert.equal(b.entry![2]!.resource?.id, p.id);
    for (const e of b.entry!) assert.ok(e.request?.method && e.request.url && e.response?.status, 'entry without request/response');
    // page through with _count=1: the next links keep _since and walk the same four entries
    const seen: string[] = [];
    let page: Bundle | undefined = await history(`_history?_since=${encodeURIComponent(start)}&_count=1`);
    assert.equal(page.entry?.length, 1);
    assert.equal(page.entry![0]!.request?.method, 'DELETE');
    for (let i = 0; page && i < 10; i++) {
      for (const e of page.entry ?? []) seen.push(`${e.request?.method} ${e.request?.url}`);
      const next: string | undefined = page.link?.find((l) => l.relation === 'next')?.url;
      page = next ? await history(next) : undefined;
    }
    assert.deepEqual(seen, b.entry!.map((e) => `${e.request?.method} ${e.request?.url}`));
    const viaClient = (await client.history()) as unknown as Bundle;
    assert.equal(viaClient.type, 'history');
    assert.ok((viaClient.entry?.length ?? 0) >= 3);
  });
});
