// Profile validation with a FHIR package loaded at start (the ANS SAS IG 1.1.0): a resource claiming a
// known profile in meta.profile is validated against it (422 when it does not conform); an unknown
// profile URL is accepted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Organization, Practitioner } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertFhirJson, assertOutcome, byKey, countMatches, frPatient, httpFor, INVALID_CODES, uid, type Http } from '../support/fhir-client.ts';

const SAS_TGZ = new URL('../../data/ig/ans.fhir.fr.sas-1.1.0.tgz', import.meta.url).pathname;
const RPPS = 'urn:oid:1.2.250.1.71.4.2.1';
const AGREGATEUR = 'http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur';
const REGUL = 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/FrPractitionerRegul';
const SOS_ORG = 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-organization-aggregator';

/** An example instance from the package itself. */
function packageExample<T>(name: string): T {
  return JSON.parse(execFileSync('tar', ['-xzOf', SAS_TGZ, `package/example/${name}`], { encoding: 'utf8' })) as T;
}

let server: TestServer;
let h: Http;

before(async () => {
  server = await startTestServer({ fhirPackages: [SAS_TGZ] });
  h = httpFor(server.fhirUrl);
});
after(async () => {
  await server?.close();
});

/** A unique RPPS-shaped national identifier value (8 + 11 digits). */
function rppsValue(): string {
  return `8${randomUUID().replace(/\D/g, '').padEnd(11, '7').slice(0, 11)}`;
}
const byRpps = (value: string) => `identifier=${encodeURIComponent(`${RPPS}|${value}`)}`;

/**
 * The package's example practitioner, without its id, with a unique RPPS value for searches (the
 * profile constrains every identifier to the RPPS type and system, so no other identifier is added).
 */
function agregateur(rpps: string): Practitioner {
  const ex = packageExample<Practitioner>('Practitioner-ExamplePractitioner.json');
  delete ex.id;
  assert.deepEqual(ex.meta?.profile, [AGREGATEUR]);
  assert.equal(ex.identifier?.length, 1);
  ex.identifier![0]!.value = rpps;
  return ex;
}

const PROFILE_CODES = [...INVALID_CODES, 'processing'];

describe('profiles from a loaded package', () => {
  test('the package example conforming to FrPractitionerAgregateur is accepted (201)', async () => {
    const rpps = rppsValue();
    const res = await h.post('Practitioner', agregateur(rpps));
    assert.equal(res.status, 201, res.text);
    assertFhirJson(res);
    assert.deepEqual((res.body as Practitioner).meta?.profile, [AGREGATEUR]);
    assert.equal(await countMatches(h, `Practitioner?${byRpps(rpps)}`), 1);
  });

  test('the package examples of FrPractitionerRegul and sas-sos-organization-aggregator are accepted', async () => {
    for (const name of ['Practitioner-ExamplePractitionerRegul2.json', 'Organization-ExampleOrgaSOS1.json']) {
      const ex = packageExample<{ resourceType: string; id?: string }>(name);
      delete ex.id;
      const res = await h.post(ex.resourceType, ex);
      assert.equal(res.status, 201, `${name}: ${res.text.slice(0, 600)}`);
    }
  });

  test('a Practitioner claiming FrPractitionerAgregateur without the required identifier answers 422, nothing stored', async () => {
    const key = `Sansid${randomUUID().replace(/\W/g, '').slice(0, 10)}`;
    const p = agregateur(rppsValue());
    // keep only a name: identifier is 1..* in the profile (0..* in the base resource)
    delete p.identifier;
    p.name = [{ family: key, given: ['Pierre'] }];
    const res = await h.post('Practitioner', p);
    assertOutcome(res, { status: 422, code: PROFILE_CODES, expression: 'Practitioner.identifier' });
    assert.equal(await countMatches(h, `Practitioner?name=${encodeURIComponent(key)}`), 0);
    // the same resource without the profile claim is valid R4
    delete p.meta;
    assert.equal((await h.post('Practitioner', p)).status, 201);
    assert.equal(await countMatches(h, `Practitioner?name=${encodeURIComponent(key)}`), 1);
  });

  test('a Practitioner claiming FrPractitionerRegul without the required active element answers 422', async () => {
    const ex = packageExample<Practitioner>('Practitioner-ExamplePractitionerRegul2.json');
    assert.deepEqual(ex.meta?.profile, [REGUL]);
    delete ex.id;
    delete ex.active;
    const rpps = rppsValue();
    ex.identifier![0]!.value = rpps;
    assertOutcome(await h.post('Practitioner', ex), { status: 422, code: PROFILE_CODES, expression: 'Practitioner.active' });
    assert.equal(await countMatches(h, `Practitioner?${byRpps(rpps)}`), 0);
  });

  test('a Practitioner claiming FrPractitionerRegul with two given names (max 1) answers 422', async () => {
    const ex = packageExample<Practitioner>('Practitioner-ExamplePractitionerRegul2.json');
    delete ex.id;
    ex.name = [{ family: 'MARIUS', given: ['Jules', 'César'] }];
    assertOutcome(await h.post('Practitioner', ex), { status: 422, code: PROFILE_CODES, expression: 'given' });
  });

  test('an Organization claiming sas-sos-organization-aggregator whose SIRET breaks the profile invariant answers 422', async () => {
    const ex = packageExample<Organization>('Organization-ExampleOrgaSOS1.json');
    delete ex.id;
    assert.deepEqual(ex.meta?.profile, [SOS_ORG]);
    ex.identifier![0]!.value = '12345';
    const res = await h.post('Organization', ex);
    const oo = assertOutcome(res, { status: 422, code: PROFILE_CODES });
    const text = JSON.stringify(oo);
    assert.ok(text.includes('SIRET-invariant') || text.includes('Organization.identifier'), `the issue should name the invariant or the element: ${text}`);
  });

  test('an update that breaks the claimed profile answers 422 and leaves the resource unchanged', async () => {
    const res0 = await h.post('Practitioner', agregateur(rppsValue()));
    assert.equal(res0.status, 201, res0.text);
    const created = res0.body as Practitioner;
    const res = await h.put(`Practitioner/${created.id}`, { ...created, identifier: undefined });
    assertOutcome(res, { status: 422, code: PROFILE_CODES, expression: 'Practitioner.identifier' });
    const read = (await h.get(`Practitioner/${created.id}`)).body as Practitioner;
    assert.equal(read.meta?.versionId, '1');
    assert.equal(read.identifier?.length, 1);
  });

  test('a profile violation inside a transaction fails the whole transaction (422 or 400), nothing kept', async () => {
    const key = uid('tx');
    const bad = agregateur(rppsValue());
    delete bad.identifier;
    const res = await h.post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: `urn:uuid:${randomUUID()}`, resource: frPatient({ key }), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: `urn:uuid:${randomUUID()}`, resource: bad, request: { method: 'POST', url: 'Practitioner' } },
      ],
    });
    assertOutcome(res, { status: [422, 400], code: PROFILE_CODES });
    assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 0);
  });

  test('a base-R4 error in a profiled resource is still a 400', async () => {
    const p = agregateur(rppsValue()) as unknown as Record<string, unknown>;
    p.birthDate = 12;
    assertOutcome(await h.post('Practitioner', p), { status: 400, code: INVALID_CODES, expression: 'Practitioner.birthDate' });
  });

  test('the CapabilityStatement lists the loaded profiles as supportedProfile of their type', async () => {
    const cs = (await h.get('metadata')).body as { rest: Array<{ resource: Array<{ type: string; supportedProfile?: string[] }> }> };
    const of = (t: string) => cs.rest[0]!.resource.find((r) => r.type === t)?.supportedProfile ?? [];
    assert.ok(of('Practitioner').includes(AGREGATEUR), `Practitioner.supportedProfile: ${JSON.stringify(of('Practitioner'))}`);
    assert.ok(of('Practitioner').includes(REGUL));
    assert.ok(of('Organization').includes(SOS_ORG));
    assert.ok(!of('Patient').includes(AGREGATEUR));
  });

  test('meta.profile with an unknown URL is accepted (201) and kept', async () => {
    const key = uid('unknownprofile');
    const p = { ...frPatient({ key }), meta: { profile: ['https://example.org/fhir/StructureDefinition/not-loaded-anywhere'] } };
    const res = await h.post('Patient', p);
    assert.equal(res.status, 201, res.text);
    assert.deepEqual((res.body as { meta?: { profile?: string[] } }).meta?.profile, p.meta.profile);
  });
});
