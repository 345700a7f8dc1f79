// ValueSet/$expand (text filter, paging, compose filters, imports, exclusions, versions, size limit)
// and ConceptMap/$translate over HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ValueSet } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertOutcome, httpFor, type Http } from '../support/fhir-client.ts';
import { anatomy, COMMUNES, G15, J107, J17, q, read } from './helpers.ts';

let server: TestServer;
let h: Http;
const ANATOMY = `urn:socle:test:anatomy:${randomUUID()}`;
const MAP = `urn:socle:test:map:${randomUUID()}`;
const CATEGORIES = `urn:socle:test:categories:${randomUUID()}`;

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
  for (const version of ['1', '2']) {
    const res = await h.post('CodeSystem', anatomy(ANATOMY, version, version === '2' ? [{ code: 'rein', display: 'Rein', property: [{ code: 'organe', valueString: 'oui' }] }] : []));
    assert.equal(res.status, 201, res.text);
  }
});
after(async () => {
  await server?.close();
});

const expandInline = async (compose: ValueSet['compose'], params: Record<string, string | number | boolean> = {}) => {
  const parameter = [{ name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'active', compose } }, ...Object.entries(params).map(([name, v]) => ({ name, valueString: String(v) }))];
  const res = await h.post('ValueSet/$expand', { resourceType: 'Parameters', parameter });
  assert.equal(res.status, 200, res.text);
  return res.body as ValueSet;
};
const codes = (vs: ValueSet) => (vs.expansion?.contains ?? []).map((c) => c.code);

describe('ValueSet/$expand', () => {
  test('a text filter ignores case and accents and matches word starts', async () => {
    const res = await h.get(`ValueSet/$expand?${q({ url: J107, filter: 'CHIR orale' })}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(codes(res.body).sort(), ['SCD02', 'SM56']);
    const accents = await h.get(`ValueSet/$expand?${q({ url: J107, filter: 'hematologie option' })}`);
    assert.ok(codes(accents.body).includes('SM22'), JSON.stringify(codes(accents.body)));
    assert.equal((await h.get(`ValueSet/$expand?${q({ url: J107, filter: 'ematologie' })}`)).body.expansion.total, 0, 'word starts only');
  });

  test('paging with offset and count, total, and the code system versions used', async () => {
    const res = await h.get(`ValueSet/$expand?${q({ url: J17, offset: 10, count: 5 })}`);
    const { expansion } = res.body as ValueSet;
    assert.equal(expansion?.total, 554);
    assert.equal(expansion?.offset, 10);
    assert.deepEqual(codes(res.body), ['015', '016', '017', '018', '022']);
    assert.ok(expansion?.parameter?.some((p) => p.name === 'version' && p.valueUri?.endsWith('TRE-R211-ActiviteOperationnelle')), JSON.stringify(expansion?.parameter));
    const byId = await h.get('ValueSet/JDV-J106-EnsembleProfession-RASS/$expand?count=2');
    assert.deepEqual(byId.body.expansion.contains[0], { system: G15, version: '20250328120000', code: '10', display: 'Médecin' });
  });

  test('compose filters: is-a, descendent-of, is-not-a, generalizes, regex, in, not-in, =, exists', async () => {
    const inc = (property: string, op: string, value: string) => ({ include: [{ system: ANATOMY, version: '2', filter: [{ property, op, value }] }] }) as ValueSet['compose'];
    const sorted = async (c: ValueSet['compose']) => codes(await expandInline(c)).sort();
    assert.deepEqual(await sorted(inc('concept', 'is-a', 'coeur')), ['coeur', 'ventricule-droit', 'ventricule-gauche']);
    assert.deepEqual(await sorted(inc('concept', 'descendent-of', 'coeur')), ['ventricule-droit', 'ventricule-gauche']);
    assert.deepEqual(await sorted(inc('concept', 'is-not-a', 'coeur')), ['corps', 'poumon', 'rate-accessoire', 'rein']);
    assert.deepEqual(await sorted(inc('concept', 'generalizes', 'ventricule-droit')), ['coeur', 'corps', 'ventricule-droit']);
    assert.deepEqual(await sorted(inc('code', 'regex', 'ventricule-.*')), ['ventricule-droit', 'ventricule-gauche']);
    assert.deepEqual(await sorted(inc('concept', 'in', 'poumon, rein')), ['poumon', 'rein']);
    assert.equal((await sorted(inc('concept', 'not-in', 'poumon,rein'))).length, 5);
    assert.deepEqual(await sorted(inc('organe', '=', 'oui')), ['coeur', 'poumon', 'rein']);
    assert.deepEqual(await sorted(inc('organe', 'exists', 'false')), ['corps', 'rate-accessoire', 'ventricule-droit']);
    const bad = await h.post('ValueSet/$expand', { resourceType: 'Parameters', parameter: [{ name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'active', compose: inc('concept', 'child-of', 'coeur') } }] });
    assertOutcome(bad, { status: 422, diagnostics: 'op child-of is not supported' });
  });

  test('exclusions, imported value sets, inactive codes and activeOnly', async () => {
    const compose = { include: [{ system: ANATOMY }], exclude: [{ system: ANATOMY, concept: [{ code: 'corps' }] }] };
    const all = await expandInline(compose);
    assert.deepEqual(codes(all), ['coeur', 'ventricule-gauche', 'ventricule-droit', 'poumon', 'rate-accessoire', 'rein']);
    assert.equal(all.expansion?.contains?.find((c) => c.code === 'rate-accessoire')?.inactive, true);
    assert.ok(!codes(await expandInline(compose, { activeOnly: true })).includes('rate-accessoire'));
    const stored = await h.post('ValueSet', { resourceType: 'ValueSet', url: `${ANATOMY}/vs/coeur`, status: 'active', compose: { include: [{ system: ANATOMY, filter: [{ property: 'concept', op: 'is-a', value: 'coeur' }] }] } });
    assert.equal(stored.status, 201, stored.text);
    const imported = await expandInline({ include: [{ valueSet: [`${ANATOMY}/vs/coeur`], system: ANATOMY, filter: [{ property: 'organe', op: 'exists', value: 'true' }] }] });
    assert.deepEqual(codes(imported), ['coeur', 'ventricule-gauche'], 'intersection of the import and the filter');
    const unknown = await h.post('ValueSet/$expand', { resourceType: 'Parameters', parameter: [{ name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'active', compose: { include: [{ valueSet: ['urn:socle:missing'] }] } } }] });
    assertOutcome(unknown, { status: 422, diagnostics: 'imports ValueSet urn:socle:missing' });
  });

  test('versioned expansions: include.version, system-version, and the version parameter of the answer', async () => {
    const v1 = await expandInline({ include: [{ system: ANATOMY, version: '1' }] });
    assert.ok(!codes(v1).includes('rein'));
    assert.ok(v1.expansion?.parameter?.some((p) => p.name === 'version' && p.valueUri === `${ANATOMY}|1`));
    const latest = await expandInline({ include: [{ system: ANATOMY }] });
    assert.ok(codes(latest).includes('rein'), 'the newest version by default');
    const pinned = await expandInline({ include: [{ system: ANATOMY }] }, { 'system-version': `${ANATOMY}|1` });
    assert.ok(!codes(pinned).includes('rein'));
    const missing = await h.post('ValueSet/$expand', { resourceType: 'Parameters', parameter: [{ name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'active', compose: { include: [{ system: ANATOMY, version: '7' }] } } }] });
    assertOutcome(missing, { status: 422, diagnostics: 'version 7, which this server does not have (versions known: 2, 1)' });
  });

  test('the INSEE communes: too many to expand at once, paged and filtered instead', async () => {
    const vs = { resourceType: 'ValueSet', url: `urn:socle:test:communes:${randomUUID()}`, status: 'active', compose: { include: [{ system: COMMUNES }] } };
    assert.equal((await h.post('ValueSet', vs)).status, 201);
    assertOutcome(await h.get(`ValueSet/$expand?${q({ url: vs.url })}`), { status: 422, code: 'too-costly', diagnostics: 'has 34875 codes' });
    const unfiltered = await h.get(`ValueSet/$expand?${q({ url: vs.url, count: 2, offset: 100 })}`);
    assert.equal(unfiltered.status, 200, unfiltered.text);
    assert.equal(unfiltered.body.expansion.total, 34875);
    assert.equal(unfiltered.body.expansion.contains.length, 2);
    const page = await h.get(`ValueSet/$expand?${q({ url: vs.url, filter: 'paris', count: 3 })}`);
    assert.equal(page.status, 200, page.text);
    assert.deepEqual(page.body.expansion.contains[0], { system: COMMUNES, version: '2026', code: '75056', display: 'Paris' });
    const byPostalCode = await h.post('ValueSet/$expand', {
      resourceType: 'Parameters',
      parameter: [{ name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'active', compose: { include: [{ system: COMMUNES, filter: [{ property: 'codePostal', op: '=', value: '29890' }] }] } } }],
    });
    assert.ok(codes(byPostalCode.body).length >= 1, byPostalCode.text);
    const lookup = await h.get(`CodeSystem/$lookup?${q({ system: COMMUNES, code: '2A004' })}`);
    assert.equal(read(lookup.body).display, 'Ajaccio');
  });

  test('an unknown value set is 404; a whole code system this server does not know is 422', async () => {
    assertOutcome(await h.get(`ValueSet/$expand?${q({ url: 'urn:socle:no-such-set' })}`), { status: 404, diagnostics: 'not known' });
    const unknown = await h.post('ValueSet/$expand', { resourceType: 'Parameters', parameter: [{ name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'active', compose: { include: [{ system: 'urn:socle:nothing' }] } } }] });
    assertOutcome(unknown, { status: 422, diagnostics: 'CodeSystem urn:socle:nothing, which this server does not know' });
  });
});

describe('ConceptMap/$translate', () => {
  before(async () => {
    const map = {
      resourceType: 'ConceptMap',
      url: MAP,
      version: '1',
      status: 'active',
      group: [
        {
          source: G15,
          target: CATEGORIES,
          element: [
            { code: '10', target: [{ code: 'MED', display: 'Profession médicale', equivalence: 'wider' }] },
            { code: '21', target: [{ code: 'PHARMA', display: 'Pharmacie', equivalence: 'equivalent' }] },
            { code: '93', target: [{ equivalence: 'unmatched' }] },
          ],
          unmapped: { mode: 'fixed', code: 'AUTRE', display: 'Autre profession' },
        },
      ],
    };
    const res = await h.post('ConceptMap', map);
    assert.equal(res.status, 201, res.text);
  });

  const translate = async (params: Record<string, string | boolean>) => {
    const res = await h.get(`ConceptMap/$translate?${q(params)}`);
    assert.equal(res.status, 200, res.text);
    return res.body;
  };
  const match = (p: unknown) => read(p as never).all('match').map((m) => Object.fromEntries((m.part ?? []).map((x) => [x.name, x.valueCode ?? x.valueCoding?.code ?? x.valueUri])));

  test('a mapped code, by the map url and by its source system', async () => {
    const queries: Record<string, string>[] = [{ url: MAP, system: G15, code: '10' }, { system: G15, code: '10', targetsystem: CATEGORIES }];
    for (const params of queries) {
      const p = await translate(params);
      assert.equal(read(p).result, true);
      assert.deepEqual(match(p), [{ equivalence: 'wider', concept: 'MED', source: `${MAP}|1` }]);
    }
  });

  test('reverse, unmapped (fixed) and unmatched codes', async () => {
    assert.deepEqual(match(await translate({ url: MAP, system: CATEGORIES, code: 'PHARMA', reverse: true })), [{ equivalence: 'equivalent', concept: '21', source: `${MAP}|1` }]);
    assert.deepEqual(match(await translate({ url: MAP, system: G15, code: '60' })), [{ equivalence: 'equivalent', concept: 'AUTRE', source: `${MAP}|1` }]);
    const unmatched = read(await translate({ url: MAP, system: G15, code: '93' }));
    assert.equal(unmatched.result, false);
    assert.match(String(unmatched.message), /No translation for .*\|93/);
  });

  test('an unknown map or map version is 404', async () => {
    assertOutcome(await h.get(`ConceptMap/$translate?${q({ url: 'urn:socle:no-map', system: G15, code: '10' })}`), { status: 404, diagnostics: 'not known' });
    assertOutcome(await h.get(`ConceptMap/$translate?${q({ url: MAP, conceptMapVersion: '2', system: G15, code: '10' })}`), { status: 404, diagnostics: 'no version 2' });
  });
});
