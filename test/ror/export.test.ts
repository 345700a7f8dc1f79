// FHIR Bulk Data $export over the demo ROR: kick-off (Prefer: respond-async required), polling the
// status URL until the manifest, NDJSON files whose lines parse and whose counts match searches,
// _type, _since, type level, bad parameters, and DELETE of the status URL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.ts';
import { sleep } from '../support/fhir-client.ts';

let server: TestServer;
const ASYNC = { prefer: 'respond-async', accept: 'application/fhir+json' };

before(async () => {
  server = await startTestServer({ demo: true });
});
after(() => server?.close());

async function kickOff(path: string): Promise<string> {
  const res = await fetch(`${server.fhirUrl}/${path}`, { headers: ASYNC });
  assert.equal(res.status, 202, await res.text());
  return res.headers.get('content-location')!;
}

async function manifest(status: string) {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(status);
    if (res.status === 200) {
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      return (await res.json()) as { transactionTime: string; request: string; requiresAccessToken: boolean; output: { type: string; url: string; count: number }[]; error: unknown[] };
    }
    assert.equal(res.status, 202, await res.text());
    assert.ok(res.headers.get('x-progress'));
    await sleep(50);
  }
  throw new Error('the export did not complete');
}

async function lines(url: string) {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/fhir\+ndjson/);
  return (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { resourceType: string; id: string });
}

const total = async (query: string) => ((await (await fetch(`${server.fhirUrl}/${query}${query.includes('?') ? '&' : '?'}_summary=count`)).json()) as { total: number }).total;

describe('$export', () => {
  it('exports the types asked for as NDJSON, counts matching the store', async () => {
    const status = await kickOff('$export?_type=Location,HealthcareService,Organization&_outputFormat=application/fhir%2Bndjson');
    const m = await manifest(status);
    assert.equal(m.requiresAccessToken, false);
    assert.match(m.request, /\$export\?_type=/);
    assert.deepEqual(m.error, []);
    assert.deepEqual(m.output.map((o) => o.type).sort(), ['HealthcareService', 'Location', 'Organization']);
    for (const o of m.output) {
      const resources = await lines(o.url);
      assert.equal(resources.length, o.count);
      assert.ok(resources.every((r) => r.resourceType === o.type));
      assert.equal(new Set(resources.map((r) => r.id)).size, resources.length);
      assert.equal(o.count, await total(o.type));
    }
    assert.equal(m.output.find((o) => o.type === 'Location')!.count, 14);
  });

  it('exports one type at type level, and only what changed since _since', async () => {
    const m = await manifest(await kickOff('Location/$export'));
    assert.deepEqual(m.output.map((o) => [o.type, o.count]), [['Location', 14]]);
    const mark = new Date().toISOString();
    await sleep(20);
    const loc = (await lines(m.output[0].url))[0];
    const put = await fetch(`${server.fhirUrl}/Location/${loc.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...loc, name: 'Renommé' }) });
    assert.equal(put.status, 200);
    const since = await manifest(await kickOff(`Location/$export?_since=${encodeURIComponent(mark)}`));
    assert.deepEqual(since.output.map((o) => o.count), [1]);
    assert.equal((await lines(since.output[0].url))[0].id, loc.id);
  });

  it('refuses a kick-off without Prefer: respond-async, or with bad parameters', async () => {
    const cases: [string, Record<string, string>][] = [
      ['$export', { accept: 'application/fhir+json' }],
      ['$export?_outputFormat=text/csv', ASYNC],
      ['$export?_type=Unknown', ASYNC],
      ['$export?_since=yesterday', ASYNC],
      ['$export?_typeFilter=Location%3Fname%3Dx', ASYNC],
      ['Patient/$export?_type=Location', ASYNC],
    ];
    for (const [path, headers] of cases) {
      const res = await fetch(`${server.fhirUrl}/${path}`, { headers });
      assert.equal(res.status, 400, path);
      assert.equal(((await res.json()) as { resourceType: string }).resourceType, 'OperationOutcome');
    }
  });

  it('cancels and removes a job with DELETE on its status URL', async () => {
    const status = await kickOff('$export?_type=Location');
    const m = await manifest(status);
    assert.equal((await fetch(status, { method: 'DELETE' })).status, 202);
    assert.equal((await fetch(status)).status, 404);
    assert.equal((await fetch(m.output[0].url)).status, 404);
  });
});
