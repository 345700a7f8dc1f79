// _sort on one and several keys (ascending, "-" descending, ties broken by the next key, resources
// without the sort value kept), _sort=_id and _lastUpdated; paging: _count (default 50, capped by
// searchMaxCount), next/previous links (absolute, opaque, reusable), total on every page, and stable
// paging while resources are inserted and updated between page fetches.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Patient, Person } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import { httpFor, sleep, type Http } from '../support/fhir-client.ts';
import { linkOf, loadFixtures, pageIds, q, searchset, type Fixture } from '../support/search-fixtures.ts';

const MAX_COUNT = 55;
const PAGING_A = 'urn:socle:test:paging-a';
const FAMILIES = ['Martin', 'Bernard', 'Thomas', 'Petit', 'Robert', 'Richard', 'Durand', 'Dubois', 'Moreau', 'Laurent', 'Simon', 'Michel'];

let server: TestServer;
let h: Http;

const pat = (id: string, family: string, given: string, birthDate?: string): Fixture =>
  ({ resourceType: 'Patient', id, name: [{ family, given: [given] }], ...(birthDate ? { birthDate } : {}) }) as Fixture;

const PATIENTS: Fixture[] = [
  pat('sp-a', 'Martin', 'Léa', '1990-05-01'),
  pat('sp-b', 'Bernard', 'Hugo', '1985-01-01'),
  pat('sp-c', 'Martin', 'Jules', '1975-03-03'),
  pat('sp-d', 'Dubois', 'Chloé', '2001-12-12'),
  pat('sp-e', 'Martin', 'Adèle', '1990-05-01'),
  pat('sp-f', 'Lefèvre', 'Zoé', '1960-07-07'),
  pat('sp-g', 'Leroy', 'Emma', '1960-07-07'),
  pat('sp-h', 'Zidane', 'Noé'), // no birthDate
];

const person = (id: string, system: string, i: number): Fixture =>
  ({
    resourceType: 'Person',
    id,
    identifier: [{ system, value: String(i) }],
    name: [{ family: FAMILIES[i % FAMILIES.length], given: [`P${i}`] }],
    birthDate: `19${50 + (i % 3)}-01-01`, // three distinct values: many ties
  }) as Fixture;

const PERSONS_A = Array.from({ length: 23 }, (_, i) => person(`pa-${String(i).padStart(2, '0')}`, PAGING_A, i));
const BASICS = Array.from({ length: 60 }, (_, i) => ({ resourceType: 'Basic', id: `bx-${i}`, code: { text: 'paging' } }) as Fixture);

before(async () => {
  server = await startTestServer({ searchMaxCount: MAX_COUNT });
  h = httpFor(server.fhirUrl);
  await loadFixtures(h, [...PATIENTS, ...PERSONS_A, ...BASICS]);
});
after(async () => {
  await server?.close();
});

/** Ids of all pages in order, following next links; with a hook between pages. */
async function walk(query: string, between?: (page: number) => Promise<void>, maxPages = 50): Promise<{ ids: string[]; pages: Bundle[] }> {
  const pages: Bundle[] = [];
  let b = await searchset(h, query);
  for (;;) {
    pages.push(b);
    const next = linkOf(b, 'next');
    if (!next) break;
    assert.ok(pages.length < maxPages, `${query}: more than ${maxPages} pages`);
    if (between) await between(pages.length);
    b = await searchset(h, next);
  }
  return { ids: pages.flatMap(pageIds), pages };
}

const familyOf = (b: Bundle) => (b.entry ?? []).map((e) => (e.resource as Patient).name?.[0]?.family);

describe('_sort', () => {
  test('one key ascending: family', async () => {
    const b = await searchset(h, 'Patient?_sort=family');
    assert.deepEqual(familyOf(b), ['Bernard', 'Dubois', 'Lefèvre', 'Leroy', 'Martin', 'Martin', 'Martin', 'Zidane']);
  });

  test('one key descending: -family', async () => {
    const b = await searchset(h, 'Patient?_sort=-family');
    assert.deepEqual(familyOf(b), ['Zidane', 'Martin', 'Martin', 'Martin', 'Leroy', 'Lefèvre', 'Dubois', 'Bernard']);
  });

  test('several keys: the second breaks the ties of the first', async () => {
    assert.deepEqual(pageIds(await searchset(h, 'Patient?_sort=family,given')), ['sp-b', 'sp-d', 'sp-f', 'sp-g', 'sp-e', 'sp-c', 'sp-a', 'sp-h']);
    assert.deepEqual(pageIds(await searchset(h, 'Patient?_sort=family,-given')), ['sp-b', 'sp-d', 'sp-f', 'sp-g', 'sp-a', 'sp-c', 'sp-e', 'sp-h']);
  });

  test('dates, descending then ascending keys; a resource without the value is still returned', async () => {
    const got = pageIds(await searchset(h, 'Patient?_sort=-birthdate,family,given'));
    assert.equal(got.length, 8, `every patient is returned: ${got}`);
    assert.deepEqual(got.filter((id) => id !== 'sp-h'), ['sp-d', 'sp-e', 'sp-a', 'sp-b', 'sp-c', 'sp-f', 'sp-g']);
    const asc = pageIds(await searchset(h, 'Patient?_sort=birthdate,-family,-given'));
    assert.equal(asc.length, 8, `every patient is returned: ${asc}`);
    assert.deepEqual(asc.filter((id) => id !== 'sp-h'), ['sp-g', 'sp-f', 'sp-c', 'sp-b', 'sp-a', 'sp-e', 'sp-d']);
  });

  test('_sort=_id and -_id', async () => {
    const ids = PATIENTS.map((p) => p.id).sort();
    assert.deepEqual(pageIds(await searchset(h, 'Patient?_sort=_id')), ids);
    assert.deepEqual(pageIds(await searchset(h, 'Patient?_sort=-_id')), [...ids].reverse());
  });

  test('_sort=_lastUpdated and -_lastUpdated follow the order of the writes', async () => {
    const created: string[] = [];
    for (const name of ['Salle C', 'Salle A', 'Salle B']) {
      const res = await h.post('Location', { resourceType: 'Location', name });
      assert.equal(res.status, 201, res.text);
      created.push(res.body.id);
      await sleep(20);
    }
    assert.deepEqual(pageIds(await searchset(h, 'Location?_sort=_lastUpdated')), created);
    assert.deepEqual(pageIds(await searchset(h, 'Location?_sort=-_lastUpdated')), [...created].reverse());
    assert.deepEqual(pageIds(await searchset(h, 'Location?_sort=name')), [created[1], created[2], created[0]]);
  });

  test('sorting and filtering together, sorted across pages', async () => {
    const { ids } = await walk('Patient?family=martin&_sort=-given&_count=2');
    assert.deepEqual(ids, ['sp-a', 'sp-c', 'sp-e']);
  });
});

describe('_count and links', () => {
  test('default page size is 50, with a next link; the last page has none', async () => {
    const b = await searchset(h, 'Basic');
    assert.equal(pageIds(b).length, 50);
    assert.equal(b.total, 60);
    const next = linkOf(b, 'next');
    assert.ok(next);
    const last = await searchset(h, next);
    assert.equal(pageIds(last).length, 10);
    assert.equal(linkOf(last, 'next'), undefined);
    assert.deepEqual([...pageIds(b), ...pageIds(last)].sort(), BASICS.map((x) => x.id).sort());
  });

  test(`_count above searchMaxCount (${MAX_COUNT}) is capped`, async () => {
    const b = await searchset(h, 'Basic?_count=1000');
    assert.equal(pageIds(b).length, MAX_COUNT);
    assert.ok(linkOf(b, 'next'), 'the remaining resources are on a next page');
  });

  test('_count=0: no entries, the total', async () => {
    const b = await searchset(h, 'Basic?_count=0');
    assert.equal(pageIds(b).length, 0);
    assert.equal(b.total, 60);
  });

  test('self link: absolute, with the search parameters; next/previous links absolute on the same base', async () => {
    const b = await searchset(h, `Person?identifier=${q(`${PAGING_A}|`)}&_count=5`);
    const self = linkOf(b, 'self');
    assert.ok(self?.startsWith(`${server.fhirUrl}/Person?`), `self: ${self}`);
    const u = new URL(self!);
    assert.equal(u.searchParams.get('identifier'), `${PAGING_A}|`);
    assert.equal(u.searchParams.get('_count'), '5');
    assert.ok(linkOf(b, 'next')?.startsWith(`${server.fhirUrl}/Person?`), 'next link');
    assert.equal(linkOf(b, 'previous'), undefined, 'no previous link on the first page');
  });

  test('following next links returns every match once, total on every page; previous goes back', async () => {
    const expected = PERSONS_A.map((p) => p.id).sort();
    const { ids, pages } = await walk(`Person?identifier=${q(`${PAGING_A}|`)}&_count=5`);
    assert.equal(pages.length, 5);
    assert.deepEqual([...ids].sort(), expected);
    for (const p of pages) assert.equal(p.total, 23);
    assert.deepEqual(pageIds(pages[1]), ids.slice(5, 10));
    const prev = linkOf(pages[2], 'previous');
    assert.ok(prev, 'page 3 has a previous link');
    assert.deepEqual(pageIds(await searchset(h, prev)), pageIds(pages[1]));
  });

  test('a page link can be used again and gives the same page', async () => {
    const first = await searchset(h, `Person?identifier=${q(`${PAGING_A}|`)}&_count=4&_sort=birthdate`);
    const next = linkOf(first, 'next')!;
    assert.deepEqual(pageIds(await searchset(h, next)), pageIds(await searchset(h, next)));
  });

  test('paging with many ties on the sort key (3 distinct birth dates for 23 resources)', async () => {
    for (const sort of ['birthdate', '-birthdate', 'birthdate,-family', 'family,birthdate']) {
      const { ids } = await walk(`Person?identifier=${q(`${PAGING_A}|`)}&_count=4&_sort=${sort}`);
      assert.deepEqual([...ids].sort(), PERSONS_A.map((p) => p.id).sort(), `_sort=${sort}: ${ids}`);
    }
  });
});

describe('stable paging while data change', () => {
  let round = 0;

  /**
   * Loads 21 fresh Persons under a new identifier system, then walks the search page by page; between
   * two pages it inserts resources whose sort values fall before, among and after the ones already
   * seen, and (unless the sort is on _lastUpdated) updates a resource not seen yet, keeping its sort
   * values. No id may come twice and none of the original resources may be missed.
   */
  async function pagingWhileInserting(sort: string | undefined, update = true): Promise<void> {
    round++;
    const system = `urn:socle:test:paging-live-${round}`;
    const originals = Array.from({ length: 21 }, (_, i) => person(`live${round}-${String(i).padStart(2, '0')}`, system, i));
    await loadFixtures(h, originals);
    const what = `_sort=${sort ?? '(default)'}`;
    let inserted = 0;
    let updated = 0;
    const seen = new Set<string>();
    let b = await searchset(h, `Person?identifier=${q(`${system}|`)}&_count=4${sort ? `&_sort=${sort}` : ''}`);
    for (let page = 1; ; page++) {
      for (const id of pageIds(b)) {
        assert.ok(!seen.has(id), `${what}: ${id} returned twice (page ${page})`);
        seen.add(id);
      }
      const next = linkOf(b, 'next');
      if (!next) break;
      assert.ok(page < 40, `${what}: too many pages`);
      for (const family of ['Aaron', 'Martin', 'Zylberstein']) {
        const p: Person = {
          resourceType: 'Person',
          identifier: [{ system, value: `new-${inserted}` }],
          name: [{ family, given: [`N${inserted}`] }],
          birthDate: ['1949-06-01', '1951-01-01', '1999-01-01'][inserted % 3],
        };
        inserted++;
        const res = await h.post('Person', p);
        assert.equal(res.status, 201, res.text);
      }
      const target = update ? originals.find((o) => !seen.has(o.id)) : undefined;
      if (target) {
        const res = await h.put(`Person/${target.id}`, { ...target, active: true });
        assert.equal(res.status, 200, res.text);
        updated++;
      }
      b = await searchset(h, next);
    }
    const missed = originals.map((o) => o.id).filter((id) => !seen.has(id));
    assert.deepEqual(missed, [], `${what}: originals missed`);
    assert.ok(inserted >= 15, `resources were inserted between pages (${inserted})`);
    if (update) assert.ok(updated >= 3, `resources were updated between pages (${updated})`);
  }

  test('default order', async () => {
    await pagingWhileInserting(undefined);
  });

  test('_sort=family', async () => {
    await pagingWhileInserting('family');
  });

  test('_sort=-birthdate,family', async () => {
    await pagingWhileInserting('-birthdate,family');
  });

  test('_sort=-_lastUpdated (new resources go before the first page)', async () => {
    await pagingWhileInserting('-_lastUpdated', false);
  });

  test('_sort=_lastUpdated (new resources go after the last page and are seen once)', async () => {
    await pagingWhileInserting('_lastUpdated', false);
  });
});
