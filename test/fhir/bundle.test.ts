// batch and transaction Bundles posted to /fhir: atomicity, urn:uuid and conditional references,
// processing order (DELETE, POST, PUT/PATCH, GET), conditional entries and the response Bundle.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Encounter, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { Client } from 'fhir-kit-client';
import { startTestServer, type TestServer } from '../support/server.ts';
import {
  assertFhirJson,
  assertOutcome,
  byKey,
  countMatches,
  encounter,
  fhirClient,
  frPatient,
  glucoseObservation,
  httpFor,
  INVALID_CODES,
  TEST_SYSTEM,
  uid,
  type Http,
  type HttpResult,
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

const urn = () => `urn:uuid:${randomUUID()}`;
const ident = (key: string) => `identifier=${TEST_SYSTEM}|${key}`;

async function createPatient(p: Patient): Promise<Patient> {
  const res = await h.post('Patient', p);
  assert.equal(res.status, 201, res.text);
  return res.body as Patient;
}

function tx(type: 'transaction' | 'batch', entry: BundleEntry[]): Bundle {
  // an empty array is not valid FHIR JSON: no entries means no entry element
  return entry.length ? { resourceType: 'Bundle', type, entry } : { resourceType: 'Bundle', type };
}

async function postBundle(bundle: Bundle, headers?: Record<string, string>): Promise<HttpResult> {
  return h.post('', bundle, headers);
}

function okResponse(res: HttpResult, type: 'transaction-response' | 'batch-response', n: number): BundleEntry[] {
  assert.equal(res.status, 200, `bundle answered ${res.status}: ${res.text.slice(0, 800)}`);
  assertFhirJson(res);
  const b = res.body as Bundle;
  assert.equal(b.resourceType, 'Bundle');
  assert.equal(b.type, type);
  assert.equal(b.entry?.length, n, `response has ${b.entry?.length} entries for ${n} requests`);
  for (const e of b.entry!) assert.match(e.response?.status ?? '', /^\d{3}( .*)?$/, `entry response.status "${e.response?.status}" is not "NNN Text"`);
  return b.entry!;
}

/** "Patient/123/_history/1" or an absolute URL ending so → ["Patient", "123", "1"]. */
function parseLocation(loc: string | undefined, type: string): { id: string; version: string } {
  assert.ok(loc, 'entry response.location is missing');
  const m = new RegExp(`(?:^|/)${type}/([A-Za-z0-9\\-.]{1,64})/_history/(\\d+)$`).exec(loc);
  assert.ok(m, `location "${loc}" is not ${type}/id/_history/version`);
  if (loc.startsWith('http')) assert.ok(loc.startsWith(server.fhirUrl), `absolute location ${loc} is not on this server`);
  return { id: m[1]!, version: m[2]! };
}

/** Asserts an error issue mentions the element (in expression, location or diagnostics). */
function mentions(oo: OperationOutcome | undefined, element: string): void {
  assert.equal(oo?.resourceType, 'OperationOutcome');
  const all = (oo!.issue ?? []).flatMap((i) => [...(i.expression ?? []), ...(i.location ?? []), i.diagnostics ?? '']);
  assert.ok(all.some((s) => s.includes(element)), `no issue mentions ${element}: ${JSON.stringify(oo)}`);
}

describe('transaction', () => {
  test('urn:uuid fullUrls are replaced by the new ids in references between entries', async () => {
    const key = uid('txu');
    const pu = urn();
    const eu = urn();
    const ou = urn();
    const bundle = tx('transaction', [
      { fullUrl: ou, resource: glucoseObservation(pu, 7.2, eu), request: { method: 'POST', url: 'Observation' } },
      { fullUrl: pu, resource: frPatient({ key }), request: { method: 'POST', url: 'Patient' } },
      { fullUrl: eu, resource: encounter(pu), request: { method: 'POST', url: 'Encounter' } },
    ]);
    const entries = okResponse(await postBundle(bundle), 'transaction-response', 3);
    for (const e of entries) {
      assert.match(e.response!.status, /^201\b/);
      assert.equal(e.response!.etag ?? 'W/"1"', 'W/"1"');
    }
    const obs = parseLocation(entries[0]!.response!.location, 'Observation');
    const pat = parseLocation(entries[1]!.response!.location, 'Patient');
    const enc = parseLocation(entries[2]!.response!.location, 'Encounter');
    assert.equal(obs.version, '1');
    const o = (await h.get(`Observation/${obs.id}`)).body as Observation;
    assert.equal(o.subject?.reference, `Patient/${pat.id}`);
    assert.equal(o.encounter?.reference, `Encounter/${enc.id}`);
    const e = (await h.get(`Encounter/${enc.id}`)).body as Encounter;
    assert.equal(e.subject?.reference, `Patient/${pat.id}`);
    const p = (await h.get(`Patient/${pat.id}`)).body as Patient;
    assert.equal(p.identifier?.[1]?.value, key);
    // the response carries the created resources (return=representation is the default)
    if (entries[0]!.resource) assert.equal((entries[0]!.resource as Observation).subject?.reference, `Patient/${pat.id}`);
  });

  test('through fhir-kit-client', async () => {
    const pu = urn();
    const res = (await client.transaction({
      body: tx('transaction', [
        { fullUrl: pu, resource: frPatient(), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: urn(), resource: glucoseObservation(pu), request: { method: 'POST', url: 'Observation' } },
      ]) as any,
    })) as unknown as Bundle;
    assert.equal(res.type, 'transaction-response');
    assert.equal(res.entry?.length, 2);
    const pid = parseLocation(res.entry![0]!.response?.location, 'Patient').id;
    const oid = parseLocation(res.entry![1]!.response?.location, 'Observation').id;
    const o = (await client.read({ resourceType: 'Observation', id: oid })) as unknown as Observation;
    assert.equal(o.subject?.reference, `Patient/${pid}`);
  });

  test('one invalid entry: 400 with an OperationOutcome, and no other entry leaves a trace', async () => {
    const k1 = uid('txa');
    const kBad = uid('txbad');
    const existing = await createPatient(frPatient({ family: 'Intact' }));
    const pu = urn();
    const res = await postBundle(
      tx('transaction', [
        { fullUrl: pu, resource: frPatient({ key: k1 }), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: urn(), resource: glucoseObservation(pu), request: { method: 'POST', url: 'Observation' } },
        { resource: { ...existing, name: [{ family: 'Modifié' }] }, request: { method: 'PUT', url: `Patient/${existing.id}` } },
        { fullUrl: urn(), resource: { ...frPatient({ key: kBad }), birthDate: 12 } as unknown as Patient, request: { method: 'POST', url: 'Patient' } },
      ]),
    );
    const oo = assertOutcome(res, { status: 400, code: INVALID_CODES });
    mentions(oo, 'birthDate');
    assert.equal(await countMatches(h, `Patient?${byKey(k1)}`), 0, 'the valid Patient of a failed transaction was created');
    assert.equal(await countMatches(h, `Patient?${byKey(kBad)}`), 0);
    const read = (await h.get(`Patient/${existing.id}`)).body as Patient;
    assert.equal(read.meta?.versionId, '1', 'the update of a failed transaction was kept');
    assert.equal(read.name?.[0]?.family, 'Intact');
    const hist = (await h.get(`Patient/${existing.id}/_history`)).body as Bundle;
    assert.equal(hist.entry?.length, 1, 'a failed transaction left a history entry');
  });

  test('a stale If-Match in one entry fails the whole transaction (412 or 409), nothing kept', async () => {
    const k = uid('txm');
    const existing = await createPatient(frPatient());
    const res = await postBundle(
      tx('transaction', [
        { fullUrl: urn(), resource: frPatient({ key: k }), request: { method: 'POST', url: 'Patient' } },
        { resource: { ...existing, active: false }, request: { method: 'PUT', url: `Patient/${existing.id}`, ifMatch: 'W/"7"' } },
      ]),
    );
    assertOutcome(res, { status: [412, 409] });
    assert.equal(await countMatches(h, `Patient?${byKey(k)}`), 0);
    assert.equal(((await h.get(`Patient/${existing.id}`)).body as Patient).meta?.versionId, '1');
  });

  test('a reference to a urn:uuid that is not in the Bundle fails the transaction, nothing kept', async () => {
    const k = uid('txr');
    const res = await postBundle(
      tx('transaction', [
        { fullUrl: urn(), resource: frPatient({ key: k }), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: urn(), resource: glucoseObservation(urn()), request: { method: 'POST', url: 'Observation' } },
      ]),
    );
    assertOutcome(res, { status: [400, 404, 422] });
    assert.equal(await countMatches(h, `Patient?${byKey(k)}`), 0);
  });

  test('two entries on the same resource fail the transaction (400), nothing kept', async () => {
    const existing = await createPatient(frPatient());
    const res = await postBundle(
      tx('transaction', [
        { resource: { ...existing, active: true }, request: { method: 'PUT', url: `Patient/${existing.id}` } },
        { resource: { ...existing, active: false }, request: { method: 'PUT', url: `Patient/${existing.id}` } },
      ]),
    );
    assertOutcome(res, { status: [400, 409, 422] });
    assert.equal(((await h.get(`Patient/${existing.id}`)).body as Patient).meta?.versionId, '1');
  });

  test('conditional references (Patient?identifier=…) are resolved inside the transaction', async () => {
    const key = uid('txc');
    const p = await createPatient(frPatient({ key }));
    const entries = okResponse(
      await postBundle(
        tx('transaction', [
          { fullUrl: urn(), resource: glucoseObservation(`Patient?${ident(key)}`), request: { method: 'POST', url: 'Observation' } },
        ]),
      ),
      'transaction-response',
      1,
    );
    const oid = parseLocation(entries[0]!.response?.location, 'Observation').id;
    const o = (await h.get(`Observation/${oid}`)).body as Observation;
    assert.equal(o.subject?.reference, `Patient/${p.id}`);
  });

  test('a conditional reference with no match (or several) fails the transaction, nothing kept', async () => {
    const k = uid('txcn');
    const none = await postBundle(
      tx('transaction', [
        { fullUrl: urn(), resource: frPatient({ key: k }), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: urn(), resource: glucoseObservation(`Patient?${ident(uid('absent'))}`), request: { method: 'POST', url: 'Observation' } },
      ]),
    );
    assertOutcome(none, { status: [400, 404, 412, 422] });
    assert.equal(await countMatches(h, `Patient?${byKey(k)}`), 0);
    const dup = uid('txdup');
    await createPatient(frPatient({ key: dup }));
    await createPatient(frPatient({ key: dup }));
    const many = await postBundle(
      tx('transaction', [
        { fullUrl: urn(), resource: frPatient({ key: k }), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: urn(), resource: glucoseObservation(`Patient?${ident(dup)}`), request: { method: 'POST', url: 'Observation' } },
      ]),
    );
    assertOutcome(many, { status: [400, 412, 422] });
    assert.equal(await countMatches(h, `Patient?${byKey(k)}`), 0);
  });

  test('ifNoneExist on an entry returns the existing resource, and references to that entry point at it', async () => {
    const key = uid('txine');
    const existing = await createPatient(frPatient({ key }));
    const pu = urn();
    const entries = okResponse(
      await postBundle(
        tx('transaction', [
          { fullUrl: pu, resource: frPatient({ key }), request: { method: 'POST', url: 'Patient', ifNoneExist: ident(key) } },
          { fullUrl: urn(), resource: glucoseObservation(pu), request: { method: 'POST', url: 'Observation' } },
        ]),
      ),
      'transaction-response',
      2,
    );
    assert.match(entries[0]!.response!.status, /^200\b/);
    // no create happened, so a location is optional; when given, or when the resource is returned, it is the existing one
    if (entries[0]!.response?.location) assert.equal(parseLocation(entries[0]!.response.location, 'Patient').id, existing.id);
    if (entries[0]!.resource) assert.equal(entries[0]!.resource.id, existing.id);
    assert.match(entries[1]!.response!.status, /^201\b/);
    const o = (await h.get(`Observation/${parseLocation(entries[1]!.response?.location, 'Observation').id}`)).body as Observation;
    assert.equal(o.subject?.reference, `Patient/${existing.id}`);
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 1);
  });

  test('conditional update entry (PUT Patient?identifier=…) creates when nothing matches, updates when one does', async () => {
    const key = uid('txcu');
    const first = okResponse(
      await postBundle(tx('transaction', [{ resource: frPatient({ key, family: 'Un' }), request: { method: 'PUT', url: `Patient?${ident(key)}` } }])),
      'transaction-response',
      1,
    );
    assert.match(first[0]!.response!.status, /^201\b/);
    const id = parseLocation(first[0]!.response?.location, 'Patient').id;
    const second = okResponse(
      await postBundle(tx('transaction', [{ resource: frPatient({ key, family: 'Deux' }), request: { method: 'PUT', url: `Patient?${ident(key)}` } }])),
      'transaction-response',
      1,
    );
    assert.match(second[0]!.response!.status, /^200\b/);
    assert.deepEqual(parseLocation(second[0]!.response?.location, 'Patient'), { id, version: '2' });
    assert.equal(((await h.get(`Patient/${id}`)).body as Patient).name?.[0]?.family, 'Deux');
  });

  test('processing order: a GET placed first sees a resource POSTed later in the same transaction', async () => {
    const key = uid('txo');
    const entries = okResponse(
      await postBundle(
        tx('transaction', [
          { request: { method: 'GET', url: `Patient?${ident(key)}` } },
          { fullUrl: urn(), resource: frPatient({ key }), request: { method: 'POST', url: 'Patient' } },
        ]),
      ),
      'transaction-response',
      2,
    );
    // response entries keep the request order
    assert.match(entries[0]!.response!.status, /^200\b/);
    assert.match(entries[1]!.response!.status, /^201\b/);
    const search = entries[0]!.resource as Bundle;
    assert.equal(search?.resourceType, 'Bundle');
    assert.equal(search.type, 'searchset');
    assert.equal(search.total, 1, 'the GET must run after the POST');
    assert.equal(search.entry?.[0]?.resource?.id, parseLocation(entries[1]!.response?.location, 'Patient').id);
  });

  test('processing order: a GET placed before a PUT of the same resource reads the new version', async () => {
    const p = await createPatient(frPatient({ family: 'Ancien' }));
    const entries = okResponse(
      await postBundle(
        tx('transaction', [
          { request: { method: 'GET', url: `Patient/${p.id}` } },
          { resource: { ...p, name: [{ family: 'Récent' }] }, request: { method: 'PUT', url: `Patient/${p.id}` } },
        ]),
      ),
      'transaction-response',
      2,
    );
    assert.match(entries[0]!.response!.status, /^200\b/);
    const read = entries[0]!.resource as Patient;
    assert.equal(read?.meta?.versionId, '2');
    assert.equal(read.name?.[0]?.family, 'Récent');
  });

  test('processing order: a DELETE placed after a POST runs first', async () => {
    const key = uid('txd');
    const old = await createPatient(frPatient({ key, family: 'Supprimé' }));
    const entries = okResponse(
      await postBundle(
        tx('transaction', [
          { fullUrl: urn(), resource: frPatient({ key, family: 'Remplaçant' }), request: { method: 'POST', url: 'Patient' } },
          { request: { method: 'DELETE', url: `Patient?${ident(key)}` } },
        ]),
      ),
      'transaction-response',
      2,
    );
    assert.match(entries[0]!.response!.status, /^201\b/);
    assert.match(entries[1]!.response!.status, /^(200|204)\b/);
    assert.equal((await h.get(`Patient/${old.id}`)).status, 410);
    const fresh = parseLocation(entries[0]!.response?.location, 'Patient').id;
    assert.equal((await h.get(`Patient/${fresh}`)).status, 200);
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 1);
  });

  test('urn:uuid references are rewritten wherever they occur (arrays, nested datatypes, extensions)', async () => {
    const pu = urn();
    const o1 = urn();
    const o2 = urn();
    const panel: Observation = {
      ...glucoseObservation(pu),
      code: { coding: [{ system: 'http://loinc.org', code: '24331-1', display: 'Lipid panel' }] },
      hasMember: [{ reference: o1 }, { reference: o2 }],
      derivedFrom: [{ reference: o1 }],
      extension: [{ url: 'https://socle.example/fhir/StructureDefinition/source-patient', valueReference: { reference: pu } }],
      performer: [{ reference: pu, display: 'auto-mesure' }],
    };
    const provenance = {
      resourceType: 'Provenance',
      target: [{ reference: o1 }, { reference: o2 }],
      recorded: '2024-03-01T09:00:00+01:00',
      agent: [{ who: { reference: pu } }],
      entity: [{ role: 'source', what: { reference: pu } }],
    };
    const entries = okResponse(
      await postBundle(
        tx('transaction', [
          { fullUrl: urn(), resource: panel, request: { method: 'POST', url: 'Observation' } },
          { fullUrl: urn(), resource: provenance as never, request: { method: 'POST', url: 'Provenance' } },
          { fullUrl: o1, resource: glucoseObservation(pu, 1.1), request: { method: 'POST', url: 'Observation' } },
          { fullUrl: o2, resource: glucoseObservation(pu, 2.2), request: { method: 'POST', url: 'Observation' } },
          { fullUrl: pu, resource: frPatient(), request: { method: 'POST', url: 'Patient' } },
        ]),
      ),
      'transaction-response',
      5,
    );
    const panelId = parseLocation(entries[0]!.response?.location, 'Observation').id;
    const provId = parseLocation(entries[1]!.response?.location, 'Provenance').id;
    const id1 = parseLocation(entries[2]!.response?.location, 'Observation').id;
    const id2 = parseLocation(entries[3]!.response?.location, 'Observation').id;
    const pid = parseLocation(entries[4]!.response?.location, 'Patient').id;
    const o = (await h.get(`Observation/${panelId}`)).body as Observation;
    assert.deepEqual(o.hasMember?.map((r) => r.reference), [`Observation/${id1}`, `Observation/${id2}`]);
    assert.equal(o.derivedFrom?.[0]?.reference, `Observation/${id1}`);
    assert.equal(o.extension?.[0]?.valueReference?.reference, `Patient/${pid}`);
    assert.equal(o.performer?.[0]?.reference, `Patient/${pid}`);
    assert.equal(o.performer?.[0]?.display, 'auto-mesure');
    const prov = (await h.get(`Provenance/${provId}`)).body as { target: Array<{ reference: string }>; agent: Array<{ who: { reference: string } }>; entity: Array<{ what: { reference: string } }> };
    assert.deepEqual(prov.target.map((r) => r.reference), [`Observation/${id1}`, `Observation/${id2}`]);
    assert.equal(prov.agent[0]!.who.reference, `Patient/${pid}`);
    assert.equal(prov.entity[0]!.what.reference, `Patient/${pid}`);
    assert.ok(!JSON.stringify([o, prov]).includes('urn:uuid:'), 'a urn:uuid reference was left in a stored resource');
  });

  test('a PATCH entry (JSON Patch in a Binary) runs before a GET placed first', async () => {
    const p = await createPatient(frPatient({ family: 'AvantPatch' }));
    const patch = [{ op: 'replace', path: '/name/0/family', value: 'AprèsPatch' }];
    const entries = okResponse(
      await postBundle(
        tx('transaction', [
          { request: { method: 'GET', url: `Patient/${p.id}` } },
          {
            resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from(JSON.stringify(patch)).toString('base64') } as never,
            request: { method: 'PATCH', url: `Patient/${p.id}` },
          },
        ]),
      ),
      'transaction-response',
      2,
    );
    assert.match(entries[1]!.response!.status, /^200\b/);
    assert.equal((entries[0]!.resource as Patient)?.name?.[0]?.family, 'AprèsPatch');
    const read = (await h.get(`Patient/${p.id}`)).body as Patient;
    assert.equal(read.meta?.versionId, '2');
    assert.equal(read.name?.[0]?.family, 'AprèsPatch');
  });

  test('a failing GET entry (404) fails the whole transaction, nothing kept', async () => {
    const key = uid('txget');
    const res = await postBundle(
      tx('transaction', [
        { fullUrl: urn(), resource: frPatient({ key }), request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: `Patient/${uid('absent')}` } },
      ]),
    );
    assertOutcome(res, { status: 404, code: 'not-found' });
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 0);
  });

  test('a PUT entry whose resource id differs from its URL fails the transaction (400)', async () => {
    const key = uid('txid');
    const p = await createPatient(frPatient());
    const res = await postBundle(
      tx('transaction', [
        { fullUrl: urn(), resource: frPatient({ key }), request: { method: 'POST', url: 'Patient' } },
        { resource: { ...p, id: 'not-the-same' }, request: { method: 'PUT', url: `Patient/${p.id}` } },
      ]),
    );
    assertOutcome(res, { status: 400 });
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 0);
    assert.equal(((await h.get(`Patient/${p.id}`)).body as Patient).meta?.versionId, '1');
  });

  test('a POST entry ignores the id of its resource', async () => {
    const entries = okResponse(
      await postBundle(tx('transaction', [{ fullUrl: urn(), resource: { ...frPatient(), id: 'client-id-in-bundle' }, request: { method: 'POST', url: 'Patient' } }])),
      'transaction-response',
      1,
    );
    assert.notEqual(parseLocation(entries[0]!.response?.location, 'Patient').id, 'client-id-in-bundle');
    assert.equal((await h.get('Patient/client-id-in-bundle')).status, 404);
  });

  test('a transaction of 100 entries with cross references commits as one', async () => {
    const key = uid('tx100');
    const pu = urn();
    const entry: BundleEntry[] = [{ fullUrl: pu, resource: frPatient({ key }), request: { method: 'POST', url: 'Patient' } }];
    for (let i = 0; i < 99; i++) entry.push({ fullUrl: urn(), resource: glucoseObservation(pu, 4 + i / 100), request: { method: 'POST', url: 'Observation' } });
    const entries = okResponse(await postBundle(tx('transaction', entry)), 'transaction-response', 100);
    const pid = parseLocation(entries[0]!.response?.location, 'Patient').id;
    assert.equal(await countMatches(h, `Observation?subject=Patient/${pid}&_count=200`), 99);
  });

  test('Prefer: return=minimal gives entries with status and location but no resource', async () => {
    const entries = okResponse(
      await postBundle(tx('transaction', [{ fullUrl: urn(), resource: frPatient(), request: { method: 'POST', url: 'Patient' } }]), { prefer: 'return=minimal' }),
      'transaction-response',
      1,
    );
    assert.match(entries[0]!.response!.status, /^201\b/);
    parseLocation(entries[0]!.response?.location, 'Patient');
    assert.equal(entries[0]!.resource, undefined);
  });

  test('DELETE entries by id', async () => {
    const p = await createPatient(frPatient());
    const entries = okResponse(await postBundle(tx('transaction', [{ request: { method: 'DELETE', url: `Patient/${p.id}` } }])), 'transaction-response', 1);
    assert.match(entries[0]!.response!.status, /^(200|204)\b/);
    assert.equal((await h.get(`Patient/${p.id}`)).status, 410);
  });
});

describe('batch', () => {
  test('entries are independent: failures carry their own OperationOutcome and do not stop the others', async () => {
    const kOk = uid('bok');
    const kBad = uid('bbad');
    const toRead = await createPatient(frPatient({ family: 'Lu' }));
    const toDelete = await createPatient(frPatient());
    const res = await postBundle(
      tx('batch', [
        { fullUrl: urn(), resource: frPatient({ key: kOk }), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: urn(), resource: { ...frPatient({ key: kBad }), birthDate: 12 } as unknown as Patient, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: `Patient/${uid('absent')}` } },
        { request: { method: 'GET', url: `Patient/${toRead.id}` } },
        { request: { method: 'DELETE', url: `Patient/${toDelete.id}` } },
        { resource: { ...toRead, active: true }, request: { method: 'PUT', url: `Patient/${toRead.id}`, ifMatch: 'W/"9"' } },
      ]),
    );
    const entries = okResponse(res, 'batch-response', 6);
    assert.match(entries[0]!.response!.status, /^201\b/);
    const created = parseLocation(entries[0]!.response?.location, 'Patient');
    assert.equal(created.version, '1');
    assert.match(entries[1]!.response!.status, /^400\b/);
    mentions(entries[1]!.response!.outcome as OperationOutcome, 'birthDate');
    assert.match(entries[2]!.response!.status, /^404\b/);
    assert.equal((entries[2]!.response!.outcome as OperationOutcome)?.resourceType, 'OperationOutcome');
    assert.match(entries[3]!.response!.status, /^200\b/);
    assert.equal((entries[3]!.resource as Patient)?.name?.[0]?.family, 'Lu');
    assert.match(entries[4]!.response!.status, /^(200|204)\b/);
    assert.match(entries[5]!.response!.status, /^412\b/);
    assert.equal((entries[5]!.response!.outcome as OperationOutcome)?.resourceType, 'OperationOutcome');
    // effects
    assert.equal(await countMatches(h, `Patient?${byKey(kOk)}`), 1);
    assert.equal(await countMatches(h, `Patient?${byKey(kBad)}`), 0);
    assert.equal((await h.get(`Patient/${toDelete.id}`)).status, 410);
    assert.equal(((await h.get(`Patient/${toRead.id}`)).body as Patient).meta?.versionId, '1');
  });

  test('through fhir-kit-client, with a search entry', async () => {
    const key = uid('bkc');
    await createPatient(frPatient({ key }));
    const res = (await client.batch({
      body: tx('batch', [
        { request: { method: 'GET', url: `Patient?${ident(key)}` } },
        { fullUrl: urn(), resource: frPatient(), request: { method: 'POST', url: 'Patient' } },
      ]) as any,
    })) as unknown as Bundle;
    assert.equal(res.type, 'batch-response');
    assert.equal(res.entry?.length, 2);
    assert.equal((res.entry![0]!.resource as Bundle).total, 1);
    assert.match(res.entry![1]!.response?.status ?? '', /^201\b/);
  });

  test('an entry on an unknown resource type fails alone (404 or 400)', async () => {
    const key = uid('bunk');
    const entries = okResponse(
      await postBundle(
        tx('batch', [
          { request: { method: 'GET', url: 'NotAType/1' } },
          { fullUrl: urn(), resource: frPatient({ key }), request: { method: 'POST', url: 'Patient' } },
        ]),
      ),
      'batch-response',
      2,
    );
    assert.match(entries[0]!.response!.status, /^(404|400)\b/);
    assert.equal((entries[0]!.response!.outcome as OperationOutcome)?.resourceType, 'OperationOutcome');
    assert.match(entries[1]!.response!.status, /^201\b/);
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 1);
  });
});

describe('bundle errors', () => {
  test('a Bundle that is neither batch nor transaction is refused with 400', async () => {
    const key = uid('coll');
    const res = await postBundle(tx('collection' as 'batch', [{ fullUrl: urn(), resource: frPatient({ key }) }]));
    assertOutcome(res, { status: 400, code: [...INVALID_CODES, 'not-supported', 'processing'] });
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 0);
  });

  test('a non-Bundle resource posted to the base is refused with 400', async () => {
    const res = await postBundle(frPatient() as unknown as Bundle);
    assertOutcome(res, { status: [400, 404, 405] });
  });

  test('a transaction entry without request is refused with 400, nothing kept', async () => {
    const key = uid('noreq');
    const res = await postBundle(
      tx('transaction', [
        { fullUrl: urn(), resource: frPatient({ key }), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: urn(), resource: frPatient() },
      ]),
    );
    assertOutcome(res, { status: 400 });
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 0);
  });

  test('an empty transaction answers an empty transaction-response', async () => {
    const res = await postBundle(tx('transaction', []));
    assert.equal(res.status, 200, res.text);
    const b = res.body as Bundle;
    assert.equal(b.type, 'transaction-response');
    assert.equal(b.entry?.length ?? 0, 0);
  });
});
