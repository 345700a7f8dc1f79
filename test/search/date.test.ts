// Date search (R4 search.html#date): a date, dateTime or Period is a range at its precision; every
// prefix is evaluated with the R4 range semantics (eq: the search range fully contains the target
// range; gt/lt: the range above/below the search value overlaps the target; ge = gt ∪ eq,
// le = lt ∪ eq; sa/eb: the target starts after / ends before the search range; ne = not eq; ap:
// approximately). Time zones are respected; values without a zone are UTC. Also _lastUpdated.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Location } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import { httpFor, sleep, type Http } from '../support/fhir-client.ts';
import { expectIds, loadFixtures, q, type Fixture } from '../support/search-fixtures.ts';

let server: TestServer;
let h: Http;

const pat = (id: string, birthDate?: string): Fixture => ({ resourceType: 'Patient', id, ...(birthDate ? { birthDate } : {}) }) as Fixture;
const enc = (id: string, start?: string, end?: string): Fixture =>
  ({
    resourceType: 'Encounter',
    id,
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    period: { ...(start ? { start } : {}), ...(end ? { end } : {}) },
  }) as Fixture;
const obs = (id: string, effective: Record<string, unknown>): Fixture =>
  ({ resourceType: 'Observation', id, status: 'final', code: { text: 'date test' }, ...effective }) as Fixture;

const FIXTURES: Fixture[] = [
  // birthDate at year, month and day precision
  pat('b-1950', '1950-01-01'),
  pat('b-1983-12-31', '1983-12-31'),
  pat('b-1984', '1984'),
  pat('b-1984-05', '1984-05'),
  pat('b-1984-05-12', '1984-05-12'),
  pat('b-1984-06-01', '1984-06-01'),
  pat('b-1985-01-01', '1985-01-01'),
  pat('b-none'),
  // Periods (all in UTC once converted)
  enc('e-a', '2024-03-01T08:00:00+01:00', '2024-03-01T09:00:00+01:00'), // 07:00Z–08:00Z on March 1st
  enc('e-b', '2024-02-28', '2024-03-02'), // whole days: [Feb 28, Mar 3)
  enc('e-c', '2024-03-05T10:00:00Z'), // ongoing: [Mar 5 10:00Z, ∞)
  enc('e-d', undefined, '2024-02-15'), // no start: (−∞, Feb 16)
  enc('e-e', '2024-01-31T23:00:00-02:00', '2024-02-01T02:00:00-02:00'), // 01:00Z–04:00Z on February 1st
  enc('e-f', '2024-02-29T22:00:00Z', '2024-03-01T02:00:00Z'), // straddles midnight of March 1st
  // dateTimes across time zones
  obs('o-tz-minus', { effectiveDateTime: '2024-01-01T23:30:00-02:00' }), // 2024-01-02T01:30:00Z
  obs('o-tz-plus', { effectiveDateTime: '2024-01-02T00:30:00+01:00' }), // 2024-01-01T23:30:00Z
  obs('o-utc', { effectiveDateTime: '2024-01-02T12:00:00Z' }),
  obs('o-day', { effectiveDateTime: '2024-01-15' }), // day precision: [Jan 15, Jan 16)
  obs('o-ms', { effectiveDateTime: '2024-01-20T10:00:00.250Z' }),
  obs('o-period', { effectivePeriod: { start: '2024-01-10T00:00:00Z', end: '2024-01-12T00:00:00Z' } }),
  obs('o-instant', { effectiveInstant: '2024-01-25T08:00:00.000+01:00' }),
];

const PATIENTS_WITH_BIRTHDATE = ['b-1950', 'b-1983-12-31', 'b-1984', 'b-1984-05', 'b-1984-05-12', 'b-1984-06-01', 'b-1985-01-01'];

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
  await loadFixtures(h, FIXTURES);
});
after(async () => {
  await server?.close();
});

describe('date: precision ranges on birthDate', () => {
  test('birthdate=1984 includes every date within 1984, at any precision', async () => {
    await expectIds(h, 'Patient?birthdate=1984', ['b-1984', 'b-1984-05', 'b-1984-05-12', 'b-1984-06-01']);
  });

  test('birthdate=eq1984-05 includes 1984-05 and 1984-05-12, excludes 1984-06-01 and 1984', async () => {
    await expectIds(h, 'Patient?birthdate=eq1984-05', ['b-1984-05', 'b-1984-05-12']);
    await expectIds(h, 'Patient?birthdate=1984-05', ['b-1984-05', 'b-1984-05-12']);
  });

  test('birthdate at day precision, and at second precision', async () => {
    await expectIds(h, 'Patient?birthdate=1984-05-12', ['b-1984-05-12']);
    // a day is not contained in one second
    await expectIds(h, `Patient?birthdate=${q('1984-05-12T10:00:00Z')}`, []);
  });

  test('ne: the search range does not contain the target range', async () => {
    await expectIds(h, 'Patient?birthdate=ne1984-05', ['b-1950', 'b-1983-12-31', 'b-1984', 'b-1984-06-01', 'b-1985-01-01']);
  });

  test('gt and lt: the range above / below the search value overlaps the target', async () => {
    await expectIds(h, 'Patient?birthdate=gt1984-05', ['b-1984', 'b-1984-06-01', 'b-1985-01-01']);
    await expectIds(h, 'Patient?birthdate=lt1984-05', ['b-1950', 'b-1983-12-31', 'b-1984']);
  });

  test('ge = gt ∪ eq, le = lt ∪ eq', async () => {
    await expectIds(h, 'Patient?birthdate=ge1984-05', ['b-1984', 'b-1984-05', 'b-1984-05-12', 'b-1984-06-01', 'b-1985-01-01']);
    await expectIds(h, 'Patient?birthdate=le1984-05', ['b-1950', 'b-1983-12-31', 'b-1984', 'b-1984-05', 'b-1984-05-12']);
  });

  test('sa and eb: starts after the end / ends before the start of the search range', async () => {
    await expectIds(h, 'Patient?birthdate=sa1984-05', ['b-1984-06-01', 'b-1985-01-01']);
    await expectIds(h, 'Patient?birthdate=eb1984-05', ['b-1950', 'b-1983-12-31']);
  });

  test('ap: approximately (near values in, far values out)', async () => {
    const got = await idsOf('Patient?birthdate=ap1984-05-12');
    assert.ok(got.includes('b-1984-05-12'), `ap1984-05-12 must include 1984-05-12: ${got}`);
    assert.ok(!got.includes('b-1950'), `ap1984-05-12 must not include 1950: ${got}`);
    assert.ok(!got.includes('b-none'), `ap must not include a patient without birthDate: ${got}`);
  });

  test('AND of two prefixes makes an interval; OR of values', async () => {
    // the year 1984 overlaps both sides of the interval
    await expectIds(h, 'Patient?birthdate=ge1984-05-01&birthdate=lt1984-06-01', ['b-1984', 'b-1984-05', 'b-1984-05-12']);
    await expectIds(h, 'Patient?birthdate=1950,1985', ['b-1950', 'b-1985-01-01']);
    await expectIds(h, 'Patient?birthdate=lt1951,gt1984-12-01', ['b-1950', 'b-1984', 'b-1985-01-01']);
  });

  test('a resource without the value never matches a prefix', async () => {
    await expectIds(h, 'Patient?birthdate=gt1900', PATIENTS_WITH_BIRTHDATE);
    await expectIds(h, 'Patient?birthdate=lt2100', PATIENTS_WITH_BIRTHDATE);
  });
});

describe('date: Period semantics (Encounter.period)', () => {
  test('eq: the period must lie within the day / month', async () => {
    await expectIds(h, 'Encounter?date=2024-03-01', ['e-a']);
    await expectIds(h, 'Encounter?date=2024-03', ['e-a']);
    await expectIds(h, 'Encounter?date=2024-02', ['e-e']);
  });

  test('ne is the complement of eq among the resources with a period', async () => {
    await expectIds(h, 'Encounter?date=ne2024-03-01', ['e-b', 'e-c', 'e-d', 'e-e', 'e-f']);
  });

  test('gt / lt: the part of the period after / before the search range (open ends are infinite)', async () => {
    await expectIds(h, 'Encounter?date=gt2024-03-01', ['e-b', 'e-c']);
    await expectIds(h, 'Encounter?date=lt2024-03-01', ['e-b', 'e-d', 'e-e', 'e-f']);
  });

  test('ge = gt ∪ eq: a period that only straddles the start of the day is not ge that day', async () => {
    await expectIds(h, 'Encounter?date=ge2024-03-01', ['e-a', 'e-b', 'e-c']);
  });

  test('le = lt ∪ eq: a period that only straddles the end of the day is not le that day', async () => {
    await expectIds(h, 'Encounter?date=le2024-02-29', ['e-b', 'e-d', 'e-e']);
    await expectIds(h, 'Encounter?date=le2024-03-01', ['e-a', 'e-b', 'e-d', 'e-e', 'e-f']);
  });

  test('sa / eb: the whole period after / before the search range', async () => {
    await expectIds(h, 'Encounter?date=sa2024-03-02', ['e-c']);
    await expectIds(h, 'Encounter?date=eb2024-03-01', ['e-d', 'e-e']);
    await expectIds(h, 'Encounter?date=eb2024-02-28', ['e-d', 'e-e']);
    await expectIds(h, 'Encounter?date=sa2024-02-29', ['e-a', 'e-c']);
  });

  test('an interval by two parameters', async () => {
    await expectIds(h, 'Encounter?date=ge2024-03-01&date=le2024-03-31', ['e-a', 'e-b', 'e-c']);
    // e-d, (−∞, Feb 16), overlaps the range above Feb 1 (gt) and starts before Feb 29 (lt).
    await expectIds(h, 'Encounter?date=ge2024-02-01&date=le2024-02-29', ['e-b', 'e-d', 'e-e']);
  });
});

describe('date: time zones', () => {
  test('2024-01-01T23:30:00-02:00 is 2024-01-02 in UTC, 2024-01-02T00:30:00+01:00 is 2024-01-01', async () => {
    await expectIds(h, 'Observation?date=2024-01-02', ['o-tz-minus', 'o-utc']);
    await expectIds(h, 'Observation?date=2024-01-01', ['o-tz-plus']);
  });

  test('a search value with a zone is compared in UTC', async () => {
    // 2024-01-01T22:00:00-02:00 = 2024-01-02T00:00:00Z: o-tz-minus (01:30Z) is after it, o-tz-plus (Jan 1 23:30Z) before
    await expectIds(h, `Observation?date=${q('ge2024-01-01T22:00:00-02:00')}&date=lt2024-01-03`, ['o-tz-minus', 'o-utc']);
    await expectIds(h, `Observation?date=${q('2024-01-02T01:30:00Z')}`, ['o-tz-minus']);
    await expectIds(h, `Observation?date=${q('2024-01-02T02:30:00+01:00')}`, ['o-tz-minus']);
    await expectIds(h, `Observation?date=${q('2024-01-01T23:30:00-02:00')}`, ['o-tz-minus']);
    await expectIds(h, `Observation?date=${q('lt2024-01-02T00:00:00+00:00')}`, ['o-tz-plus']);
  });

  test('a search dateTime without zone is UTC', async () => {
    await expectIds(h, `Observation?date=${q('2024-01-02T12:00:00')}`, ['o-utc']);
    await expectIds(h, `Observation?date=${q('lt2024-01-02T00:00:00')}`, ['o-tz-plus']);
  });

  test('a day-precision dateTime is a whole day; an instant is a point', async () => {
    await expectIds(h, 'Observation?date=2024-01-15', ['o-day']);
    await expectIds(h, `Observation?date=${q('2024-01-15T10:00:00Z')}`, []); // the day is not inside that second
    await expectIds(h, `Observation?date=${q('ge2024-01-15T10:00:00Z')}&date=lt2024-01-16`, ['o-day']); // but the rest of the day is after it
    await expectIds(h, `Observation?date=${q('2024-01-20T10:00:00Z')}`, ['o-ms']); // the millisecond is within the second
    await expectIds(h, `Observation?date=${q('2024-01-25T07:00:00Z')}`, ['o-instant']);
  });

  test('Observation.effectivePeriod is searched as a Period', async () => {
    await expectIds(h, 'Observation?date=2024-01-11', []); // the period is longer than the day
    await expectIds(h, 'Observation?date=ge2024-01-11&date=lt2024-01-12', ['o-period']); // overlaps after and before
    await expectIds(h, 'Observation?date=ge2024-01-10&date=le2024-01-11', ['o-period']);
    await expectIds(h, 'Observation?date=2024-01-10,2024-01-11', []);
    await expectIds(h, `Observation?date=${q('ge2024-01-01')}&date=${q('le2024-01-31')}&date=sa2024-01-09`, ['o-day', 'o-instant', 'o-ms', 'o-period']);
  });
});

describe('_lastUpdated', () => {
  test('gt, lt, ge, eq around stored meta.lastUpdated values', async () => {
    const first = await create({ resourceType: 'Location', name: 'Salle 1' });
    await sleep(2100);
    const second = await create({ resourceType: 'Location', name: 'Salle 2' });
    const t1 = first.meta!.lastUpdated!;
    const t2 = second.meta!.lastUpdated!;
    assert.ok(Date.parse(t2) - Date.parse(t1) >= 2000, `${t1} / ${t2}`);
    // a whole second (second precision) strictly after the first write and before the second one
    const between = new Date(Date.parse(t1) + 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    await expectIds(h, `Location?_lastUpdated=${q(`gt${between}`)}`, [second.id!]);
    await expectIds(h, `Location?_lastUpdated=${q(`lt${between}`)}`, [first.id!]);
    await expectIds(h, `Location?_lastUpdated=${q(`ge${t2}`)}`, [second.id!]);
    await expectIds(h, `Location?_lastUpdated=${q(t1)}`, [first.id!]);
    await expectIds(h, `Location?_lastUpdated=${q(`le${t1}`)}`, [first.id!]);
    await expectIds(h, 'Location?_lastUpdated=ge2020-01-01&_lastUpdated=lt2100-01-01', [first.id!, second.id!].sort());
    await expectIds(h, 'Location?_lastUpdated=lt2020-01-01', []);
  });
});

async function idsOf(query: string): Promise<string[]> {
  const res = await h.get(query);
  assert.equal(res.status, 200, `${query}: ${res.status} ${res.text.slice(0, 500)}`);
  return (res.body.entry ?? []).filter((e: any) => e.search?.mode !== 'outcome').map((e: any) => e.resource.id);
}

async function create(r: Location): Promise<Location> {
  const res = await h.post(r.resourceType, r);
  assert.equal(res.status, 201, res.text);
  return res.body as Location;
}
