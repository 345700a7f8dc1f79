// Bulk loads (createResources): many new resources in one statement are stored, versioned, indexed
// and in the history exactly like one-by-one writes; a batch with an existing id writes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Practitioner } from '@medplum/fhirtypes';
import { createResources } from '../../src/fhir/repository.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server?.close());

const practitioner = (i: number): Practitioner => ({
  resourceType: 'Practitioner',
  id: `bulk-${i}`,
  identifier: [{ system: 'urn:oid:1.2.250.1.71.4.2.1', value: `8100000${String(i).padStart(5, '0')}` }],
  name: [{ family: i % 2 ? 'Lefèvre' : 'Martin', given: ['Anne'] }],
});

describe('createResources', () => {
  it('stores a batch that searches, reads and history see as ordinary version-1 resources', async () => {
    const db = server.platform.db;
    await db.transaction((tx) => createResources(tx, Array.from({ length: 250 }, (_, i) => practitioner(i))));
    const found = (await (await fetch(`${server.fhirUrl}/Practitioner?name=lefevre&_total=accurate&_count=1`)).json()) as Bundle;
    assert.equal(found.total, 125, 'string index rows of every resource, accents folded');
    const byId = (await (await fetch(`${server.fhirUrl}/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810000000042`)).json()) as Bundle;
    assert.equal(byId.entry?.[0]?.resource?.id, 'bulk-42');
    const read = await fetch(`${server.fhirUrl}/Practitioner/bulk-7`);
    assert.equal(read.headers.get('etag'), 'W/"1"');
    const history = (await (await fetch(`${server.fhirUrl}/Practitioner/bulk-7/_history`)).json()) as Bundle;
    assert.equal(history.total ?? history.entry?.length, 1);
  });

  it('writes nothing when one id of the batch exists already', async () => {
    const db = server.platform.db;
    await assert.rejects(db.transaction((tx) => createResources(tx, [practitioner(1000), practitioner(7)])));
    assert.equal((await fetch(`${server.fhirUrl}/Practitioner/bulk-1000`)).status, 404);
  });

  it('refuses a batch mixing resource types', async () => {
    await assert.rejects(
      server.platform.db.transaction((tx) => createResources(tx, [practitioner(2000), { resourceType: 'Organization', id: 'o-1' }])),
      /one resource type/,
    );
  });
});

describe('FhirCore.createMany', () => {
  it('validates every resource first: one invalid resource writes nothing', async () => {
    const core = server.platform.fhir;
    const bad = { resourceType: 'Practitioner', id: 'many-bad', gender: 'unknown-gender' } as unknown as Practitioner;
    await assert.rejects(core.db.transaction((tx) => core.createMany([practitioner(3000), bad], tx)));
    assert.equal((await fetch(`${server.fhirUrl}/Practitioner/bulk-3000`)).status, 404);
  });

  it('traces the batch as one create AuditEvent naming every resource', async () => {
    const core = server.platform.fhir;
    await core.db.transaction((tx) => core.createMany([practitioner(4000), practitioner(4001), practitioner(4002)], tx));
    const trail = (await (await fetch(`${server.fhirUrl}/AuditEvent?subtype=create&_count=100`)).json()) as Bundle;
    const batch = trail.entry?.map((e) => e.resource as { entity?: { what?: { reference?: string } }[] }).find((a) => a.entity?.some((x) => x.what?.reference?.startsWith('Practitioner/bulk-4000')));
    assert.ok(batch, 'the batch is traced');
    assert.deepEqual(batch.entity!.map((x) => x.what!.reference!.split('/_history')[0]).filter((r) => r.startsWith('Practitioner/')), ['Practitioner/bulk-4000', 'Practitioner/bulk-4001', 'Practitioner/bulk-4002']);
  });
});
