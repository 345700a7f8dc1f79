// The _filter parameter (R4 search_filter.html): each operator on the parameter types it applies to,
// and/or evaluated left to right, parentheses, not(), chained paths and [filter] on a reference, the
// spec's predefined system names, custom SearchParameters, the ROR's canonical extraction query, and
// bad expressions: a syntax error names its position and what was expected, an unknown parameter is a
// 400 whatever the handling, an operator that means nothing for a type is a 400 with the reason.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertOutcome, httpFor, type Http } from '../support/fhir-client.ts';
import { expectIds, idsPost, loadFixtures, q, type Fixture } from '../support/search-fixtures.ts';

let server: TestServer;
let h: Http;

const INS = 'urn:oid:1.2.250.1.213.1.4.8';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const SPECIALITES = 'https://example.org/fhir/CodeSystem/specialites';
const FEMININ = 'https://example.org/fhir/ValueSet/genre-feminin';

const patient = (id: string, family: string, given: string, extra: Record<string, unknown> = {}): Fixture =>
  ({ resourceType: 'Patient', id, name: [{ family, given: [given] }], ...extra }) as Fixture;
const glucose = (id: string, value: number, subject: string): Fixture =>
  ({
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: LOINC, code: '15074-8' }] },
    subject: { reference: subject },
    valueQuantity: { value, unit: 'mmol/L', system: UCUM, code: 'mmol/L' },
  }) as Fixture;
const avis = (id: string, code: string): Fixture =>
  ({ resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: SPECIALITES, code }] } }) as Fixture;

const FIXTURES: Fixture[] = [
  {
    resourceType: 'CodeSystem',
    id: 'f-specialites',
    url: SPECIALITES,
    status: 'active',
    content: 'complete',
    hierarchyMeaning: 'is-a',
    concept: [
      { code: 'MED', display: 'Médecine', concept: [{ code: 'CARD', display: 'Cardiologie', concept: [{ code: 'RYTH', display: 'Rythmologie' }] }] },
      { code: 'CHIR', display: 'Chirurgie' },
    ],
  } as Fixture,
  {
    resourceType: 'ValueSet',
    id: 'f-feminin',
    url: FEMININ,
    status: 'active',
    compose: { include: [{ system: 'http://hl7.org/fhir/administrative-gender', concept: [{ code: 'female' }] }] },
  } as Fixture,
  { resourceType: 'ValueSet', id: 'f-masculin', url: 'https://example.org/fhir/ValueSet/genre-masculin', status: 'active' } as Fixture,
  patient('f-pierre', 'Martin', 'Pierre', { gender: 'male', birthDate: '1985-03-15', identifier: [{ system: INS, value: '185037512345678' }], address: [{ city: 'Lyon' }] }),
  patient('f-peter', 'Dupont', 'Peter', { gender: 'male', birthDate: '2014-10-10', address: [{ city: 'Paris' }] }),
  patient('f-anne', 'Petitjean', 'Anne', { gender: 'female', birthDate: '2015-06-01' }),
  patient('f-lea', 'Bernard', 'Léa', { gender: 'female', birthDate: '1950' }),
  patient('f-sans', 'Sansdate', 'Camille'),
  glucose('f-glu-54', 5.4, 'Patient/f-pierre'),
  glucose('f-glu-70', 7.0, 'Patient/f-peter'),
  glucose('f-glu-anne', 6.1, 'Patient/f-anne'),
  avis('f-avis-med', 'MED'),
  avis('f-avis-card', 'CARD'),
  avis('f-avis-ryth', 'RYTH'),
  avis('f-avis-chir', 'CHIR'),
  { resourceType: 'RiskAssessment', id: 'f-risk-30', status: 'final', subject: { reference: 'Patient/f-pierre' }, prediction: [{ probabilityDecimal: 0.3 }] } as Fixture,
  { resourceType: 'RiskAssessment', id: 'f-risk-75', status: 'final', subject: { reference: 'Patient/f-peter' }, prediction: [{ probabilityDecimal: 0.75 }] } as Fixture,
];

const filter = (type: string, expression: string) => `${type}?_filter=${q(expression)}`;

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
  // A custom parameter, defined before the data so that they are indexed with it.
  const sp = await h.post('SearchParameter', {
    resourceType: 'SearchParameter',
    url: 'https://example.org/fhir/SearchParameter/patient-ville',
    name: 'ville',
    status: 'active',
    description: 'Ville de l’adresse',
    code: 'ville',
    base: ['Patient'],
    type: 'string',
    expression: 'Patient.address.city',
  });
  assert.equal(sp.status, 201, sp.text);
  await loadFixtures(h, FIXTURES);
});
after(async () => {
  await server?.close();
});

describe('_filter: string parameters', () => {
  test('eq is the whole value, case- and accent-insensitive; ne is "a value differs"', async () => {
    await expectIds(h, filter('Patient', 'family eq "martin"'), ['f-pierre']);
    await expectIds(h, filter('Patient', 'family eq "mart"'), []);
    await expectIds(h, filter('Patient', 'given eq "LEA"'), ['f-lea']);
    await expectIds(h, filter('Patient', 'family ne "martin"'), ['f-anne', 'f-lea', 'f-peter', 'f-sans']);
  });

  test('co, sw, ew (the spec example: name co "pet")', async () => {
    await expectIds(h, filter('Patient', 'name co "pet"'), ['f-anne', 'f-peter']);
    await expectIds(h, filter('Patient', 'family sw du'), ['f-peter']);
    await expectIds(h, filter('Patient', 'family ew "JEAN"'), ['f-anne']);
  });

  test('gt, lt, ge, le compare the normalised strings', async () => {
    await expectIds(h, filter('Patient', 'family gt "m"'), ['f-anne', 'f-pierre', 'f-sans']);
    await expectIds(h, filter('Patient', 'family le "dupont"'), ['f-lea', 'f-peter']);
    await expectIds(h, filter('Patient', 'family lt "dupont"'), ['f-lea']);
    await expectIds(h, filter('Patient', 'family ge "sansdate"'), ['f-sans']);
  });

  test('a custom SearchParameter is known to _filter', async () => {
    await expectIds(h, filter('Patient', 'ville eq lyon or ville eq "PARIS"'), ['f-peter', 'f-pierre']);
  });
});

describe('_filter: token parameters', () => {
  test('eq with a code, system|code, or a predefined system name; ne', async () => {
    await expectIds(h, filter('Patient', 'gender eq male'), ['f-peter', 'f-pierre']);
    await expectIds(h, filter('Patient', `identifier eq ${INS}|185037512345678`), ['f-pierre']);
    await expectIds(h, filter('Observation', 'code eq http://loinc.org|15074-8'), ['f-glu-54', 'f-glu-70', 'f-glu-anne']);
    await expectIds(h, filter('Observation', 'code eq loinc|15074-8'), ['f-glu-54', 'f-glu-70', 'f-glu-anne']);
    await expectIds(h, filter('Patient', 'gender ne male'), ['f-anne', 'f-lea']);
  });

  test('ss: the value subsumes the code (the code is it or below it); sb: the value is subsumed by it', async () => {
    await expectIds(h, filter('Observation', `code ss ${SPECIALITES}|CARD`), ['f-avis-card', 'f-avis-ryth']);
    await expectIds(h, filter('Observation', `code ss ${SPECIALITES}|MED`), ['f-avis-card', 'f-avis-med', 'f-avis-ryth']);
    await expectIds(h, filter('Observation', `code sb ${SPECIALITES}|CARD`), ['f-avis-card', 'f-avis-med']);
    await expectIds(h, filter('Observation', `code sb ${SPECIALITES}|CHIR`), ['f-avis-chir']);
  });

  test('in and ni: the codes of a ValueSet, stored or of the R4 specification', async () => {
    await expectIds(h, filter('Patient', `gender in ${FEMININ}`), ['f-anne', 'f-lea']);
    await expectIds(h, filter('Patient', `gender ni ${FEMININ}`), ['f-peter', 'f-pierre', 'f-sans']);
    await expectIds(h, filter('Patient', 'gender in http://hl7.org/fhir/ValueSet/administrative-gender'), ['f-anne', 'f-lea', 'f-peter', 'f-pierre']);
  });
});

describe('token modifiers :below, :above, :in and :not-in (the builders of ss, sb, in and ni)', () => {
  test('match as their _filter counterparts, with OR over commas', async () => {
    const code = (c: string) => encodeURIComponent(`${SPECIALITES}|${c}`);
    await expectIds(h, `Observation?code:below=${code('CARD')}`, ['f-avis-card', 'f-avis-ryth']);
    await expectIds(h, `Observation?code:above=${code('CARD')}`, ['f-avis-card', 'f-avis-med']);
    await expectIds(h, `Observation?code:below=${code('CARD')},${code('CHIR')}`, ['f-avis-card', 'f-avis-chir', 'f-avis-ryth']);
    await expectIds(h, `Patient?gender:in=${encodeURIComponent(FEMININ)}`, ['f-anne', 'f-lea']);
    await expectIds(h, `Patient?gender:not-in=${encodeURIComponent(FEMININ)}`, ['f-peter', 'f-pierre', 'f-sans']);
  });

  test('refuse a value that is not system|code or a ValueSet URL', async () => {
    assertOutcome(await h.get('Observation?code:below=CARD'), { status: 400, diagnostics: ':below' });
    assertOutcome(await h.get('Patient?gender:in=ValueSet/f-feminin'), { status: 400, diagnostics: ':in' });
  });
});

describe('_filter: date parameters', () => {
  test('eq, ne, gt, lt, ge, le with the precision of the value (the spec example)', async () => {
    await expectIds(h, filter('Patient', 'birthdate eq 1985-03-15'), ['f-pierre']);
    await expectIds(h, filter('Patient', 'birthdate eq 1985'), ['f-pierre']);
    await expectIds(h, filter('Patient', 'birthdate ne 1985-03-15'), ['f-anne', 'f-lea', 'f-peter']);
    await expectIds(h, filter('Patient', 'given eq "peter" and birthdate ge 2014-10-10'), ['f-peter']);
    await expectIds(h, filter('Patient', 'birthdate ge 2014-10-10'), ['f-anne', 'f-peter']);
    await expectIds(h, filter('Patient', 'birthdate gt 2014-10-10'), ['f-anne']);
    await expectIds(h, filter('Patient', 'birthdate lt 1986'), ['f-lea', 'f-pierre']);
    await expectIds(h, filter('Patient', 'birthdate le 1985-03-15'), ['f-lea', 'f-pierre']);
  });

  test('sa, eb, ap', async () => {
    await expectIds(h, filter('Patient', 'birthdate sa 2014-12-31'), ['f-anne']);
    await expectIds(h, filter('Patient', 'birthdate eb 1960'), ['f-lea']);
    await expectIds(h, filter('Patient', 'birthdate ap 2014-10-10'), ['f-anne', 'f-peter']);
  });

  test('po: the periods overlap; co: the indexed period contains the value', async () => {
    await expectIds(h, filter('Patient', 'birthdate eq 1950-06'), []);
    await expectIds(h, filter('Patient', 'birthdate po 1950-06'), ['f-lea']);
    await expectIds(h, filter('Patient', 'birthdate co 1950-06'), ['f-lea']);
    await expectIds(h, filter('Patient', 'birthdate po 1985'), ['f-pierre']);
    await expectIds(h, filter('Patient', 'birthdate co 1985'), []);
  });

  test('pr true / pr false: the parameter has a value or not', async () => {
    await expectIds(h, filter('Patient', 'birthdate pr false'), ['f-sans']);
    await expectIds(h, filter('Patient', 'birthdate pr true'), ['f-anne', 'f-lea', 'f-peter', 'f-pierre']);
  });
});

describe('_filter: number, quantity, uri, reference and composite parameters', () => {
  test('number: eq (with its precision), ne, gt, lt, ge, le, ap', async () => {
    await expectIds(h, filter('RiskAssessment', 'probability eq 0.3'), ['f-risk-30']);
    await expectIds(h, filter('RiskAssessment', 'probability ne 0.3'), ['f-risk-75']);
    await expectIds(h, filter('RiskAssessment', 'probability gt 0.5'), ['f-risk-75']);
    await expectIds(h, filter('RiskAssessment', 'probability lt 0.5'), ['f-risk-30']);
    await expectIds(h, filter('RiskAssessment', 'probability ge 0.75 or probability le 0.3'), ['f-risk-30', 'f-risk-75']);
    await expectIds(h, filter('RiskAssessment', 'probability ap 0.7'), ['f-risk-75']);
  });

  test('quantity: value|system|code, with "ucum" for its URL', async () => {
    await expectIds(h, filter('Observation', `value-quantity gt 6|${UCUM}|mmol/L`), ['f-glu-70', 'f-glu-anne']);
    await expectIds(h, filter('Observation', 'value-quantity lt 6|ucum|mmol/L'), ['f-glu-54']);
    await expectIds(h, filter('Observation', 'value-quantity eq 5.4'), ['f-glu-54']);
    await expectIds(h, filter('Observation', 'value-quantity ne 5.4'), ['f-glu-70', 'f-glu-anne']);
  });

  test('uri: eq, sw, co, ew', async () => {
    await expectIds(h, filter('ValueSet', `url eq ${FEMININ}`), ['f-feminin']);
    await expectIds(h, filter('ValueSet', 'url sw https://example.org/fhir/ValueSet/'), ['f-feminin', 'f-masculin']);
    await expectIds(h, filter('ValueSet', 'url co masculin'), ['f-masculin']);
    await expectIds(h, filter('ValueSet', 'url ew -feminin'), ['f-feminin']);
  });

  test('reference: re with a relative or absolute reference; pr', async () => {
    await expectIds(h, filter('Observation', 'subject re Patient/f-pierre'), ['f-glu-54']);
    await expectIds(h, filter('Observation', `patient re ${server.fhirUrl}/Patient/f-peter`), ['f-glu-70']);
    await expectIds(h, filter('Observation', 'subject pr false and code eq loinc|15074-8'), []);
  });

  test('composite: eq with both components', async () => {
    await expectIds(h, filter('Observation', 'code-value-quantity eq http://loinc.org|15074-8$gt6.5'), ['f-glu-70']);
  });
});

describe('_filter: logic', () => {
  test('and and or are evaluated left to right, with no precedence', async () => {
    // ((female or male) and born before 2000)
    await expectIds(h, filter('Patient', 'gender eq female or gender eq male and birthdate lt 2000'), ['f-lea', 'f-pierre']);
    await expectIds(h, filter('Patient', 'gender eq female or (gender eq male and birthdate lt 2000)'), ['f-anne', 'f-lea', 'f-pierre']);
    await expectIds(h, filter('Patient', 'birthdate lt 2000 and gender eq male or family eq dupont'), ['f-peter', 'f-pierre']);
  });

  test('not(...) negates a filter, including the resources without the value', async () => {
    await expectIds(h, filter('Patient', 'not(gender eq male)'), ['f-anne', 'f-lea', 'f-sans']);
    await expectIds(h, filter('Patient', 'not (family eq martin) and gender eq male'), ['f-peter']);
    await expectIds(h, filter('Patient', 'not(not(gender eq female))'), ['f-anne', 'f-lea']);
  });

  test('several _filter parameters are AND-ed, and combine with ordinary parameters', async () => {
    await expectIds(h, `${filter('Patient', 'gender eq male')}&_filter=${q('birthdate lt 2000')}`, ['f-pierre']);
    await expectIds(h, `${filter('Patient', 'birthdate pr true')}&gender=female`, ['f-anne', 'f-lea']);
  });

  test('_id, _lastUpdated and _content are known to _filter', async () => {
    await expectIds(h, filter('Patient', '_id eq f-anne or _id eq f-lea'), ['f-anne', 'f-lea']);
    await expectIds(h, filter('Patient', '_lastUpdated ge 2020-01-01 and _id ne f-sans'), ['f-anne', 'f-lea', 'f-peter', 'f-pierre']);
    await expectIds(h, filter('Patient', '_content co "petitjean"'), ['f-anne']);
  });

  test('POST _search takes _filter in its form body', async () => {
    const ids = await idsPost(h, 'Patient', `_filter=${q('family eq "martin" or family eq dupont')}`);
    assert.deepEqual(ids, ['f-peter', 'f-pierre']);
  });

  test('values in JSON strings keep ), ] and \\" escapes', async () => {
    await expectIds(h, filter('Patient', 'family eq "mar)tin" or family eq "du\\"pont"'), []);
    await expectIds(h, filter('Patient', '(family eq "martin")'), ['f-pierre']);
  });
});

describe('_filter: chained paths', () => {
  test('a chained name (the spec example subject.name co "pet")', async () => {
    await expectIds(h, filter('Observation', 'subject.name co "pet"'), ['f-glu-70', 'f-glu-anne']);
    await expectIds(h, filter('RiskAssessment', 'subject.birthdate lt 2000'), ['f-risk-30']);
  });

  test('[filter] restricts the resources a reference points to', async () => {
    await expectIds(h, filter('Observation', 'subject[gender eq female].name co "pet"'), ['f-glu-anne']);
    await expectIds(h, filter('Observation', 'subject[gender eq male and birthdate lt 2000].family eq dupont'), []);
    await expectIds(h, filter('Observation', 'subject[gender eq male and birthdate lt 2000].family eq martin'), ['f-glu-54']);
  });
});

describe('_filter: bad expressions', () => {
  const syntax: [string, string][] = [
    ['family eq', 'expected a value at character 10 (end of the expression)'],
    ['family xx "a"', 'expected an operator'],
    ['family xx "a"', 'at character 8, found "xx"'],
    ['(family eq a', 'expected ")" at character 13'],
    ['family eq "martin', 'closing "'],
    ['family eq a andd gender eq male', 'expected "and", "or" or the end of the expression at character 13, found "andd"'],
    ['not gender eq male', 'expected ( after not at character 5'],
    ['3family eq a', 'expected a search parameter name at character 1'],
    ['subject[gender eq male] eq a', 'expected "." and a parameter after ] at character 24'],
  ];
  for (const [expression, diagnostics] of syntax) {
    test(`syntax: ${expression} → 400 "${diagnostics}"`, async () => {
      assertOutcome(await h.get(filter('Patient', expression)), { status: 400, diagnostics });
    });
  }

  test('an unknown parameter is a 400 whatever the handling, with its place', async () => {
    for (const prefer of [undefined, 'handling=lenient', 'handling=strict']) {
      const res = await h.get(filter('Patient', 'gender eq male and couleur eq bleu'), prefer ? { prefer } : undefined);
      assertOutcome(res, { status: 400, diagnostics: 'unknown search parameter "couleur" for patient' });
      assertOutcome(res, { status: 400, diagnostics: 'at character 20' });
    }
    assertOutcome(await h.get(filter('Observation', 'subject.couleur eq bleu')), { status: 400, diagnostics: 'couleur' });
  });

  test('an operator that means nothing for the parameter type is a 400 saying which apply', async () => {
    assertOutcome(await h.get(filter('Patient', 'family re Patient/f-pierre')), { status: 400, diagnostics: 'the operator re does not apply to the string parameter "family"' });
    assertOutcome(await h.get(filter('Patient', 'birthdate sw 2014')), { status: 400, diagnostics: 'date parameter' });
    assertOutcome(await h.get(filter('Patient', 'gender co ma')), { status: 400, diagnostics: 'it takes eq, ne, ss, sb, in, ni, pr' });
    assertOutcome(await h.get(filter('Observation', 'subject eq Patient/f-pierre')), { status: 400, diagnostics: 'it takes re, pr' });
    assertOutcome(await h.get(filter('Patient', 'family.name eq x')), { status: 400, diagnostics: 'only a reference parameter' });
  });

  test('bad values are 400s with the place of the test', async () => {
    assertOutcome(await h.get(filter('Patient', 'gender eq male or birthdate ge 2014-13-45')), { status: 400, diagnostics: 'at character 19' });
    assertOutcome(await h.get(filter('Patient', 'birthdate pr yes')), { status: 400, diagnostics: 'pr expects true or false' });
    assertOutcome(await h.get(filter('Patient', 'gender in https://example.org/fhir/ValueSet/inconnu')), { status: 400, diagnostics: 'unknown here' });
    assertOutcome(await h.get(filter('Patient', 'gender in ValueSet/f-feminin')), { status: 400, diagnostics: 'canonical url' });
    assertOutcome(await h.get(filter('Observation', 'code ss CARD')), { status: 400, diagnostics: 'ss expects system|code' });
    assertOutcome(await h.get('Patient?_filter:exact=gender%20eq%20male'), { status: 400 });
  });
});

describe('_filter: the ROR extraction query', () => {
  // HealthcareService?_filter=(_lastUpdated ge X or organization._lastUpdated ge X): the services changed
  // since X, and those whose organisation changed since X.
  const pause = () => new Promise((resolve) => setTimeout(resolve, 25));
  const org = (id: string, name: string) => ({ resourceType: 'Organization', id, name });
  const service = (id: string, organization: string) => ({ resourceType: 'HealthcareService', id, name: `Service ${id}`, providedBy: { reference: `Organization/${organization}` } });

  test('services changed since the date, or whose organisation changed since', async () => {
    await loadFixtures(h, [org('ror-a', 'Centre hospitalier A'), org('ror-b', 'Clinique B'), service('ror-hs-1', 'ror-a'), service('ror-hs-2', 'ror-b')] as Fixture[]);
    await pause();
    const since = new Date().toISOString();
    await pause();
    assert.equal((await h.put('Organization/ror-b', org('ror-b', 'Clinique B (nouveau nom)'))).status, 200);
    assert.equal((await h.put('HealthcareService/ror-hs-3', service('ror-hs-3', 'ror-a'))).status, 201);

    const query = `(_lastUpdated ge ${since} or organization._lastUpdated ge ${since})`;
    await expectIds(h, filter('HealthcareService', query), ['ror-hs-2', 'ror-hs-3']);
    await expectIds(h, filter('HealthcareService', '(_lastUpdated ge 2022-11-06T15:00 or organization._lastUpdated ge 2022-11-06T15:00)'), ['ror-hs-1', 'ror-hs-2', 'ror-hs-3']);
    await expectIds(h, filter('HealthcareService', '(_lastUpdated ge 2999-01-01T00:00 or organization._lastUpdated ge 2999-01-01T00:00)'), []);
  });
});
