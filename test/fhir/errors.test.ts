// Error paths of the REST layer: unknown types and ids, wrong methods, body limit, unsupported media
// types, unknown routes; every error is an application/fhir+json OperationOutcome and odd input never
// yields a 5xx or a stack trace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Patient } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertAllowOn405, assertFhirJson, assertOutcome, byKey, countMatches, frPatient, http, httpFor, uid, type Http } from '../support/fhir-client.ts';

let server: TestServer;
let h: Http;

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
});
after(async () => {
  await server?.close();
});

describe('unknown resource types and ids', () => {
  test('GET, POST, PUT, DELETE on an unknown resource type answer 404', async () => {
    assertOutcome(await h.get('NotAType/1'), { status: 404, code: ['not-found', 'not-supported'] });
    assertOutcome(await h.get('NotAType'), { status: 404, code: ['not-found', 'not-supported'] });
    assertOutcome(await h.post('NotAType', { resourceType: 'NotAType' }), { status: 404, code: ['not-found', 'not-supported'] });
    assertOutcome(await h.put('NotAType/1', { resourceType: 'NotAType', id: '1' }), { status: 404, code: ['not-found', 'not-supported'] });
    assertOutcome(await h.delete('NotAType/1'), { status: 404, code: ['not-found', 'not-supported'] });
    assertOutcome(await h.get('NotAType/1/_history'), { status: 404, code: ['not-found', 'not-supported'] });
  });

  test('resource types are case-sensitive: /fhir/patient is unknown', async () => {
    assertOutcome(await h.get('patient'), { status: 404 });
  });

  test('types that are never stored (OperationOutcome, Parameters) are not resource endpoints', async () => {
    assertOutcome(await h.post('OperationOutcome', { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid' }] }), { status: [400, 404, 405] });
  });

  test('an unknown id answers 404 naming the resource', async () => {
    const id = uid('absent');
    const oo = assertOutcome(await h.get(`Patient/${id}`), { status: 404, code: 'not-found' });
    const text = oo.issue.map((i) => `${i.diagnostics ?? ''} ${i.details?.text ?? ''}`).join(' ');
    assert.ok(text.includes(id) || text.includes('Patient'), `the 404 should say what was not found: ${text}`);
  });

  test('an unknown route under /fhir answers 404 OperationOutcome (not a framework error page)', async () => {
    for (const path of ['Patient/1/2/3/4/5', 'Patient/1/_history/1/extra']) {
      const res = await h.get(path);
      assertOutcome(res, { status: [400, 404, 405] });
    }
  });
});

describe('wrong methods', () => {
  test('DELETE /fhir/Patient without criteria answers 405 or 400, and deletes nothing', async () => {
    const p = (await h.post('Patient', frPatient())).body as Patient;
    const res = await h.delete('Patient');
    assertOutcome(res, { status: [400, 405] });
    assert.equal((await h.get(`Patient/${p.id}`)).status, 200);
  });

  test('PUT /fhir/Patient without criteria answers 405 or 400, and creates nothing', async () => {
    const key = uid('putType');
    const res = await h.put('Patient', frPatient({ key }));
    assertOutcome(res, { status: [400, 405] });
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 0);
  });

  test('POST /fhir/Patient/id answers 405 or 400', async () => {
    const p = (await h.post('Patient', frPatient())).body as Patient;
    const res = await h.post(`Patient/${p.id}`, p);
    assertOutcome(res, { status: [400, 405] });
    assert.equal(((await h.get(`Patient/${p.id}`)).body as Patient).meta?.versionId, '1');
  });

  test('PATCH /fhir/Patient without id answers 405 or 400', async () => {
    const res = await h.patch('Patient', [{ op: 'replace', path: '/active', value: true }]);
    assertOutcome(res, { status: [400, 405] });
  });

  test('PUT and DELETE on a version (Patient/id/_history/n) answer 405 or 400', async () => {
    const p = (await h.post('Patient', frPatient())).body as Patient;
    for (const res of [await h.put(`Patient/${p.id}/_history/1`, p), await h.delete(`Patient/${p.id}/_history/1`)]) {
      assertOutcome(res, { status: [400, 405] });
    }
    assert.equal((await h.get(`Patient/${p.id}`)).status, 200);
  });
});

describe('Allow header', () => {
  test('every 405 answer carries an Allow header listing the methods of the target (RFC 9110 §15.5.6)', async () => {
    const p = (await h.post('Patient', frPatient())).body as Patient;
    const cases: Array<[string, string, unknown, string[]]> = [
      ['DELETE', 'Patient', undefined, ['GET', 'POST']],
      ['PUT', 'Patient', frPatient(), ['GET', 'POST']],
      ['PATCH', 'Patient', [{ op: 'add', path: '/active', value: true }], ['GET', 'POST']],
      ['POST', `Patient/${p.id}`, p, ['GET', 'PUT', 'PATCH', 'DELETE']],
      ['PUT', `Patient/${p.id}/_history/1`, p, ['GET']],
      ['DELETE', `Patient/${p.id}/_history/1`, undefined, ['GET']],
      ['GET', 'Patient/1/2/3/4/5', undefined, []],
    ];
    const failures: string[] = [];
    let seen405 = 0;
    for (const [method, path, body, methods] of cases) {
      const res = await http(server.fhirUrl, method, path, { body, contentType: method === 'PATCH' ? 'application/json-patch+json' : undefined });
      if (res.status !== 405) continue;
      seen405++;
      try {
        assertAllowOn405(res, methods);
      } catch (err) {
        failures.push(`${method} /fhir/${path}: ${(err as Error).message}`);
      }
    }
    assert.deepEqual(failures, [], `${failures.length} of ${seen405} 405 answers lack a correct Allow header`);
  });
});

describe('media types', () => {
  test('Content-Type text/plain on POST answers 415, nothing created', async () => {
    const key = uid('plain');
    assertOutcome(await h.post('Patient', JSON.stringify(frPatient({ key })), {}, 'text/plain'), { status: 415, code: ['not-supported', 'invalid', 'processing'] });
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 0);
  });

  test('Content-Type application/fhir+xml and application/xml answer 415', async () => {
    const xml = '<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>';
    assertOutcome(await h.post('Patient', xml, {}, 'application/fhir+xml'), { status: 415 });
    assertOutcome(await h.post('Patient', xml, {}, 'application/xml'), { status: 415 });
  });

  test('Content-Type text/plain on PUT answers 415, the resource is unchanged', async () => {
    const p = (await h.post('Patient', frPatient())).body as Patient;
    assertOutcome(await h.put(`Patient/${p.id}`, JSON.stringify({ ...p, active: true }), {}, 'text/plain'), { status: 415 });
    assert.equal(((await h.get(`Patient/${p.id}`)).body as Patient).meta?.versionId, '1');
  });

  test('responses are application/fhir+json; charset=utf-8, whatever JSON type is asked', async () => {
    for (const accept of ['application/fhir+json', 'application/json', '*/*', 'application/json, text/plain, */*']) {
      const res = await h.get('metadata', { accept });
      assert.equal(res.status, 200);
      assertFhirJson(res, `Accept: ${accept}`);
    }
    const created = await h.post('Patient', frPatient());
    assertFhirJson(created);
    assertFhirJson(await h.get(`Patient/${(created.body as Patient).id}`));
    assertFhirJson(await h.get('Patient?_count=1'));
  });
});

describe('body limit', () => {
  test('a body over bodyLimit answers 413 OperationOutcome; a small one is accepted', async () => {
    const small = await startTestServer({ bodyLimit: 1000 });
    try {
      const sh = httpFor(small.fhirUrl);
      const key = uid('big');
      const big = frPatient({ key });
      big.name = [{ family: 'Martin', given: ['x'.repeat(2000)] }];
      assert.ok(JSON.stringify(big).length > 1000);
      assertOutcome(await sh.post('Patient', big), { status: 413, code: ['too-costly', 'too-long', 'invalid', 'processing', 'exception'] });
      const ok = await sh.post('Patient', frPatient());
      assert.ok(JSON.stringify(frPatient()).length < 1000);
      assert.equal(ok.status, 201, ok.text);
      assert.equal(await countMatches(sh, `Patient?${byKey(key)}`), 0);
      // the limit applies to Bundles too
      const bundle = { resourceType: 'Bundle', type: 'batch', entry: [{ resource: big, request: { method: 'POST', url: 'Patient' } }] };
      assertOutcome(await sh.post('', bundle), { status: 413 });
    } finally {
      await small.close();
    }
  });
});

describe('odd input', () => {
  test('never yields a 5xx; every error is an OperationOutcome without a stack trace', async () => {
    const p = (await h.post('Patient', frPatient())).body as Patient;
    let deep: Record<string, unknown> = { url: 'http://example.org/leaf', valueString: 'x' };
    for (let i = 0; i < 300; i++) deep = { url: `http://example.org/e${i}`, extension: [deep] };
    const cases: Array<[string, string, unknown?, Record<string, string>?, string?]> = [
      ['GET', `Patient/${'a'.repeat(300)}`],
      ['GET', 'Patient/%00'],
      ['GET', 'Patient/..%2F..%2Fetc%2Fpasswd'],
      ['GET', `Patient/${p.id}/_history/abc`],
      ['GET', `Patient/${p.id}/_history/99999999999999999999`],
      ['GET', `Patient/${p.id}/_history/-1`],
      ['GET', `Patient/${p.id}/_history?_count=abc`],
      ['GET', `Patient/${p.id}/_history?_since=2024-02-30T00:00:00Z`],
      ['GET', 'Patient?_count=100000000'],
      ['GET', 'Patient?_id=%27%3B%20DROP%20TABLE%20%22Patient%22%3B--'],
      ['GET', "Patient?name=O'Brien"],
      ['POST', 'Patient', { resourceType: 5 }],
      ['POST', 'Patient', { resourceType: 'Patient', meta: 'x' }],
      ['POST', 'Patient', { resourceType: 'Patient', meta: { versionId: 3, lastUpdated: 'hier' } }],
      ['POST', 'Patient', { resourceType: 'Patient', id: { a: 1 } }],
      ['POST', 'Patient', { resourceType: 'Patient', extension: [deep] }],
      ['POST', 'Patient', { resourceType: 'Patient', contained: [{ resourceType: 'Nope' }] }],
      ['POST', 'Patient', '{"resourceType":"Patient","__proto__":{"polluted":true}}'],
      ['PUT', `Patient/${p.id}`, { ...p, active: false }, { 'if-match': 'garbage' }],
      ['PUT', `Patient/${p.id}`, { ...p, active: false }, { 'if-match': 'W/"abc"' }],
      ['PATCH', `Patient/${p.id}`, { op: 'replace' }, undefined, 'application/json-patch+json'],
      ['PATCH', `Patient/${p.id}`, '[{"op":"replace","path":"/active","value":tru', undefined, 'application/json-patch+json'],
      ['POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'FLY', url: 'Patient' } }] }],
      ['POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'GET' } }] }],
      ['POST', '', { resourceType: 'Bundle', type: 'batch', entry: 'x' }],
      ['POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'http://elsewhere.example/fhir/Patient/1' } }] }],
    ];
    const failures: string[] = [];
    for (const [method, path, body, headers, contentType] of cases) {
      const res = await http(server.fhirUrl, method, path, { body, headers, contentType });
      const what = `${method} /fhir/${path} ${typeof body === 'string' ? body : JSON.stringify(body ?? '').slice(0, 80)}`;
      try {
        assert.ok(res.status < 500, `answered ${res.status}: ${res.text.slice(0, 300)}`);
        assert.doesNotMatch(res.text, /\n\s+at .+:\d+:\d+/, 'stack trace in the body');
        if (res.status >= 400) assertOutcome(res, { status: res.status });
        else assertFhirJson(res, what);
      } catch (err) {
        failures.push(`${what} → ${(err as Error).message.split('\n')[0]}`);
      }
    }
    assert.deepEqual(failures, [], `odd requests mishandled:\n${failures.join('\n')}`);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'prototype pollution');
    assert.equal(((await h.get(`Patient/${p.id}`)).body as Patient).meta?.versionId, '1', 'an odd request changed the resource');
  });
});
