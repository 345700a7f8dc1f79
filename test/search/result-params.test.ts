// The searchset Bundle and the result parameters (R4 search.html#return): Bundle shape (type,
// self link, fullUrl, search.mode=match), _total=none|estimate|accurate, _summary=true|count|data|
// text, _elements; the three ways to search: GET [type]?, POST [type]/_search (form-encoded body,
// alone or with a query string) and GET [base]?_type= (system search over several types).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Observation, Patient } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertFhirJson, httpFor, type Http } from '../support/fhir-client.ts';
import { expectIds, ids, idsPost, linkOf, loadFixtures, pageIds, q, refsOf, searchset, searchsetPost, type Fixture } from '../support/search-fixtures.ts';

const SUBSETTED = 'SUBSETTED';
const NARRATIVE = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Résumé</div>' };

let server: TestServer;
let h: Http;

const FIXTURES: Fixture[] = [
  {
    resourceType: 'Patient',
    id: 'rp-1',
    text: NARRATIVE,
    identifier: [{ system: 'urn:socle:test', value: 'rp-1' }],
    active: true,
    name: [{ family: 'Lambert', given: ['Élise'] }],
    gender: 'female',
    birthDate: '1979-04-02',
    address: [{ city: 'Nantes', postalCode: '44000' }],
    maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }] },
    contact: [{ name: { family: 'Lambert', given: ['Paul'] } }],
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'fr' }] } }],
  } as Fixture,
  { resourceType: 'Patient', id: 'rp-2', name: [{ family: 'Lambert', given: ['Marc'] }], gender: 'male' } as Fixture,
  { resourceType: 'Patient', id: 'rp-3', name: [{ family: 'Garnier', given: ['Lucie'] }], gender: 'female' } as Fixture,
  { resourceType: 'Practitioner', id: 'rp-pr-1', name: [{ family: 'Lambert', given: ['Jean'] }] } as Fixture,
  { resourceType: 'Practitioner', id: 'rp-pr-2', name: [{ family: 'Faure', given: ['Anne'] }] } as Fixture,
  { resourceType: 'Organization', id: 'rp-org', name: 'Lambert & Associés' } as Fixture,
  {
    resourceType: 'Observation',
    id: 'rp-obs',
    text: NARRATIVE,
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '15074-8' }] },
    subject: { reference: 'Patient/rp-1' },
    effectiveDateTime: '2024-03-01T08:30:00+01:00',
    valueQuantity: { value: 5.4, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
    note: [{ text: 'à jeun' }],
  } as Fixture,
];

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
  await loadFixtures(h, FIXTURES);
});
after(async () => {
  await server?.close();
});

const hasSubsetted = (r: { meta?: { tag?: { code?: string }[] } }) => (r.meta?.tag ?? []).some((t) => t.code === SUBSETTED);

describe('searchset Bundle', () => {
  test('type searchset, total, self link, fullUrl and search.mode=match on every entry', async () => {
    const res = await h.get('Patient?family=lambert');
    assert.equal(res.status, 200);
    assertFhirJson(res);
    const b = res.body;
    assert.equal(b.resourceType, 'Bundle');
    assert.equal(b.type, 'searchset');
    assert.equal(b.total, 2);
    assert.ok(linkOf(b, 'self')?.startsWith(`${server.fhirUrl}/Patient?`), JSON.stringify(b.link));
    assert.equal(b.entry.length, 2);
    for (const e of b.entry) {
      assert.equal(e.search?.mode, 'match');
      assert.equal(e.fullUrl, `${server.fhirUrl}/Patient/${e.resource.id}`);
      assert.equal(e.resource.meta?.versionId, '1');
    }
  });

  test('no match: an empty searchset with total 0', async () => {
    const b = await searchset(h, 'Patient?family=personne');
    assert.equal(b.total, 0);
    assert.equal((b.entry ?? []).length, 0);
  });
});

describe('_total', () => {
  test('accurate (and by default): the exact number of matches, beyond the page', async () => {
    assert.equal((await searchset(h, 'Patient?_total=accurate&_count=1')).total, 3);
    assert.equal((await searchset(h, 'Patient?_count=1')).total, 3);
  });

  test('accurate totals counted from the index tables follow updates, deletions and repeated values', async () => {
    const created: Patient[] = [];
    const create = async (p: Patient) => created[created.push((await h.post('Patient', p)).body as Patient) - 1];
    await create({ resourceType: 'Patient', name: [{ family: 'Vasseur' }], gender: 'female' });
    await create({ resourceType: 'Patient', name: [{ family: 'Vasseur' }, { family: 'Vasseur', given: ['Luc'] }], gender: 'male' });
    const renamed = await create({ resourceType: 'Patient', name: [{ family: 'Vasseur' }], gender: 'female' });
    const deleted = await create({ resourceType: 'Patient', name: [{ family: 'Vasseur' }], gender: 'female' });
    assert.equal((await h.put(`Patient/${renamed.id}`, { ...renamed, name: [{ family: 'Morel' }] })).status, 200);
    assert.equal((await h.delete(`Patient/${deleted.id}`)).status, 204);
    const total = async (query: string) => (await searchset(h, `Patient?${query}&_count=1`)).total;
    assert.equal(await total('family=vasseur'), 2, 'a resource matching twice counts once');
    assert.equal(await total('family=vasseur&gender=female'), 1, 'AND of two indexed parameters');
    assert.equal(await total('family=vasseur,morel'), 3);
    assert.equal(await total('family=vasseur&_id:not=nothing'), 2, 'with a filter on the resource table');
    assert.equal((await searchset(h, 'Patient?family=vasseur&_summary=count')).total, 2);
    for (const p of created) await h.delete(`Patient/${p.id}`); // the other tests count every Patient
  });

  test('none: no total, the matches still there', async () => {
    const b = await searchset(h, 'Patient?family=lambert&_total=none');
    assert.equal(b.total, undefined);
    assert.deepEqual(pageIds(b).sort(), ['rp-1', 'rp-2']);
  });

  test('estimate: a total, if any, is a non-negative integer; the matches are exact', async () => {
    const b = await searchset(h, 'Patient?family=lambert&_total=estimate');
    if (b.total !== undefined) assert.ok(Number.isInteger(b.total) && b.total >= 0, `total ${b.total}`);
    assert.deepEqual(pageIds(b).sort(), ['rp-1', 'rp-2']);
  });
});

describe('_summary', () => {
  test('count: the total only, no entries', async () => {
    const b = await searchset(h, 'Patient?family=lambert&_summary=count');
    assert.equal(b.total, 2);
    assert.equal((b.entry ?? []).filter((e) => e.search?.mode === 'match').length, 0);
  });

  test('true: summary elements only, marked SUBSETTED', async () => {
    const b = await searchset(h, 'Patient?_id=rp-1&_summary=true');
    const p = b.entry?.[0]?.resource as Patient;
    assert.equal(p.id, 'rp-1');
    for (const k of ['identifier', 'active', 'name', 'gender', 'birthDate', 'address']) assert.ok(k in p, `summary element ${k} kept`);
    for (const k of ['text', 'contact', 'communication', 'maritalStatus']) assert.ok(!(k in p), `non-summary element ${k} removed`);
    assert.ok(hasSubsetted(p), 'meta.tag SUBSETTED');
  });

  test('data: everything but the narrative', async () => {
    const b = await searchset(h, 'Patient?_id=rp-1&_summary=data');
    const p = b.entry?.[0]?.resource as Patient;
    assert.ok(!('text' in p), 'text removed');
    for (const k of ['name', 'contact', 'communication', 'maritalStatus']) assert.ok(k in p, `${k} kept`);
  });

  test('text: text, id, meta and the mandatory elements only', async () => {
    const b = await searchset(h, 'Observation?_id=rp-obs&_summary=text');
    const o = b.entry?.[0]?.resource as Observation;
    assert.deepEqual(o.text, NARRATIVE);
    assert.equal(o.id, 'rp-obs');
    // Observation.status and Observation.code are mandatory (1..1)
    assert.equal(o.status, 'final', 'mandatory status kept');
    assert.ok(o.code, 'mandatory code kept');
    for (const k of ['subject', 'valueQuantity', 'note', 'category', 'effectiveDateTime']) assert.ok(!(k in o), `${k} removed`);
  });

  test('false: the full resources', async () => {
    const b = await searchset(h, 'Patient?_id=rp-1&_summary=false');
    const p = b.entry?.[0]?.resource as Patient;
    assert.ok('contact' in p && 'text' in p);
    assert.ok(!hasSubsetted(p));
  });
});

describe('_elements', () => {
  test('only the listed elements (plus id, meta and mandatory ones), marked SUBSETTED', async () => {
    const b = await searchset(h, 'Patient?_id=rp-1&_elements=name,birthDate');
    const p = b.entry?.[0]?.resource as Patient;
    assert.deepEqual(p.name, [{ family: 'Lambert', given: ['Élise'] }]);
    assert.equal(p.birthDate, '1979-04-02');
    for (const k of ['identifier', 'gender', 'address', 'contact', 'text']) assert.ok(!(k in p), `${k} removed`);
    assert.ok(hasSubsetted(p));
  });

  test('choice elements by their base name (value[x] as "value"), mandatory elements kept', async () => {
    const b = await searchset(h, 'Observation?_id=rp-obs&_elements=value,subject');
    const o = b.entry?.[0]?.resource as Observation;
    assert.deepEqual(o.valueQuantity?.value, 5.4);
    assert.deepEqual(o.subject, { reference: 'Patient/rp-1' });
    assert.equal(o.status, 'final');
    assert.ok(o.code);
    for (const k of ['note', 'category', 'effectiveDateTime', 'text']) assert.ok(!(k in o), `${k} removed`);
  });
});

describe('search by POST and across types', () => {
  test('POST [type]/_search with a form-encoded body', async () => {
    assert.deepEqual(await idsPost(h, 'Patient', `family=lambert&gender=female`), ['rp-1']);
    const b = await searchsetPost(h, 'Patient', 'family=lambert&_count=1');
    assert.equal(pageIds(b).length, 1);
    assert.equal(b.total, 2);
  });

  test('POST _search: parameters in the query string and in the body are combined', async () => {
    const res = await h.post('Patient/_search?gender=female', 'family=lambert', undefined, 'application/x-www-form-urlencoded');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(pageIds(res.body).sort(), ['rp-1']);
  });

  test('GET [base]?_type=Patient,Practitioner&name=…: matches of several types', async () => {
    const b = await searchset(h, `${server.fhirUrl}?_type=Patient,Practitioner&name=lambert`);
    assert.deepEqual(refsOf(b.entry ?? []).sort(), ['Patient/rp-1', 'Patient/rp-2', 'Practitioner/rp-pr-1']);
    assert.equal(b.total, 3);
    for (const e of b.entry ?? []) assert.equal(e.fullUrl, `${server.fhirUrl}/${e.resource?.resourceType}/${e.resource?.id}`);
  });

  test('GET [base]?_type=…&_id=…, and paging across types', async () => {
    const b = await searchset(h, `${server.fhirUrl}?_type=Patient,Organization&_id=rp-3,rp-org`);
    assert.deepEqual(refsOf(b.entry ?? []).sort(), ['Organization/rp-org', 'Patient/rp-3']);
    const all: string[] = [];
    let page = await searchset(h, `${server.fhirUrl}?_type=Patient,Practitioner&_count=2`);
    for (let i = 0; i < 10; i++) {
      all.push(...refsOf(page.entry ?? []));
      const next = linkOf(page, 'next');
      if (!next) break;
      page = await searchset(h, next);
    }
    assert.deepEqual(all.sort(), ['Patient/rp-1', 'Patient/rp-2', 'Patient/rp-3', 'Practitioner/rp-pr-1', 'Practitioner/rp-pr-2']);
  });

  test('the same criteria by GET and by POST give the same ids', async () => {
    for (const criteria of ['family=lambert', `name=${q('élise')}`, 'gender=female&_sort=family']) {
      assert.deepEqual(await idsPost(h, 'Patient', criteria), await ids(h, `Patient?${criteria}`), criteria);
    }
    await expectIds(h, 'Patient?gender=female', ['rp-1', 'rp-3']);
  });
});
