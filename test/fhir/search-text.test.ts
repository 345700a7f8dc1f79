// Full-text search (R4 search.html#text): _content searches the words of the whole resource, _text the
// words of its narrative; case- and accent-insensitive, several words AND-ed, OR, NOT, parentheses and
// "quoted phrases"; an update replaces the words; $reindex writes the words of resources stored before
// the index existed; attachments' base64 is not indexed (nor AuditEvents); bad queries answer 400.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertOutcome, httpFor, type Http } from '../support/fhir-client.ts';
import { expectIds, loadFixtures, q, searchset, type Fixture } from '../support/search-fixtures.ts';

let server: TestServer;
let h: Http;

const narrative = (xhtml: string) => ({ status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${xhtml}</div>` });
const SECRET = Buffer.from('mot confidentiel du compte rendu').toString('base64');

const FIXTURES: Fixture[] = [
  {
    resourceType: 'Patient',
    id: 'tx-helene',
    text: narrative('<p>Patiente suivie pour <b>insuffisance cardiaque</b> &amp; diabète ; c&#339;ur fragile</p>'),
    name: [{ family: 'Dupont', given: ['Hélène'] }],
    address: [{ city: 'Paris', postalCode: '75011' }],
  } as Fixture,
  {
    resourceType: 'Patient',
    id: 'tx-marc',
    text: narrative('<p>Patient sans antécédent notable</p>'),
    name: [{ family: 'Lefèvre', given: ['Marc'] }],
    address: [{ city: 'Saint-Étienne', postalCode: '42000' }],
  } as Fixture,
  { resourceType: 'Patient', id: 'tx-nonarrative', name: [{ family: 'Cardiaque', given: ['Jeanne'] }] } as Fixture,
  {
    resourceType: 'DocumentReference',
    id: 'tx-doc',
    status: 'current',
    description: 'Compte rendu de consultation de cardiologie',
    content: [{ attachment: { contentType: 'text/plain', data: SECRET, title: 'Lettre de liaison' } }],
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

describe('_content and _text: words, accents and case', () => {
  test('accents and case do not matter, in the data or in the query', async () => {
    await expectIds(h, 'Patient?_content=helene', ['tx-helene']);
    await expectIds(h, `Patient?_content=${q('HÉLÈNE')}`, ['tx-helene']);
    await expectIds(h, `Patient?_content=${q('lefevre')}`, ['tx-marc']);
    await expectIds(h, `Patient?_text=${q('DIABETE')}`, ['tx-helene']);
    await expectIds(h, `Patient?_text=${q('antécédent')}`, ['tx-marc']);
  });

  test('the ligature œ matches "oe", and XML character references in the narrative are decoded', async () => {
    await expectIds(h, 'Patient?_text=coeur', ['tx-helene']);
    await expectIds(h, `Patient?_text=${q('cœur')}`, ['tx-helene']);
  });

  test('whole words: a prefix is not a word', async () => {
    await expectIds(h, 'Patient?_content=hel', []);
    await expectIds(h, 'Patient?_content=75011', ['tx-helene']);
  });

  test('several words must all be present, in any order and any part of the resource', async () => {
    await expectIds(h, `Patient?_content=${q('dupont helene')}`, ['tx-helene']);
    await expectIds(h, `Patient?_content=${q('paris insuffisance')}`, ['tx-helene']);
    await expectIds(h, `Patient?_content=${q('helene lefevre')}`, []);
    await expectIds(h, `Patient?_content=${q('marc AND etienne')}`, ['tx-marc']);
  });

  test('OR, NOT, parentheses and quoted phrases (the spec example "(bone OR liver) and metastases")', async () => {
    await expectIds(h, `Patient?_content=${q('helene OR marc')}`, ['tx-helene', 'tx-marc']);
    await expectIds(h, `Patient?_content=${q('(dupont OR lefevre) and paris')}`, ['tx-helene']);
    await expectIds(h, `Patient?_content=${q('cardiaque NOT jeanne')}`, ['tx-helene']);
    await expectIds(h, `Patient?_text=${q('"insuffisance cardiaque"')}`, ['tx-helene']);
    await expectIds(h, `Patient?_text=${q('"cardiaque insuffisance"')}`, []);
    await expectIds(h, `Patient?_content=${q('"saint etienne"')}`, ['tx-marc']);
  });

  test('comma-separated values are alternatives, like any search parameter', async () => {
    await expectIds(h, 'Patient?_content=helene,marc', ['tx-helene', 'tx-marc']);
  });

  test('no match is an empty searchset', async () => {
    await expectIds(h, 'Patient?_content=zzzyx', []);
    await expectIds(h, 'DocumentReference?_text=cardiologie', []);
  });

  test('_text searches the narrative only, _content the whole resource including its narrative', async () => {
    await expectIds(h, 'Patient?_content=dupont', ['tx-helene']);
    await expectIds(h, 'Patient?_text=dupont', []);
    await expectIds(h, 'Patient?_text=cardiaque', ['tx-helene']);
    await expectIds(h, 'Patient?_content=cardiaque', ['tx-helene', 'tx-nonarrative']);
  });

  test('combines with other parameters and counts', async () => {
    await expectIds(h, 'Patient?_content=cardiaque&family=cardiaque', ['tx-nonarrative']);
    const b = await searchset(h, 'Patient?_content=cardiaque&_summary=count');
    assert.equal(b.total, 2);
  });

  test('an attachment\'s base64 content is not indexed, its title is', async () => {
    await expectIds(h, `DocumentReference?_content=${q(SECRET)}`, []);
    await expectIds(h, 'DocumentReference?_content=confidentiel', []);
    await expectIds(h, `DocumentReference?_content=${q('lettre liaison cardiologie')}`, ['tx-doc']);
  });
});

describe('_content and _text: writes', () => {
  test('an update replaces the words: the old ones no longer match', async () => {
    const put = await h.put('Patient/tx-marc', {
      resourceType: 'Patient',
      id: 'tx-marc',
      text: narrative('<p>Patient suivi en pneumologie</p>'),
      name: [{ family: 'Lefèvre', given: ['Marc-Antoine'] }],
    });
    assert.equal(put.status, 200, put.text);
    await expectIds(h, 'Patient?_text=pneumologie', ['tx-marc']);
    await expectIds(h, `Patient?_text=${q('antécédent')}`, []);
    await expectIds(h, 'Patient?_content=etienne', []);
    await expectIds(h, 'Patient?_content=antoine', ['tx-marc']);
  });

  test('a deleted resource is no longer found', async () => {
    const created = await h.post('Patient', { resourceType: 'Patient', name: [{ family: 'Éphémère' }] });
    assert.equal(created.status, 201, created.text);
    await expectIds(h, 'Patient?_content=ephemere', [created.body.id]);
    assert.ok([200, 204].includes((await h.delete(`Patient/${created.body.id}`)).status));
    await expectIds(h, 'Patient?_content=ephemere', []);
  });

  test('$reindex writes the words of resources stored before the index (rows removed here to stand for them)', async () => {
    await server.platform.db.query(`DELETE FROM sp_text WHERE resource_type = 'Patient'`);
    await expectIds(h, 'Patient?_content=helene', []);
    const res = await h.post('Patient/$reindex', { resourceType: 'Parameters' });
    assert.equal(res.status, 200, res.text);
    await expectIds(h, 'Patient?_content=helene', ['tx-helene']);
    await expectIds(h, 'Patient?_text=pneumologie', ['tx-marc']);
  });
});

describe('_content and _text: bad queries', () => {
  for (const [query, diagnostics] of [
    ['(helene OR marc', ') closing the ('],
    ['"insuffisance cardiaque', 'not closed'],
    ['helene OR', 'at the end'],
    ['--- ;', 'no word'],
  ]) {
    test(`_content=${query} → 400 naming the problem`, async () => {
      assertOutcome(await h.get(`Patient?_content=${q(query)}`), { status: 400, diagnostics });
    });
  }

  test('a NUL character, in a query or in stored text, is never a server error', async () => {
    assertOutcome(await h.get('Patient?_content=%00'), { status: 400, diagnostics: 'no word' });
    const res = await h.post('Patient', { resourceType: 'Patient', contact: [{ name: { text: 'Tante\u0000Agathe' } }] });
    assert.ok(res.status < 500, `${res.status} ${res.text.slice(0, 300)}`);
    if (res.status === 201) await expectIds(h, 'Patient?_content=agathe', [res.body.id]);
  });

  test('AuditEvent (the trail of every request) has no word index: 400 rather than an empty result', async () => {
    assertOutcome(await h.get('AuditEvent?_content=patient'), { status: 400, diagnostics: 'not indexed' });
  });

  test('a modifier on _text → 400', async () => {
    assertOutcome(await h.get('Patient?_text:exact=coeur'), { status: 400, diagnostics: ':exact' });
  });
});
