// Validation on write against the FHIR R4 base definitions: malformed JSON, resourceType, invalid
// elements (type, unknown element, code, cardinality), with OperationOutcome issues that name the element.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Observation, Patient } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import {
  assertOutcome,
  byKey,
  CODE_INVALID_CODES,
  countMatches,
  expectHttpError,
  fhirClient,
  frPatient,
  glucoseObservation,
  httpFor,
  INVALID_CODES,
  uid,
  type Http,
} from '../support/fhir-client.ts';

let server: TestServer;
let h: Http;

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
});
after(async () => {
  await server?.close();
});

/** POSTs an invalid Patient with a unique key, asserts 400 naming the element and that nothing was created. */
async function rejectPatient(mutate: (p: Record<string, unknown>) => void, expression: string, codes: readonly string[] = INVALID_CODES): Promise<void> {
  const key = uid('val');
  const p = frPatient({ key }) as unknown as Record<string, unknown>;
  mutate(p);
  const res = await h.post('Patient', p);
  assertOutcome(res, { status: 400, code: codes, expression });
  assert.equal(await countMatches(h, `Patient?${byKey(key)}`), 0, 'an invalid resource was stored');
}

describe('malformed bodies', () => {
  test('malformed JSON answers 400', async () => {
    assertOutcome(await h.post('Patient', '{"resourceType": "Patient", "name": [}'), { status: 400, code: INVALID_CODES });
    const p = (await h.post('Patient', frPatient())).body as Patient;
    assertOutcome(await h.put(`Patient/${p.id}`, '{"resourceType":"Patient",'), { status: 400, code: INVALID_CODES });
  });

  test('an empty body answers 400', async () => {
    assertOutcome(await h.request('POST', 'Patient', { body: '', contentType: 'application/fhir+json' }), { status: 400, code: [...INVALID_CODES, 'processing'] });
  });

  test('JSON that is not an object (array, string, null, number) answers 400', async () => {
    for (const body of ['[]', '"Patient"', 'null', '42']) {
      assertOutcome(await h.post('Patient', body), { status: 400, code: [...INVALID_CODES, 'processing'] });
    }
  });

  test('a body without resourceType answers 400', async () => {
    const { resourceType: _rt, ...rest } = frPatient();
    void _rt;
    assertOutcome(await h.post('Patient', rest), { status: 400, code: [...INVALID_CODES, 'processing'] });
  });
});

describe('resourceType must match the URL', () => {
  test('POST /Patient with an Observation answers 400, nothing created', async () => {
    const key = uid('wrongtype');
    const obs = { ...glucoseObservation('Patient/x'), identifier: [{ system: 'urn:socle:test', value: key }] };
    assertOutcome(await h.post('Patient', obs), { status: 400, code: [...INVALID_CODES, 'processing'] });
    assert.equal(await countMatches(h, `Observation?${byKey(key)}`), 0);
  });

  test('PUT /Patient/id with an Observation answers 400, the Patient is unchanged', async () => {
    const p = (await h.post('Patient', frPatient())).body as Patient;
    assertOutcome(await h.put(`Patient/${p.id}`, { ...glucoseObservation('Patient/x'), id: p.id }), { status: 400, code: [...INVALID_CODES, 'processing'] });
    const read = await h.get(`Patient/${p.id}`);
    assert.equal((read.body as Patient).resourceType, 'Patient');
    assert.equal((read.body as Patient).meta?.versionId, '1');
  });

  test('an unknown resourceType in the body answers 400', async () => {
    assertOutcome(await h.post('Patient', { resourceType: 'Patiente', name: [{ family: 'X' }] }), { status: 400 });
  });

  test('through fhir-kit-client: create rejects with 400', async () => {
    const body = await expectHttpError(fhirClient(server.fhirUrl).create({ resourceType: 'Patient', body: { resourceType: 'Patient', birthDate: 12 } }), 400);
    assert.equal(body.resourceType, 'OperationOutcome');
  });
});

describe('invalid elements answer 400 with an issue naming the element', () => {
  test('birthDate: 12 (wrong JSON type)', async () => {
    await rejectPatient((p) => (p.birthDate = 12), 'Patient.birthDate');
  });

  test('birthDate: "1985-13-45" (not a date)', async () => {
    await rejectPatient((p) => (p.birthDate = '1985-13-45'), 'Patient.birthDate');
  });

  test('an unknown element', async () => {
    await rejectPatient((p) => (p.foo = 'bar'), 'foo');
  });

  test('an unknown element inside a datatype', async () => {
    await rejectPatient((p) => (p.name = [{ family: 'Martin', surname: 'Camille' }]), 'surname');
  });

  test('gender: "martian" (not in the required value set)', async () => {
    await rejectPatient((p) => (p.gender = 'martian'), 'Patient.gender', CODE_INVALID_CODES);
  });

  test('active: "true" (a string for a boolean)', async () => {
    await rejectPatient((p) => (p.active = 'true'), 'Patient.active');
  });

  test('name as an object instead of an array', async () => {
    await rejectPatient((p) => (p.name = { family: 'Martin' }), 'Patient.name');
  });

  test('an extension without its required url', async () => {
    await rejectPatient((p) => (p.extension = [{ valueString: 'sans url' }]), 'extension');
  });

  test('an invalid contained resource', async () => {
    await rejectPatient((p) => {
      p.contained = [{ resourceType: 'Practitioner', id: 'med', name: [{ family: 'Durand' }], birthDate: 12 }];
      p.generalPractitioner = [{ reference: '#med' }];
    }, 'birthDate');
  });

  test('a value of the wrong choice type (Patient.deceasedString)', async () => {
    await rejectPatient((p) => (p.deceasedString = 'oui'), 'deceased');
  });

  test('a JSON null value (not allowed in FHIR JSON)', async () => {
    await rejectPatient((p) => (p.gender = null), 'gender');
  });

  test('an empty array (not allowed in FHIR JSON)', async () => {
    await rejectPatient((p) => (p.telecom = []), 'telecom');
  });

  test('an empty object (ele-1: elements must have a value or children)', async () => {
    await rejectPatient((p) => (p.name = [{}]), 'name');
  });

  test('birthDate with a time (a date is not a dateTime)', async () => {
    await rejectPatient((p) => (p.birthDate = '1985-07-14T10:00:00Z'), 'Patient.birthDate');
  });

  test('two values for one choice element (valueQuantity and valueString)', async () => {
    const obs = { ...glucoseObservation('Patient/x'), valueString: 'élevé' };
    assertOutcome(await h.post('Observation', obs), { status: 400, code: INVALID_CODES, expression: 'Observation.value' });
  });

  test('an integer out of the 32-bit range (Observation.valueInteger)', async () => {
    const { valueQuantity: _q, ...rest } = glucoseObservation('Patient/x');
    void _q;
    assertOutcome(await h.post('Observation', { ...rest, valueInteger: 2147483648 }), { status: 400, code: INVALID_CODES, expression: 'Observation.value' });
    assertOutcome(await h.post('Observation', { ...rest, valueInteger: 1.5 }), { status: 400, code: INVALID_CODES, expression: 'Observation.value' });
  });

  test('two problems give two issues', async () => {
    const key = uid('two');
    const res = await h.post('Patient', { ...frPatient({ key }), birthDate: 12, gender: 'martian' });
    const oo = assertOutcome(res, { status: 400, code: INVALID_CODES, expression: 'Patient.birthDate' });
    const where = oo.issue.flatMap((i) => i.expression ?? []);
    assert.ok(where.some((e) => e.includes('Patient.gender')), `the gender issue is missing: ${JSON.stringify(oo)}`);
  });

  test('Observation without its required status and code', async () => {
    const obs = glucoseObservation('Patient/x') as Partial<Observation>;
    delete obs.status;
    const res = await h.post('Observation', obs);
    assertOutcome(res, { status: 400, code: INVALID_CODES, expression: 'Observation.status' });
    const obs2 = glucoseObservation('Patient/x') as Partial<Observation>;
    delete obs2.code;
    assertOutcome(await h.post('Observation', obs2), { status: 400, code: INVALID_CODES, expression: 'Observation.code' });
  });

  test('Observation.valueQuantity.value as a string', async () => {
    const obs = glucoseObservation('Patient/x') as any;
    obs.valueQuantity.value = '5.4';
    assertOutcome(await h.post('Observation', obs), { status: 400, code: INVALID_CODES, expression: 'Observation.value' });
  });

  test('an invalid update answers 400 and leaves the resource unchanged', async () => {
    const p = (await h.post('Patient', frPatient({ family: 'Valide' }))).body as Patient;
    const res = await h.put(`Patient/${p.id}`, { ...p, birthDate: 12, name: [{ family: 'Invalide' }] });
    assertOutcome(res, { status: 400, code: INVALID_CODES, expression: 'Patient.birthDate' });
    const read = (await h.get(`Patient/${p.id}`)).body as Patient;
    assert.equal(read.meta?.versionId, '1');
    assert.equal(read.name?.[0]?.family, 'Valide');
  });
});

describe('ids', () => {
  test('PUT with an id that is not a FHIR id answers 400', async () => {
    for (const id of ['bad_id', 'a'.repeat(65), 'é']) {
      const res = await h.put(`Patient/${encodeURIComponent(id)}`, { ...frPatient(), id });
      assertOutcome(res, { status: 400, code: [...INVALID_CODES, 'processing'] });
    }
  });

  test('the longest valid id (64 characters of [A-Za-z0-9-.]) is accepted', async () => {
    const id = `A.b-${uid('').replace(/-/g, '')}`.padEnd(64, '9').slice(0, 64);
    const res = await h.put(`Patient/${id}`, { ...frPatient(), id });
    assert.equal(res.status, 201, res.text);
    assert.equal((await h.get(`Patient/${id}`)).status, 200);
  });
});
