// The ROR SearchParameters of équipements, capacités d'habitation, tarifs and fermeture, over the
// demo ROR: each finds exactly the demo resources that carry the value, and nothing otherwise
// (équipements on the lieux 11/750100125-1, 11/920100047-1 and 11/940100027-2; habitations on
// 11/940100043-1; tarifs on the EG Paul-Brousse; a planned closure on the EG of Saint-Denis). The
// demo data pass the ROR profile checks; a Location with an incomplete équipement does not.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CapabilityStatement, Organization } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import { httpFor, type Http } from '../support/fhir-client.ts';
import { searchset } from '../support/search-fixtures.ts';
import { hits, TRE } from './support.ts';

let server: TestServer;
let h: Http;
const SD = 'https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/';
const UCUM = 'http://unitsofmeasure.org';
const PAUL_BROUSSE = ['Hôpital Paul-Brousse'];
const q = (system: string, code: string) => encodeURIComponent(`${TRE(system)}|${code}`);

before(async () => {
  server = await startTestServer({ demo: true });
  h = httpFor(server.fhirUrl);
});
after(() => server?.close());

/** Names of the Organizations a search matches. */
async function organizations(query: string): Promise<string[]> {
  const b = await searchset(h, `Organization?${query}`);
  return (b.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => (e.resource as Organization).name as string).sort();
}

describe('équipements spécifiques (Location)', () => {
  it('equipment-type finds the lieux with the équipement, by system|code or code', async () => {
    assert.deepEqual(await hits(h, `Location?equipment-type=${q('TRE_R212-Equipement', '089')}`), ['11/750100125-1']);
    assert.deepEqual(await hits(h, 'Location?equipment-type=093'), ['11/940100027-2']);
    assert.deepEqual(await hits(h, `Location?equipment-type=${q('TRE_R212-Equipement', '089')},${q('TRE_R212-Equipement', '189')}`), ['11/750100125-1', '11/920100047-1']);
    assert.deepEqual(await hits(h, `Location?equipment-type=${q('TRE_R212-Equipement', '054')}`), []);
    assert.deepEqual(await hits(h, `Location?equipment-type=${q('TRE_R340-TypeCaracteristiqueEquipement', '089')}`), [], 'another code system');
  });

  it('equipment-feature reads the limit nested in the équipement', async () => {
    assert.deepEqual(await hits(h, `Location?equipment-feature=${q('TRE_R340-TypeCaracteristiqueEquipement', '001')}`), ['11/750100125-1', '11/920100047-1']);
    assert.deepEqual(await hits(h, `Location?equipment-feature=${q('TRE_R340-TypeCaracteristiqueEquipement', '002')}`), []);
  });

  it('limit-value compares quantities with prefixes and UCUM units', async () => {
    assert.deepEqual(await hits(h, `Location?limit-value=gt300|${UCUM}|kg`), ['11/750100125-1']);
    assert.deepEqual(await hits(h, `Location?limit-value=le250|${UCUM}|kg`), ['11/920100047-1']);
    assert.deepEqual(await hits(h, `Location?limit-value=ge250|${UCUM}|kg`), ['11/750100125-1', '11/920100047-1']);
    assert.deepEqual(await hits(h, `Location?limit-value=350||kg`), ['11/750100125-1']);
    assert.deepEqual(await hits(h, `Location?limit-value=ge300000|${UCUM}|g`), ['11/750100125-1'], '300 000 g = 300 kg');
    assert.deepEqual(await hits(h, `Location?limit-value=gt350|${UCUM}|kg`), []);
    assert.deepEqual(await hits(h, `Location?limit-value=350|${UCUM}|cm`), [], 'another unit');
  });
});

describe("capacités d'habitation (Location)", () => {
  it('residential-type finds the lieux offering the type of habitation', async () => {
    assert.deepEqual(await hits(h, `Location?residential-type=${q('TRE_R242-TypeHabitation', '02')}`), ['11/940100043-1']);
    assert.deepEqual(await hits(h, `Location?residential-type=${q('TRE_R242-TypeHabitation', '03')}`), []);
  });

  it('residential-number is a number search', async () => {
    assert.deepEqual(await hits(h, 'Location?residential-number=12'), ['11/940100043-1']);
    assert.deepEqual(await hits(h, 'Location?residential-number=gt10'), ['11/940100043-1']);
    assert.deepEqual(await hits(h, 'Location?residential-number=5'), []);
    assert.deepEqual(await hits(h, 'Location?residential-number=ge20'), []);
  });
});

describe('tarifs and fermeture (Organization)', () => {
  it('price-type, price-unit, price-amount-currency', async () => {
    assert.deepEqual(await organizations(`price-type=${q('TRE_R246-TypeTarif', '02')}`), PAUL_BROUSSE);
    assert.deepEqual(await organizations(`price-type=${q('TRE_R246-TypeTarif', '06')}`), []);
    assert.deepEqual(await organizations(`price-unit=${q('TRE_R228-UnitePrix', '2')}`), PAUL_BROUSSE);
    assert.deepEqual(await organizations(`price-unit=${q('TRE_R228-UnitePrix', '1')}`), []);
    assert.deepEqual(await organizations('price-amount-currency=EUR'), PAUL_BROUSSE);
    assert.deepEqual(await organizations('price-amount-currency=USD'), []);
  });

  it('price-amount-value compares the amounts with prefixes', async () => {
    assert.deepEqual(await organizations('price-amount-value=65.4'), PAUL_BROUSSE);
    assert.deepEqual(await organizations('price-amount-value=lt25'), PAUL_BROUSSE, 'the tarif dépendance, 21.80 €');
    assert.deepEqual(await organizations('price-amount-value=gt100'), []);
    assert.deepEqual(await organizations('price-amount-value=30'), []);
  });

  it('price-residential-type, price-dependency-level, price-welcome-type', async () => {
    assert.deepEqual(await organizations(`price-residential-type=${q('TRE_R242-TypeHabitation', '02')}`), PAUL_BROUSSE);
    assert.deepEqual(await organizations(`price-residential-type=${q('TRE_R242-TypeHabitation', '01')}`), []);
    assert.deepEqual(await organizations(`price-dependency-level=${q('TRE_R237-GroupeTarifaireDependance', '01')}`), PAUL_BROUSSE);
    assert.deepEqual(await organizations(`price-dependency-level=${q('TRE_R237-GroupeTarifaireDependance', '03')}`), []);
    assert.deepEqual(await organizations(`price-welcome-type=${q('TRE_R240-TemporaliteAccueil', '02')}`), PAUL_BROUSSE);
    assert.deepEqual(await organizations(`price-welcome-type=${q('TRE_R240-TemporaliteAccueil', '01')}`), []);
  });

  it('price-special-price reads the condition tarifaire, not the niveau de dépendance', async () => {
    assert.deepEqual(await organizations(`price-special-price=${q('TRE_R250-ConditionTarifaire', '02')}`), PAUL_BROUSSE);
    assert.deepEqual(await organizations(`price-special-price=${q('TRE_R250-ConditionTarifaire', '03')}`), []);
    assert.deepEqual(await organizations(`price-special-price=${q('TRE_R237-GroupeTarifaireDependance', '01')}`), []);
  });

  it('price-validity-start-date is a date search on the start of validity', async () => {
    assert.deepEqual(await organizations('price-validity-start-date=2025-01-01'), PAUL_BROUSSE);
    assert.deepEqual(await organizations('price-validity-start-date=ge2024-06-01'), PAUL_BROUSSE);
    assert.deepEqual(await organizations('price-validity-start-date=lt2025-01-01'), []);
  });

  it('closing-type finds the EG with a closure of that type', async () => {
    assert.deepEqual(await organizations(`closing-type=${q('TRE_R286-TypeFermeture', 'PRE')}`), ['Centre hospitalier de Saint-Denis']);
    assert.deepEqual(await organizations(`closing-type=${q('TRE_R286-TypeFermeture', 'DEF')}`), []);
  });

  it('chains from the offres to the tarifs of their EG, as the ROR guide queries them', async () => {
    const b = await searchset(h, `HealthcareService?organization.price-type=${q('TRE_R246-TypeTarif', '02')}&organization.price-amount-value=le70`);
    assert.deepEqual((b.entry ?? []).map((e) => (e.resource as { name: string }).name).sort(), [
      'Hospitalisation complète de gériatrie, gérontologie',
      'Hospitalisation complète de soins palliatifs',
    ]);
  });

  it('lists the parameters in the CapabilityStatement', async () => {
    const cs = (await h.get('metadata')).body as CapabilityStatement;
    const names = (type: string) => cs.rest?.[0].resource?.find((r) => r.type === type)?.searchParam?.map((p) => p.name) ?? [];
    for (const name of ['equipment-type', 'equipment-feature', 'limit-value', 'residential-number', 'residential-type']) assert.ok(names('Location').includes(name), name);
    for (const name of ['closing-type', 'price-amount-currency', 'price-amount-value', 'price-dependency-level', 'price-residential-type', 'price-type', 'price-unit', 'price-validity-start-date', 'price-welcome-type', 'price-special-price']) {
      assert.ok(names('Organization').includes(name), name);
    }
  });
});

describe('ROR profile checks of the new extensions', () => {
  const lieu = (extension: object[]) => ({
    resourceType: 'Location',
    meta: { profile: [`${SD}ror-location`] },
    name: 'Plateau technique',
    extension: [
      { url: `${SD}ror-commune-cog`, valueCodeableConcept: { coding: [{ system: TRE('TRE_R13-Commune'), code: '75056' }] } },
      { url: `${SD}ror-meta-creation-date`, valueDateTime: '2025-01-06T09:00:00+01:00' },
      ...extension,
    ],
  });
  const limit = (parts: object[]) => ({ url: `${SD}ror-location-equipment-limit`, extension: parts });
  const feature = { url: 'equipmentFeature', valueCodeableConcept: { coding: [{ system: TRE('TRE_R340-TypeCaracteristiqueEquipement'), code: '001' }] } };
  const type = { url: 'equipmentType', valueCodeableConcept: { coding: [{ system: TRE('TRE_R212-Equipement'), code: '090' }] } };

  it('accepts a complete équipement and refuses one without type or limit value, writing nothing', async () => {
    const before = (await h.get('Location?_summary=count')).body.total;
    const ok = await h.post('Location', lieu([{ url: `${SD}ror-location-equipment`, extension: [type, limit([feature, { url: 'limitValue', valueQuantity: { value: 450, system: UCUM, code: 'kg' } }])] }]));
    assert.equal(ok.status, 201, ok.text);
    const bad = await h.post('Location', lieu([{ url: `${SD}ror-location-equipment`, extension: [limit([feature])] }]));
    assert.equal(bad.status, 422, bad.text);
    const messages = bad.body.issue.map((i: { diagnostics: string }) => i.diagnostics).join('\n');
    assert.match(messages, /equipmentType \(typeEquipement\) is required exactly once/);
    assert.match(messages, /limitValue \(valeurLimite\) is required exactly once/);
    const habitation = await h.post('Location', lieu([{ url: `${SD}ror-location-residential-capacity`, extension: [{ url: 'residentialNumber', valueInteger: -1 }] }]));
    assert.equal(habitation.status, 422);
    assert.match(habitation.body.issue.map((i: { diagnostics: string }) => i.diagnostics).join('\n'), /residentialType.*\n.*residentialNumber must be a non-negative/);
    assert.equal((await h.get('Location?_summary=count')).body.total, before + 1);
    assert.equal((await h.get(`Location?limit-value=gt400|${UCUM}|kg&_summary=count`)).body.total, 1, 'the new équipement is searchable');
  });
});
