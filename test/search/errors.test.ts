// Errors and handling of unknown parameters: Prefer: handling=lenient (the default) ignores an
// unknown or unsupported parameter and says so in an OperationOutcome entry (search.mode=outcome);
// handling=strict answers 400. Malformed values (dates, numbers, prefixes, quantities, _count,
// :missing, _total, _summary, _has, chains, page cursors) answer 400 with an OperationOutcome,
// never 500; an unknown type is 404.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertOutcome, httpFor, type Http, type HttpResult } from '../support/fhir-client.ts';
import { linkOf, loadFixtures, outcomeIssues, pageIds, q, searchset, type Fixture } from '../support/search-fixtures.ts';

let server: TestServer;
let h: Http;

const STRICT = { prefer: 'handling=strict' };
const LENIENT = { prefer: 'handling=lenient' };

const FIXTURES: Fixture[] = [
  { resourceType: 'Patient', id: 'er-1', name: [{ family: 'Roche' }], gender: 'female', birthDate: '1980-01-01' } as Fixture,
  { resourceType: 'Patient', id: 'er-2', name: [{ family: 'Rocher' }], gender: 'male', birthDate: '1990-01-01' } as Fixture,
  { resourceType: 'Patient', id: 'er-3', name: [{ family: 'Blanc' }], gender: 'female' } as Fixture,
  { resourceType: 'Observation', id: 'er-obs', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/er-1' } } as Fixture,
];

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
  await loadFixtures(h, FIXTURES);
});
after(async () => {
  await server?.close();
});

function warnsAbout(b: Bundle, needle: string): boolean {
  return outcomeIssues(b).some((i) => ['warning', 'information'].includes(i.severity ?? '') && `${i.diagnostics ?? ''} ${i.details?.text ?? ''}`.includes(needle));
}

/** Either a 400 OperationOutcome, or a 200 whose searchset carries a warning about `needle`. */
function rejectedOrWarned(res: HttpResult, needle: string, what: string): void {
  if (res.status === 400) {
    assertOutcome(res, { status: 400 });
    return;
  }
  assert.equal(res.status, 200, `${what}: ${res.status} ${res.text.slice(0, 400)}`);
  assert.ok(warnsAbout(res.body, needle), `${what}: 200 without a warning about "${needle}": ${res.text.slice(0, 600)}`);
}

describe('unknown parameters', () => {
  test('lenient by default: ignored, with a warning entry (search.mode=outcome) naming the parameter', async () => {
    const b = await searchset(h, 'Patient?family=roche&foo=bar');
    assert.deepEqual(pageIds(b).sort(), ['er-1', 'er-2'], 'the known parameter still filters');
    assert.ok(warnsAbout(b, 'foo'), JSON.stringify(b.entry?.filter((e) => e.search?.mode === 'outcome')));
    const outcome = b.entry?.find((e) => e.resource?.resourceType === 'OperationOutcome');
    assert.equal(outcome?.search?.mode, 'outcome');
    assert.equal(b.total, 2, 'the outcome entry is not counted');
  });

  test('Prefer: handling=lenient behaves the same', async () => {
    const b = await searchset(h, 'Patient?family=roche&foo=bar', LENIENT);
    assert.deepEqual(pageIds(b).sort(), ['er-1', 'er-2']);
    assert.ok(warnsAbout(b, 'foo'));
  });

  test('Prefer: handling=strict: 400 naming the parameter; known parameters still work', async () => {
    assertOutcome(await h.get('Patient?family=roche&foo=bar', STRICT), { status: 400, diagnostics: 'foo' });
    const ok = await searchset(h, 'Patient?family=roche', STRICT);
    assert.deepEqual(pageIds(ok).sort(), ['er-1', 'er-2']);
    assert.equal(outcomeIssues(ok).length, 0, 'no warning when everything is known');
  });

  test('strict applies to POST _search too', async () => {
    const res = await h.post('Patient/_search', 'foo=bar', STRICT, 'application/x-www-form-urlencoded');
    assertOutcome(res, { status: 400, diagnostics: 'foo' });
  });

  test('an unknown parameter in a chain or in _has', async () => {
    assertOutcome(await h.get('Observation?subject:Patient.foo=x', STRICT), { status: 400 });
    assertOutcome(await h.get('Patient?_has:Observation:subject:foo=x', STRICT), { status: 400 });
    rejectedOrWarned(await h.get('Observation?subject:Patient.foo=x'), 'foo', 'lenient chain');
  });

  test('an unknown modifier: 400 under strict; lenient: 400 or a warning', async () => {
    assertOutcome(await h.get('Patient?family:sounds-like=roche', STRICT), { status: 400 });
    rejectedOrWarned(await h.get('Patient?family:sounds-like=roche'), 'sounds-like', 'lenient modifier');
  });

  test('an unknown _sort key or _include is reported (lenient)', async () => {
    const b = await searchset(h, 'Patient?family=roche&_sort=shoe-size');
    assert.deepEqual(pageIds(b).sort(), ['er-1', 'er-2']);
    assert.ok(warnsAbout(b, 'shoe-size'));
    const i = await searchset(h, 'Patient?family=roche&_revinclude=Observation:nope');
    assert.ok(warnsAbout(i, 'nope'));
  });
});

describe('malformed values: 400 OperationOutcome', () => {
  const cases: [string, string][] = [
    ['a month out of range', 'Patient?birthdate=1984-13'],
    ['a day that does not exist', 'Patient?birthdate=2024-02-30'],
    ['an hour out of range', `Patient?birthdate=${q('2024-01-01T25:00:00Z')}`],
    ['not a date', 'Patient?birthdate=yesterday'],
    ['an unknown date prefix', 'Patient?birthdate=xx1984'],
    ['a prefix without a value', 'Patient?birthdate=ge'],
    ['a bad _lastUpdated', 'Patient?_lastUpdated=soon'],
    ['not a number', 'RiskAssessment?probability=abc'],
    ['an unknown number prefix', 'RiskAssessment?probability=zz0.5'],
    ['two decimal points', 'RiskAssessment?probability=0.5.5'],
    ['a bad quantity value', `Observation?value-quantity=${q('abc|http://unitsofmeasure.org|mg')}`],
    ['_count not a number', 'Patient?_count=abc'],
    ['_count negative', 'Patient?_count=-1'],
    [':missing not a boolean', 'Patient?gender:missing=maybe'],
    ['_total not a known mode', 'Patient?_total=sometimes'],
    ['_summary not a known mode', 'Patient?_summary=bogus'],
    ['_has without its parameter', 'Patient?_has:Observation:subject=x'],
    ['_has on a non-reference parameter', 'Patient?_has:Observation:code:status=final'],
    ['a chain on a non-reference parameter', 'Patient?family.name=x'],
    ['a type modifier that is not a target type', 'Observation?subject:Medication=x'],
    ['a composite value without $', `Observation?code-value-quantity=${q('http://loinc.org|15074-8')}`],
  ];
  for (const [what, query] of cases) {
    test(`${what}: ${decodeURIComponent(query)}`, async () => {
      assertOutcome(await h.get(query), { status: 400 });
    });
  }

  test('the same malformed value through POST _search', async () => {
    const res = await h.post('Patient/_search', 'birthdate=1984-13', undefined, 'application/x-www-form-urlencoded');
    assertOutcome(res, { status: 400 });
  });

  test('a next link whose paging token was tampered with is refused, not misread', async () => {
    const b = await searchset(h, 'Patient?_count=1&_sort=family');
    const self = new URL(linkOf(b, 'self')!);
    const next = new URL(linkOf(b, 'next')!);
    // the parameters the server added to the next link (or changed in it) carry the paging state
    const added = [...next.searchParams.keys()].filter((k) => next.searchParams.get(k) !== self.searchParams.get(k));
    assert.ok(added.length > 0, `the next link differs from the self link: ${next}`);
    for (const k of added) next.searchParams.set(k, 'tampered!');
    const res = await h.get(next.toString());
    assertOutcome(res, { status: [400, 410] });
  });
});

describe('unknown type', () => {
  test('404 OperationOutcome', async () => {
    assertOutcome(await h.get('Patiente?name=x'), { status: 404 });
    assertOutcome(await h.post('Patiente/_search', 'name=x', undefined, 'application/x-www-form-urlencoded'), { status: 404 });
  });
});
