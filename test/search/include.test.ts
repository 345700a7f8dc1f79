// _include and _revinclude (R4 search.html#include): included resources carry search.mode=include,
// are not counted in total, are not duplicated (nor repeated when also a match), follow the target
// type restriction (Source:param:Target), :iterate applies to included resources (and only it does),
// deleted targets are not included, includes follow the page's matches.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import { httpFor, type Http } from '../support/fhir-client.ts';
import { includedRefs, isInclude, isMatch, isOutcome, linkOf, loadFixtures, outcomeIssues, pageIds, refsOf, searchset, type Fixture } from '../support/search-fixtures.ts';

let server: TestServer;
let h: Http;

const ref = (reference: string) => ({ reference });

const FIXTURES: Fixture[] = [
  { resourceType: 'Organization', id: 'org-1', name: 'Centre de santé Belleville' },
  { resourceType: 'Organization', id: 'org-2', name: 'Maison de santé Ménilmontant', partOf: ref('Organization/org-1') },
  { resourceType: 'Practitioner', id: 'pr-1', name: [{ family: 'Durand' }] },
  { resourceType: 'Practitioner', id: 'pr-2', name: [{ family: 'Petit' }] },
  { resourceType: 'Practitioner', id: 'pr-3', name: [{ family: 'Roux' }] },
  { resourceType: 'Practitioner', id: 'pr-del', name: [{ family: 'Supprimé' }] },
  { resourceType: 'PractitionerRole', id: 'role-1', practitioner: ref('Practitioner/pr-1'), organization: ref('Organization/org-1') },
  { resourceType: 'PractitionerRole', id: 'role-2', practitioner: ref('Practitioner/pr-2'), organization: ref('Organization/org-1') },
  { resourceType: 'PractitionerRole', id: 'role-3', practitioner: ref('Practitioner/pr-2'), organization: ref('Organization/org-2') },
  { resourceType: 'PractitionerRole', id: 'role-del', practitioner: ref('Practitioner/pr-del'), organization: ref('Organization/org-2') },
  { resourceType: 'PractitionerRole', id: 'role-ext', practitioner: ref('http://annuaire.example.org/fhir/Practitioner/pr-1') },
  { resourceType: 'Location', id: 'loc-1', name: 'Cabinet 1', managingOrganization: ref('Organization/org-2') },
  { resourceType: 'Schedule', id: 'sch-1', actor: [ref('Practitioner/pr-1'), ref('Location/loc-1')] },
  { resourceType: 'Schedule', id: 'sch-2', actor: [ref('PractitionerRole/role-3')] },
  { resourceType: 'Schedule', id: 'sch-3', actor: [ref('Practitioner/pr-3')] },
  { resourceType: 'Slot', id: 'slot-1', schedule: ref('Schedule/sch-1'), status: 'free', start: '2024-06-03T09:00:00+02:00', end: '2024-06-03T09:15:00+02:00' },
  { resourceType: 'Slot', id: 'slot-2', schedule: ref('Schedule/sch-1'), status: 'busy', start: '2024-06-03T09:15:00+02:00', end: '2024-06-03T09:30:00+02:00' },
  { resourceType: 'Slot', id: 'slot-3', schedule: ref('Schedule/sch-1'), status: 'free', start: '2024-06-03T09:30:00+02:00', end: '2024-06-03T09:45:00+02:00' },
  { resourceType: 'Slot', id: 'slot-4', schedule: ref('Schedule/sch-2'), status: 'free', start: '2024-06-04T14:00:00+02:00', end: '2024-06-04T14:20:00+02:00' },
  { resourceType: 'Slot', id: 'slot-5', schedule: ref('Schedule/sch-3'), status: 'free', start: '2024-06-05T10:00:00+02:00', end: '2024-06-05T10:20:00+02:00' },
];

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
  await loadFixtures(h, FIXTURES);
  const del = await h.delete('Practitioner/pr-del');
  assert.ok([200, 204].includes(del.status), del.text);
});
after(async () => {
  await server?.close();
});

/** Matches (sorted "Type/id") and includes (sorted "Type/id") of one page, with checks common to all. */
function split(b: Bundle): { matches: string[]; included: string[] } {
  const entries = (b.entry ?? []).filter((e) => !isOutcome(e));
  for (const e of entries) {
    assert.ok(isMatch(e) || isInclude(e), `entry without search.mode match/include: ${JSON.stringify(e.search)}`);
    assert.equal(e.fullUrl, `${server.fhirUrl}/${e.resource?.resourceType}/${e.resource?.id}`, 'fullUrl is the absolute URL of the resource');
  }
  const all = refsOf(entries);
  assert.equal(new Set(all).size, all.length, `a resource appears twice in the Bundle: ${all}`);
  return { matches: refsOf(entries.filter(isMatch)).sort(), included: includedRefs(b) };
}

async function expectPage(query: string, matches: string[], included: string[]): Promise<Bundle> {
  const b = await searchset(h, query);
  const got = split(b);
  assert.deepEqual(got, { matches: [...matches].sort(), included: [...included].sort() }, query);
  return b;
}

describe('_include', () => {
  test('PractitionerRole?organization=…&_include=PractitionerRole:practitioner', async () => {
    const b = await expectPage('PractitionerRole?organization=org-1&_include=PractitionerRole:practitioner', ['PractitionerRole/role-1', 'PractitionerRole/role-2'], ['Practitioner/pr-1', 'Practitioner/pr-2']);
    assert.equal(b.total, 2, 'included resources are not counted in total');
  });

  test('several _include parameters, and a target shared by several matches included once', async () => {
    await expectPage(
      'PractitionerRole?_id=role-2,role-3&_include=PractitionerRole:practitioner&_include=PractitionerRole:organization',
      ['PractitionerRole/role-2', 'PractitionerRole/role-3'],
      ['Organization/org-1', 'Organization/org-2', 'Practitioner/pr-2'],
    );
  });

  test('Source:param:Target restricts the included type', async () => {
    await expectPage('Schedule?_id=sch-1&_include=Schedule:actor', ['Schedule/sch-1'], ['Location/loc-1', 'Practitioner/pr-1']);
    await expectPage('Schedule?_id=sch-1&_include=Schedule:actor:Location', ['Schedule/sch-1'], ['Location/loc-1']);
    await expectPage('Schedule?_id=sch-1&_include=Schedule:actor:Practitioner', ['Schedule/sch-1'], ['Practitioner/pr-1']);
  });

  test('a deleted target and a reference to another server are not included', async () => {
    await expectPage('PractitionerRole?_id=role-del&_include=PractitionerRole:practitioner', ['PractitionerRole/role-del'], []);
    await expectPage('PractitionerRole?_id=role-ext&_include=PractitionerRole:practitioner', ['PractitionerRole/role-ext'], []);
  });

  test('without :iterate, an _include does not apply to included resources', async () => {
    // Schedule:actor applies to matched Schedules only; the Schedule here is itself included
    await expectPage('Slot?_id=slot-1&_include=Slot:schedule&_include=Schedule:actor', ['Slot/slot-1'], ['Schedule/sch-1']);
  });

  test('Slot?_include=Slot:schedule&_include:iterate=Schedule:actor', async () => {
    await expectPage(
      'Slot?schedule=sch-1&_include=Slot:schedule&_include:iterate=Schedule:actor',
      ['Slot/slot-1', 'Slot/slot-2', 'Slot/slot-3'],
      ['Location/loc-1', 'Practitioner/pr-1', 'Schedule/sch-1'],
    );
  });

  test(':iterate over several levels: slot → schedule → role → organization → parent organization', async () => {
    await expectPage(
      'Slot?_id=slot-4&_include=Slot:schedule&_include:iterate=Schedule:actor&_include:iterate=PractitionerRole:organization&_include:iterate=Organization:partof',
      ['Slot/slot-4'],
      ['Organization/org-1', 'Organization/org-2', 'PractitionerRole/role-3', 'Schedule/sch-2'],
    );
  });

  test('a resource that is both a match and an include target appears once, as a match', async () => {
    await expectPage('Organization?_id=org-1,org-2&_include=Organization:partof', ['Organization/org-1', 'Organization/org-2'], []);
  });

  test('includes follow the matches of the page', async () => {
    const first = await expectPage('PractitionerRole?organization=org-1&_sort=_id&_count=1&_include=PractitionerRole:practitioner', ['PractitionerRole/role-1'], ['Practitioner/pr-1']);
    const next = linkOf(first, 'next');
    assert.ok(next, 'a next link');
    const b = await searchset(h, next);
    assert.deepEqual(split(b), { matches: ['PractitionerRole/role-2'], included: ['Practitioner/pr-2'] });
  });

  test('an unknown _include is reported as a warning (lenient) and includes nothing', async () => {
    const b = await searchset(h, 'PractitionerRole?_id=role-1&_include=PractitionerRole:nope');
    assert.deepEqual(pageIds(b), ['role-1']);
    assert.deepEqual(includedRefs(b), []);
    assert.ok(outcomeIssues(b).some((i) => i.severity === 'warning' && /nope/.test(`${i.diagnostics} ${i.details?.text ?? ''}`)), JSON.stringify(b.entry));
  });
});

describe('_revinclude', () => {
  test('Practitioner?_revinclude=PractitionerRole:practitioner', async () => {
    const b = await expectPage('Practitioner?_id=pr-2&_revinclude=PractitionerRole:practitioner', ['Practitioner/pr-2'], ['PractitionerRole/role-2', 'PractitionerRole/role-3']);
    assert.equal(b.total, 1);
  });

  test('a _revinclude with nothing pointing at the match includes nothing', async () => {
    await expectPage('Practitioner?_id=pr-3&_revinclude=PractitionerRole:practitioner', ['Practitioner/pr-3'], []);
  });

  test('_revinclude then _include:iterate', async () => {
    await expectPage(
      'Organization?_id=org-2&_revinclude=PractitionerRole:organization&_include:iterate=PractitionerRole:practitioner',
      ['Organization/org-2'],
      ['Practitioner/pr-2', 'PractitionerRole/role-3', 'PractitionerRole/role-del'], // role-del's practitioner is deleted: not included
    );
  });

  test('_revinclude:iterate: practitioner ← schedule ← slots', async () => {
    await expectPage(
      'Practitioner?_id=pr-1&_revinclude=Schedule:actor&_revinclude:iterate=Slot:schedule',
      ['Practitioner/pr-1'],
      ['Schedule/sch-1', 'Slot/slot-1', 'Slot/slot-2', 'Slot/slot-3'],
    );
  });

  test('matches reached again through includes are not repeated', async () => {
    await expectPage(
      'Practitioner?_id=pr-2,pr-3&_revinclude=PractitionerRole:practitioner&_include:iterate=PractitionerRole:practitioner',
      ['Practitioner/pr-2', 'Practitioner/pr-3'],
      ['PractitionerRole/role-2', 'PractitionerRole/role-3'],
    );
  });

  test('_include and _revinclude together', async () => {
    await expectPage(
      'PractitionerRole?_id=role-3&_include=PractitionerRole:organization&_revinclude=Schedule:actor',
      ['PractitionerRole/role-3'],
      ['Organization/org-2', 'Schedule/sch-2'],
    );
  });
});
