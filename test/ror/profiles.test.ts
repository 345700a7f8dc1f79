// The key 1..1 constraints of the ROR profiles are checked for resources that claim them in
// meta.profile (422, naming the element), and only for those.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.ts';
import { httpFor, type Http } from '../support/fhir-client.ts';
import { TRE } from './support.ts';

let server: TestServer;
let h: Http;
const SD = 'https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/';

const offre = (extra: object = {}) => ({
  resourceType: 'HealthcareService',
  meta: { profile: [`${SD}ror-healthcareservice`] },
  identifier: [{ system: 'urn:test', value: 'offre-1' }],
  type: [{ coding: [{ system: TRE('TRE_R227-ChampActivite'), code: '01' }] }],
  specialty: [{ coding: [{ system: TRE('TRE_R211-ActiviteOperationnelle'), code: '013' }] }],
  characteristic: [{ coding: [{ system: TRE('TRE_R213-ModePriseEnCharge'), code: '28' }] }],
  extension: [
    { url: `${SD}ror-meta-creation-date`, valueDateTime: '2025-01-01T00:00:00Z' },
    { url: `${SD}ror-healthcareservice-sensitive-unit`, valueBoolean: false },
    { url: `${SD}ror-healthcareservice-patient-type`, extension: [{ url: 'ageRange', valueRange: { low: { value: 18 }, high: { value: 99 } } }] },
  ],
  ...extra,
});

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
});
after(() => server?.close());

describe('ROR profile constraints', () => {
  it('accepts a complete offre and refuses one missing its activité opérationnelle or mode de prise en charge', async () => {
    assert.equal((await h.post('HealthcareService', offre())).status, 201);
    const res = await h.post('HealthcareService', offre({ specialty: [{ text: 'sans code' }], characteristic: undefined, identifier: undefined }));
    assert.equal(res.status, 422, res.text);
    const messages = res.body.issue.map((i: { diagnostics: string }) => i.diagnostics).join('\n');
    assert.match(messages, /identifier \(identifiantOffre\) is required exactly once/);
    assert.match(messages, /specialty\[operationalActivity\]/);
    assert.match(messages, /characteristic\[careMode\]/);
    assert.equal((await h.get('HealthcareService?_summary=count')).body.total, 1, 'nothing was written');
  });

  it('checks a Location claiming ror-location, and leaves other Locations alone', async () => {
    const res = await h.post('Location', { resourceType: 'Location', meta: { profile: [`${SD}ror-location`] }, name: 'Sans commune' });
    assert.equal(res.status, 422);
    assert.match(res.body.issue.map((i: { diagnostics: string }) => i.diagnostics).join('\n'), /ror-commune-cog/);
    assert.equal((await h.post('Location', { resourceType: 'Location', name: 'Lieu ordinaire' })).status, 201);
  });
});
