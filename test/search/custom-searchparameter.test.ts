// Custom SearchParameters: a SearchParameter resource written through the API makes its code
// searchable for new writes; existing resources are indexed by POST [base]/$reindex or
// POST [base]/[type]/$reindex (which answer a Parameters). Token, string, date and reference
// custom parameters; chaining and _include through a custom reference parameter; a retired
// SearchParameter is not active; unknown before its creation (strict handling).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Parameters, SearchParameter } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertOutcome, httpFor, type Http } from '../support/fhir-client.ts';
import { expectIds, includedRefs, loadFixtures, pageIds, q, searchset, type Fixture } from '../support/search-fixtures.ts';

const EXT = 'https://socle.example.org/fhir/StructureDefinition';
const NATIONALITY = `${EXT}/patient-nationality`;
const REFERRER = `${EXT}/patient-referring-organization`;
const INSTALLED = `${EXT}/organization-installation-date`;

let server: TestServer;
let h: Http;

const STRICT = { prefer: 'handling=strict' };

function searchParameter(code: string, base: string[], type: SearchParameter['type'], expression: string, extra: Partial<SearchParameter> = {}): SearchParameter {
  return {
    resourceType: 'SearchParameter',
    url: `https://socle.example.org/fhir/SearchParameter/${code}`,
    name: code.replace(/-/g, '_'),
    status: 'active',
    description: `Custom search parameter ${code}`,
    code,
    base: base as SearchParameter['base'],
    type,
    expression,
    ...extra,
  };
}

const patient = (id: string, nationality?: string, referrer?: string, family = 'Test'): Fixture =>
  ({
    resourceType: 'Patient',
    id,
    name: [{ family }],
    ...(nationality || referrer
      ? {
          extension: [
            ...(nationality ? [{ url: NATIONALITY, valueCoding: { system: 'urn:iso:std:iso:3166', code: nationality } }] : []),
            ...(referrer ? [{ url: REFERRER, valueReference: { reference: `Organization/${referrer}` } }] : []),
          ],
        }
      : {}),
  }) as Fixture;

const org = (id: string, name: string, installed?: string): Fixture =>
  ({ resourceType: 'Organization', id, name, ...(installed ? { extension: [{ url: INSTALLED, valueDate: installed }] } : {}) }) as Fixture;

/** Written before the SearchParameters exist. */
const BEFORE: Fixture[] = [
  patient('cp-fr', 'FR', 'cs-necker', 'Lemoine'),
  patient('cp-be', 'BE', 'cs-clinique', 'Peeters'),
  patient('cp-none', undefined, undefined, 'Sans'),
  org('cs-necker', 'Hôpital Necker', '1778-01-01'),
  org('cs-clinique', 'Clinique du Parc', '1995-06-15'),
];

async function createSp(sp: SearchParameter): Promise<SearchParameter> {
  const res = await h.post('SearchParameter', sp);
  assert.equal(res.status, 201, `SearchParameter ${sp.code}: ${res.status} ${res.text.slice(0, 800)}`);
  return res.body as SearchParameter;
}

async function reindex(path: string): Promise<Parameters> {
  const res = await h.post(path, { resourceType: 'Parameters' });
  assert.equal(res.status, 200, `${path}: ${res.status} ${res.text.slice(0, 500)}`);
  assert.equal(res.body?.resourceType, 'Parameters', `${path} answers a Parameters: ${res.text.slice(0, 300)}`);
  return res.body as Parameters;
}

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
  await loadFixtures(h, BEFORE);
});
after(async () => {
  await server?.close();
});

describe('custom SearchParameter', () => {
  test('unknown before it is defined: 400 under handling=strict', async () => {
    const res = await h.get('Patient?nationality=FR', STRICT);
    assertOutcome(res, { status: 400 });
  });

  test('token parameter: new writes are searchable at once; existing ones after Patient/$reindex', async () => {
    await createSp(searchParameter('nationality', ['Patient'], 'token', `Patient.extension.where(url = '${NATIONALITY}').value`));
    const created = await h.post('Patient', patient('ignored', 'FR', undefined, 'Nouveau'));
    assert.equal(created.status, 201, created.text);
    const newId = created.body.id as string;

    // the parameter is known now (no 400 in strict mode) and the new resource is found
    const early = pageIds(await searchset(h, 'Patient?nationality=FR', STRICT));
    assert.ok(early.includes(newId), `the Patient written after the SearchParameter is found: ${early}`);

    const out = await reindex('Patient/$reindex');
    assert.ok(JSON.stringify(out).includes('Patient'), `the Parameters reports the Patient type: ${JSON.stringify(out)}`);
    await expectIds(h, 'Patient?nationality=FR', ['cp-fr', newId].sort());
    await expectIds(h, `Patient?nationality=${q('urn:iso:std:iso:3166|BE')}`, ['cp-be']);
    await expectIds(h, 'Patient?nationality=FR,BE', ['cp-be', 'cp-fr', newId].sort());
    await expectIds(h, 'Patient?nationality:missing=true', ['cp-none']);
    await expectIds(h, 'Patient?nationality:not=FR', ['cp-be', 'cp-none']);
  });

  test('date parameter on another type, reindexed by the system-level $reindex', async () => {
    await createSp(searchParameter('installed', ['Organization'], 'date', `Organization.extension.where(url = '${INSTALLED}').value`));
    await reindex('$reindex');
    await expectIds(h, 'Organization?installed=lt1900', ['cs-necker']);
    await expectIds(h, 'Organization?installed=1995-06', ['cs-clinique']);
    await expectIds(h, 'Organization?installed=ge1990-01-01', ['cs-clinique']);
  });

  test('reference parameter: search, chaining, _include and _has through it', async () => {
    await createSp(searchParameter('referrer', ['Patient'], 'reference', `Patient.extension.where(url = '${REFERRER}').value`, { target: ['Organization'] }));
    await reindex('Patient/$reindex');
    await expectIds(h, 'Patient?referrer=Organization/cs-necker', ['cp-fr']);
    await expectIds(h, 'Patient?referrer.name=clinique', ['cp-be']);
    await expectIds(h, 'Organization?_has:Patient:referrer:nationality=BE', ['cs-clinique']);
    const b = await searchset(h, 'Patient?_id=cp-fr&_include=Patient:referrer');
    assert.deepEqual(pageIds(b), ['cp-fr']);
    assert.deepEqual(includedRefs(b), ['Organization/cs-necker']);
  });

  test('string parameter with several bases', async () => {
    await createSp(
      searchParameter('display-name', ['Patient', 'Organization'], 'string', 'Patient.name.family | Organization.name'),
    );
    await reindex('$reindex');
    await expectIds(h, 'Patient?display-name=lem', ['cp-fr']);
    await expectIds(h, `Organization?display-name=${q('hôpital')}`, ['cs-necker']);
  });

  test("the FHIRPath extension('url') function form is indexed as well (or the SearchParameter is refused)", async () => {
    const sp = searchParameter('nationality-fn', ['Patient'], 'token', `Patient.extension('${NATIONALITY}').value`);
    const res = await h.post('SearchParameter', sp);
    if (res.status >= 400 && res.status < 500) {
      assertOutcome(res, { status: [400, 422] });
      return;
    }
    assert.equal(res.status, 201, res.text);
    await reindex('Patient/$reindex');
    const got = pageIds(await searchset(h, 'Patient?nationality-fn=BE'));
    assert.deepEqual(got, ['cp-be'], 'accepted, so it must find the Patient with that extension');
  });

  test('a retired SearchParameter is not active', async () => {
    await createSp(searchParameter('retired-code', ['Patient'], 'token', 'Patient.gender', { status: 'retired' }));
    const res = await h.get('Patient?retired-code=female', STRICT);
    assertOutcome(res, { status: 400 });
  });

  test('$reindex is refused with GET (it changes state)', async () => {
    const res = await h.get('Patient/$reindex');
    assert.equal(res.status, 405, res.text);
  });
});
