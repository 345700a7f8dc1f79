// Number and quantity search (R4 search.html#number, #quantity): implicit precision of the search
// value ("0.2" means [0.15, 0.25)), every prefix, exponent notation, OR/AND; quantity as
// [prefix]value|system|code, value only, ||code (code or unit), and UCUM unit conversion (stretch goal).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.ts';
import { httpFor, type Http } from '../support/fhir-client.ts';
import { expectIds, ids, loadFixtures, q, type Fixture } from '../support/search-fixtures.ts';

const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';

let server: TestServer;
let h: Http;

const risk = (id: string, probability?: number): Fixture =>
  ({
    resourceType: 'RiskAssessment',
    id,
    status: 'final',
    subject: { reference: 'Patient/n-pat' },
    ...(probability === undefined ? {} : { prediction: [{ probabilityDecimal: probability }] }),
  }) as Fixture;

const obs = (id: string, code: string, value?: Record<string, unknown>): Fixture =>
  ({
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: LOINC, code }] },
    ...(value ? { valueQuantity: value } : { valueString: 'non mesurable' }),
  }) as Fixture;

const FIXTURES: Fixture[] = [
  { resourceType: 'Patient', id: 'n-pat' } as Fixture,
  risk('r-010', 0.1),
  risk('r-015', 0.15),
  risk('r-020', 0.2),
  risk('r-025', 0.25),
  risk('r-050', 0.5),
  risk('r-095', 0.95),
  risk('r-none'),
  obs('q-glu-54', '15074-8', { value: 5.4, unit: 'mmol/L', system: UCUM, code: 'mmol/L' }),
  obs('q-glu-70', '15074-8', { value: 7.0, unit: 'mmol/L', system: UCUM, code: 'mmol/L' }),
  obs('q-glu-mg', '2345-7', { value: 100, unit: 'mg/dL', system: UCUM, code: 'mg/dL' }),
  obs('q-glu-unit', '15074-8', { value: 5.4, unit: 'mmol/L' }), // unit text only, no system or code
  obs('q-pas', '8480-6', { value: 120, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' }),
  obs('q-kg', '29463-7', { value: 70, unit: 'kg', system: UCUM, code: 'kg' }),
  obs('q-g', '29463-7', { value: 70000, unit: 'g', system: UCUM, code: 'g' }),
  obs('q-none', '15074-8'),
];

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
  await loadFixtures(h, FIXTURES);
});
after(async () => {
  await server?.close();
});

describe('number (RiskAssessment.probability)', () => {
  test('implicit precision: 0.2 means [0.15, 0.25), 0.20 means [0.195, 0.205)', async () => {
    await expectIds(h, 'RiskAssessment?probability=0.2', ['r-015', 'r-020']);
    await expectIds(h, 'RiskAssessment?probability=0.20', ['r-020']);
    await expectIds(h, 'RiskAssessment?probability=eq0.25', ['r-025']);
  });

  test('exponent notation: 5e-1 is 0.5 to one significant figure', async () => {
    await expectIds(h, 'RiskAssessment?probability=5e-1', ['r-050']);
  });

  test('gt, lt, ge, le', async () => {
    await expectIds(h, 'RiskAssessment?probability=gt0.2', ['r-025', 'r-050', 'r-095']);
    await expectIds(h, 'RiskAssessment?probability=lt0.2', ['r-010', 'r-015']);
    await expectIds(h, 'RiskAssessment?probability=ge0.2', ['r-020', 'r-025', 'r-050', 'r-095']);
    await expectIds(h, 'RiskAssessment?probability=le0.2', ['r-010', 'r-015', 'r-020']);
  });

  test('ne: outside the implicit range', async () => {
    await expectIds(h, 'RiskAssessment?probability=ne0.2', ['r-010', 'r-025', 'r-050', 'r-095']);
  });

  test('ap: approximately (10 %)', async () => {
    const got = await ids(h, 'RiskAssessment?probability=ap0.5');
    assert.ok(got.includes('r-050'), `ap0.5 includes 0.5: ${got}`);
    for (const far of ['r-010', 'r-015', 'r-020', 'r-095', 'r-none']) assert.ok(!got.includes(far), `ap0.5 must not include ${far}: ${got}`);
  });

  test('OR with commas, AND with repeated parameters', async () => {
    await expectIds(h, 'RiskAssessment?probability=0.1,0.95', ['r-010', 'r-095']);
    await expectIds(h, 'RiskAssessment?probability=gt0.1&probability=lt0.5', ['r-015', 'r-020', 'r-025']);
  });
});

describe('quantity (Observation.value-quantity)', () => {
  test('value only: any unit', async () => {
    await expectIds(h, 'Observation?value-quantity=5.4', ['q-glu-54', 'q-glu-unit']);
    await expectIds(h, 'Observation?value-quantity=100', ['q-glu-mg']);
    await expectIds(h, 'Observation?value-quantity=lt6', ['q-glu-54', 'q-glu-unit']);
  });

  test('value|system|code: the system and code must match', async () => {
    await expectIds(h, `Observation?value-quantity=${q(`120|${UCUM}|mm[Hg]`)}`, ['q-pas']);
    await expectIds(h, `Observation?value-quantity=${q(`5.4|${UCUM}|mmol/L`)}`, ['q-glu-54']);
    await expectIds(h, `Observation?value-quantity=${q(`5.4|${UCUM}|mg/dL`)}`, []);
    await expectIds(h, `Observation?value-quantity=${q(`5.4|http://example.org/units|mmol/L`)}`, []);
  });

  test('value||code matches the code or the unit, in any system', async () => {
    await expectIds(h, `Observation?value-quantity=${q('5.4||mmol/L')}`, ['q-glu-54', 'q-glu-unit']);
  });

  test('prefixes with units', async () => {
    await expectIds(h, `Observation?value-quantity=${q(`gt5.4|${UCUM}|mmol/L`)}`, ['q-glu-70']);
    await expectIds(h, `Observation?value-quantity=${q(`ge5.4|${UCUM}|mmol/L`)}`, ['q-glu-54', 'q-glu-70']);
    await expectIds(h, `Observation?value-quantity=${q(`le7|${UCUM}|mmol/L`)}`, ['q-glu-54', 'q-glu-70']);
    await expectIds(h, `Observation?value-quantity=${q(`lt7|${UCUM}|mmol/L`)}`, ['q-glu-54']);
    await expectIds(h, `Observation?value-quantity=${q(`ne5.4|${UCUM}|mmol/L`)}`, ['q-glu-70']);
  });

  test('OR of quantities, AND with another parameter', async () => {
    await expectIds(h, `Observation?value-quantity=${q(`120|${UCUM}|mm[Hg]`)},${q(`100|${UCUM}|mg/dL`)}`, ['q-glu-mg', 'q-pas']);
    await expectIds(h, `Observation?value-quantity=ge5&code=${q(`${LOINC}|15074-8`)}`, ['q-glu-54', 'q-glu-70', 'q-glu-unit']);
  });

  // stretch goal of the issue: passes since quantities are compared in canonical UCUM units
  test('unit conversion: 70 kg also finds 70000 g (UCUM canonical units)', async () => {
    await expectIds(h, `Observation?value-quantity=${q(`70|${UCUM}|kg`)}`, ['q-g', 'q-kg']);
    await expectIds(h, `Observation?value-quantity=${q(`gt69000|${UCUM}|g`)}`, ['q-g', 'q-kg']);
  });
});
