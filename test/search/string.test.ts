// String search parameters (R4 search.html#string): starts-with by default, case- and
// accent-insensitive ("helene" finds "Hélène"), :exact (case- and accent-sensitive, whole value),
// :contains, any part of a HumanName or Address, OR with commas, AND with repeated parameters,
// LIKE wildcards taken literally, GET and POST _search alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.ts';
import { httpFor, type Http } from '../support/fhir-client.ts';
import { expectIds, ids, idsPost, loadFixtures, q, type Fixture } from '../support/search-fixtures.ts';

let server: TestServer;
let h: Http;

const patient = (id: string, name: Record<string, unknown>[], extra: Record<string, unknown> = {}): Fixture =>
  ({ resourceType: 'Patient', id, name, ...extra }) as Fixture;

const FIXTURES: Fixture[] = [
  patient('s-helene', [{ family: 'Dupont', given: ['Hélène'] }], { address: [{ line: ['3 rue Oberkampf'], city: 'Paris', postalCode: '75011', country: 'FRA' }] }),
  patient('s-helen', [{ family: 'Martin', given: ['Helen'] }], { address: [{ city: 'Paris', postalCode: '75013' }] }),
  patient('s-heloise', [{ family: 'Durand-Lefèvre', given: ['Héloïse', 'Marie'] }], { address: [{ city: 'Saint-Étienne', postalCode: '42000' }] }),
  patient('s-zoe', [{ family: 'LEFÈVRE', given: ['Zoé'] }], { address: [{ city: 'Lyon', postalCode: '69003' }] }),
  patient('s-jeanne', [{ family: "D'Arc", given: ['Jeanne'] }], { address: [{ city: 'Domrémy-la-Pucelle', postalCode: '88630' }] }),
  patient('s-curie', [
    { use: 'official', text: 'Marie Curie', family: 'Curie', given: ['Marie'] },
    { use: 'maiden', family: 'Sklodowska', given: ['Maria'] },
  ]),
  patient('s-dan', [{ family: 'Dan', given: ['Ève'] }], { address: [{ city: 'Saint-Denis', postalCode: '93200' }] }),
  patient('s-noname', [], { address: [{ city: 'Évry', postalCode: '91000' }] }),
  { resourceType: 'Organization', id: 's-org-slouis', name: 'Hôpital Saint-Louis', alias: ['HSL'] } as Fixture,
  { resourceType: 'Organization', id: 's-org-pitie', name: 'HOPITAL PITIÉ-SALPÊTRIÈRE', alias: ['La Pitié'] } as Fixture,
  { resourceType: 'Organization', id: 's-org-clinique', name: 'Clinique de l’Hôpital privé', alias: ['CHP'] } as Fixture,
];

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
  // the empty name array is not valid FHIR: drop it
  const fixtures = FIXTURES.map((f) => ((f as any).name?.length === 0 ? { ...f, name: undefined } : f)) as Fixture[];
  await loadFixtures(h, fixtures);
});
after(async () => {
  await server?.close();
});

describe('string: default (starts-with, case- and accent-insensitive)', () => {
  test('"helene" finds "Hélène", not "Helen"', async () => {
    await expectIds(h, 'Patient?given=helene', ['s-helene']);
    await expectIds(h, 'Patient?name=helene', ['s-helene']);
  });

  test('"HÉLÈNE" and "Hélène" (accents and case in the query) find the same', async () => {
    await expectIds(h, `Patient?given=${q('HÉLÈNE')}`, ['s-helene']);
    await expectIds(h, `Patient?given=${q('Hélène')}`, ['s-helene']);
  });

  test('a prefix matches every value starting with it, with or without accents', async () => {
    await expectIds(h, 'Patient?given=HEL', ['s-helen', 's-helene', 's-heloise']);
    await expectIds(h, `Patient?given=${q('hél')}`, ['s-helen', 's-helene', 's-heloise']);
    await expectIds(h, 'Patient?given=helen', ['s-helen', 's-helene']);
  });

  test('starts-with is on the whole value, not on words inside it', async () => {
    // "Durand-Lefèvre" does not start with "lefevre"; "LEFÈVRE" does.
    await expectIds(h, 'Patient?family=lefevre', ['s-zoe']);
    await expectIds(h, 'Patient?family=durand', ['s-heloise']);
  });

  test('every given name counts: the second given name is searchable', async () => {
    await expectIds(h, 'Patient?given=marie', ['s-curie', 's-heloise']);
  });

  test('name matches any part of any HumanName: family, given, text, and other names (maiden)', async () => {
    await expectIds(h, 'Patient?name=sklodo', ['s-curie']);
    await expectIds(h, 'Patient?name=maria', ['s-curie']); // given of the maiden name
    await expectIds(h, `Patient?name=${q('marie curie')}`, ['s-curie']); // HumanName.text
    await expectIds(h, 'Patient?name=d', ['s-dan', 's-helene', 's-heloise', 's-jeanne']); // D'Arc, Dan, Dupont, Durand-Lefèvre
  });

  test('an apostrophe and a hyphen are plain characters', async () => {
    await expectIds(h, `Patient?family=${q("d'arc")}`, ['s-jeanne']);
    await expectIds(h, `Patient?family=${q('durand-lef')}`, ['s-heloise']);
  });

  test('LIKE wildcards in the value are literal: % and _ match nothing here', async () => {
    await expectIds(h, `Patient?family=${q('%')}`, []);
    await expectIds(h, `Patient?family=${q('d_pont')}`, []);
    await expectIds(h, `Patient?family=${q('_')}`, []);
    await expectIds(h, 'Patient?family=dupont', ['s-helene']); // control
  });

  test('address, address-city, address-postalcode: accents, hyphens, prefixes', async () => {
    await expectIds(h, 'Patient?address-city=saint-etienne', ['s-heloise']);
    await expectIds(h, 'Patient?address-city=saint', ['s-dan', 's-heloise']);
    await expectIds(h, `Patient?address-city=${q('ÉVRY')}`, ['s-noname']);
    await expectIds(h, 'Patient?address-postalcode=75', ['s-helen', 's-helene']);
    await expectIds(h, 'Patient?address=42000', ['s-heloise']); // any part of the Address
    await expectIds(h, 'Patient?address=oberkampf', []); // the line is "3 rue Oberkampf": starts with "3"
    await expectIds(h, 'Patient?address=3%20rue%20ober', ['s-helene']);
    await expectIds(h, 'Patient?address=paris', ['s-helen', 's-helene']);
  });

  test('Organization name covers name and alias, case and accents ignored', async () => {
    await expectIds(h, 'Organization?name=hopital', ['s-org-pitie', 's-org-slouis']);
    await expectIds(h, `Organization?name=${q('la pitie')}`, ['s-org-pitie']); // alias
    await expectIds(h, 'Organization?name=hsl', ['s-org-slouis']); // alias
    await expectIds(h, `Organization?name=${q('HÔPITAL PITIÉ-SALPÊTRIÈRE')}`, ['s-org-pitie']);
  });
});

describe('string: modifiers', () => {
  test(':exact is case- and accent-sensitive and matches the whole value', async () => {
    await expectIds(h, `Patient?family:exact=${q('LEFÈVRE')}`, ['s-zoe']);
    await expectIds(h, `Patient?family:exact=${q('Lefèvre')}`, []);
    await expectIds(h, `Patient?family:exact=${q('LEFEVRE')}`, []);
    await expectIds(h, 'Patient?family:exact=Dupont', ['s-helene']);
    await expectIds(h, 'Patient?family:exact=Dupon', []);
    await expectIds(h, `Patient?given:exact=${q('Hélène')}`, ['s-helene']);
    await expectIds(h, 'Patient?given:exact=Helene', []);
  });

  test(':contains matches anywhere in the value, case- and accent-insensitive', async () => {
    await expectIds(h, 'Patient?family:contains=lefevre', ['s-heloise', 's-zoe']);
    await expectIds(h, 'Patient?given:contains=ELO', ['s-heloise']);
    await expectIds(h, 'Patient?name:contains=an', ['s-dan', 's-heloise', 's-jeanne']); // Dan, Durand, Jeanne
    await expectIds(h, `Patient?name:contains=${q('%')}`, []);
    await expectIds(h, `Organization?name:contains=${q('salpetriere')}`, ['s-org-pitie']);
    await expectIds(h, `Organization?name:contains=${q('hôpital')}`, ['s-org-clinique', 's-org-pitie', 's-org-slouis']);
  });
});

describe('string: OR and AND', () => {
  test('comma-separated values are alternatives (OR)', async () => {
    await expectIds(h, 'Patient?family=dupont,martin', ['s-helen', 's-helene']);
    await expectIds(h, `Patient?given=${q('zoé')},jeanne,nobody`, ['s-jeanne', 's-zoe']);
  });

  test('repeated parameters must all match (AND), possibly on different names', async () => {
    await expectIds(h, 'Patient?given=hel&family=martin', ['s-helen']);
    await expectIds(h, 'Patient?name=curie&name=sklodowska', ['s-curie']);
    await expectIds(h, 'Patient?name=hel&name=hel', ['s-helen', 's-helene', 's-heloise']);
    await expectIds(h, 'Patient?given=helene&family=martin', []);
  });

  test('an escaped comma is part of the value, not a separator', async () => {
    // "dupont\,martin" is one value that no family starts with
    await expectIds(h, `Patient?family=${q('dupont\\,martin')}`, []);
  });
});

describe('string: POST _search', () => {
  test('form-encoded body gives the same hits as GET', async () => {
    assert.deepEqual(await idsPost(h, 'Patient', `given=${q('hélène')}`), ['s-helene']);
    assert.deepEqual(await idsPost(h, 'Patient', 'family=dupont,martin'), ['s-helen', 's-helene']);
    assert.deepEqual(await idsPost(h, 'Patient', 'family:contains=lefevre'), await ids(h, 'Patient?family:contains=lefevre'));
  });

  test('repeated form fields are ANDed like repeated query parameters', async () => {
    assert.deepEqual(await idsPost(h, 'Patient', 'given=hel&family=martin'), ['s-helen']);
    // the same field twice: both values apply (not only the last one, which alone would add s-heloise)
    assert.deepEqual(await idsPost(h, 'Patient', 'name=curie&name=marie'), ['s-curie']);
    assert.deepEqual(await idsPost(h, 'Patient', 'given=helen&given=hel'), ['s-helen', 's-helene']);
  });
});
