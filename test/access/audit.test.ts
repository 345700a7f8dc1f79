// Traceability over HTTP: every read, search and write leaves an AuditEvent (ANS TdE profile); a write
// and its trace commit together; refusals are traced; the audit trail is searchable by patient.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle, Patient } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server?.close());

const json = { 'content-type': 'application/fhir+json' };

async function auditFor(ref: string, subtype: string): Promise<AuditEvent[]> {
  const r = await fetch(`${server.fhirUrl}/AuditEvent?entity=${encodeURIComponent(ref)}&subtype=${subtype}`);
  const b = (await r.json()) as Bundle<AuditEvent>;
  return (b.entry ?? []).map((e) => e.resource!);
}

describe('audit trail', () => {
  it('records a create and a read, with the patient concerned and the TdE profile', async () => {
    const created = (await (await fetch(`${server.fhirUrl}/Patient`, { method: 'POST', headers: json, body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Trace' }] }) })).json()) as Patient;
    await fetch(`${server.fhirUrl}/Patient/${created.id}`, { headers: { 'x-purpose-of-use': 'TREAT' } });
    const creates = await auditFor(`Patient/${created.id}/_history/1`, 'create');
    assert.equal(creates.length, 1);
    assert.equal(creates[0].action, 'C');
    assert.equal(creates[0].outcome, '0');
    assert.deepEqual(creates[0].meta?.profile, ['https://interop.esante.gouv.fr/ig/fhir/tde/StructureDefinition/tde-auditevent']);
    const reads = await auditFor(`Patient/${created.id}`, 'read');
    assert.equal(reads.length, 1);
    assert.equal(reads[0].agent[0].purposeOfUse?.[0].coding?.[0].code, 'TREAT');
    assert.ok(reads[0].agent[0].network?.address, 'the client address is recorded');
    const byPatient = (await (await fetch(`${server.fhirUrl}/AuditEvent?patient=Patient/${created.id}`)).json()) as Bundle;
    assert.ok((byPatient.total ?? 0) >= 2, 'the patient can be found in the trail of both accesses');
  });

  it('records a search with its query and a failed read with its reason', async () => {
    await fetch(`${server.fhirUrl}/Observation?code=audit-probe-1`);
    const searches = (await (await fetch(`${server.fhirUrl}/AuditEvent?subtype=search-type&_count=200`)).json()) as Bundle<AuditEvent>;
    const probe = (searches.entry ?? []).find((e) => e.resource?.entity?.some((x) => x.query && Buffer.from(x.query, 'base64').toString() === 'code=audit-probe-1'));
    assert.ok(probe, 'the search and its query are in the trail');
    await fetch(`${server.fhirUrl}/Patient/audit-missing-1`);
    const failed = await auditFor('Patient/audit-missing-1', 'read');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].outcome, '4');
    assert.match(failed[0].outcomeDesc ?? '', /not known/);
  });

  it('leaves no trace of the writes of a failed transaction, only the failure', async () => {
    const marker = `audit-tx-${Date.now()}`;
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:1', resource: { resourceType: 'Patient', identifier: [{ system: 'urn:socle:test', value: marker }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', birthDate: 12 }, request: { method: 'POST', url: 'Patient' } },
      ],
    };
    const countCreates = async () => ((await (await fetch(`${server.fhirUrl}/AuditEvent?subtype=create&_summary=count`)).json()) as Bundle).total;
    const before = await countCreates();
    const r = await fetch(server.fhirUrl, { method: 'POST', headers: json, body: JSON.stringify(bundle) });
    assert.equal(r.status, 400);
    const patients = (await (await fetch(`${server.fhirUrl}/Patient?identifier=urn:socle:test|${marker}`)).json()) as Bundle;
    assert.equal(patients.total, 0);
    const transactions = (await (await fetch(`${server.fhirUrl}/AuditEvent?subtype=transaction`)).json()) as Bundle<AuditEvent>;
    assert.ok((transactions.entry ?? []).some((e) => e.resource?.outcome === '4'), 'the failed transaction is traced');
    assert.equal(await countCreates(), before, 'the rolled-back create left no trace');
  });
});

describe('authentication required (SOCLE_AUTH=on)', () => {
  let strict: TestServer;
  before(async () => {
    strict = await startTestServer({ authRequired: true });
  });
  after(() => strict?.close());

  it('refuses a call without a token with 401, WWW-Authenticate and the reason, and traces it', async () => {
    const r = await fetch(`${strict.fhirUrl}/Patient?name=x`);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    const oo = await r.json();
    assert.equal(oo.resourceType, 'OperationOutcome');
    assert.match(oo.issue[0].diagnostics, /bearer access token is required/);
  });

  it('refuses a malformed Authorization header with 401', async () => {
    const r = await fetch(`${strict.fhirUrl}/Patient`, { headers: { authorization: 'Basic abc' } });
    assert.equal(r.status, 401);
    assert.match((await r.json()).issue[0].diagnostics, /Bearer <access token>/);
  });

  it('still serves the CapabilityStatement and health without a token', async () => {
    assert.equal((await fetch(`${strict.fhirUrl}/metadata`)).status, 200);
    assert.equal((await fetch(`${strict.baseUrl}/health`)).status, 200);
  });
});
