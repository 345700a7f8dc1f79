// The ROR access policy (« Politique d'accès aux données », ME V3): each application reads the ROR with its
// access profile (scope ror-profil-N). On the demo ROR, whose EG and offres carry telecoms at each level
// (TRE_R283 1 libre, 2 restreint, 3 très restreint): profile 0 (and a client without a profile) sees the
// free-access ones, 2 all but the very restricted, 1 everything, 4 no contact at all, 5 no capacities; an
// administrator everything. The same holds for searches, _include and bulk exports; Annuaire structures,
// which claim no ROR profile, are never filtered.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, HealthcareService, Location, Organization, Resource } from '@medplum/fhirtypes';
import { startAuthServer, type AuthTestServer } from '../auth/support.ts';
import { sleep } from '../support/fhir-client.ts';

let server: AuthTestServer;
const jetons: Record<string, string> = {};
const FINESS = 'urn:oid:1.2.250.1.71.4.2.2';
const MONDOR = `${FINESS}|1940100027`;

async function lire<T = Resource>(qui: string, chemin: string): Promise<T> {
  const res = await fetch(`${server.fhirUrl}/${chemin}`, { headers: { authorization: `Bearer ${jetons[qui]}` } });
  const text = await res.text();
  assert.equal(res.status, 200, `${qui} GET ${chemin}: ${text}`);
  return JSON.parse(text) as T;
}

/** The telecom values of an EG (its contacts), as `qui` reads them by search. */
async function telecomsEg(qui: string): Promise<string[]> {
  const b = await lire<Bundle<Organization>>(qui, `Organization?identifier=${MONDOR}`);
  return (b.entry?.[0]?.resource?.contact ?? []).flatMap((c) => c.telecom ?? []).map((t) => t.value as string);
}

before(async () => {
  server = await startAuthServer({ authRequired: true, demo: true });
  jetons.admin = await server.adminToken();
  jetons.sansProfil = await server.clientToken('ror-sans-profil', ['system/*.read']);
  for (const n of [0, 1, 2, 4, 5]) jetons[`p${n}`] = await server.clientToken(`ror-profil-${n}`, ['system/*.read', `ror-profil-${n}`]);
});
after(() => server?.close());

describe('ROR access profiles', () => {
  it('show each profile the EG contacts of its confidentiality levels', async () => {
    const tous = await telecomsEg('admin');
    assert.equal(tous.length, 3, 'switchboard, duty line, crisis cell');
    const [libre, restreint, tresRestreint] = tous;
    assert.deepEqual(await telecomsEg('p1'), [libre, restreint, tresRestreint]);
    assert.deepEqual(await telecomsEg('p2'), [libre, restreint]);
    assert.deepEqual(await telecomsEg('p5'), [libre, restreint]);
    assert.deepEqual(await telecomsEg('p0'), [libre]);
    assert.deepEqual(await telecomsEg('sansProfil'), [libre], 'no profile: free-access data only');
    assert.deepEqual(await telecomsEg('p4'), [], 'profile 4: no contact data');
  });

  it('filter a read, an offre’s own telecoms and the resources brought by _include', async () => {
    const b = await lire<Bundle>('admin', `HealthcareService?organization.identifier=${MONDOR}&_include=HealthcareService:organization`);
    const offre = b.entry!.find((e) => e.resource!.resourceType === 'HealthcareService')!.resource as HealthcareService;
    assert.equal(offre.telecom?.length, 2);
    const lue = await lire<HealthcareService>('p0', `HealthcareService/${offre.id}`);
    assert.deepEqual(lue.telecom?.map((t) => t.value), [offre.telecom![0]!.value]);
    const inclus = await lire<Bundle>('p0', `HealthcareService?organization.identifier=${MONDOR}&_include=HealthcareService:organization`);
    const eg = inclus.entry!.find((e) => e.resource!.resourceType === 'Organization')!.resource as Organization;
    assert.equal(eg.contact?.[0]?.telecom?.length, 1, 'the included EG is filtered too');
    const p4 = await lire<HealthcareService>('p4', `HealthcareService/${offre.id}`);
    assert.equal(p4.telecom, undefined);
    assert.equal(p4.name, offre.name, 'the rest of the offre is served');
  });

  it('leave capacities out for profile 5 only', async () => {
    const capacites = (l: Location) => (l.extension ?? []).filter((e) => e.url.endsWith('/ror-location-supported-capacity')).length;
    const lieu = (await lire<Bundle<Location>>('admin', `Location?organization.identifier=${MONDOR}`)).entry![0]!.resource!;
    assert.ok(capacites(lieu) > 0);
    assert.equal(capacites(await lire<Location>('p2', `Location/${lieu.id}`)), capacites(lieu));
    const p5 = await lire<Location>('p5', `Location/${lieu.id}`);
    assert.equal(capacites(p5), 0);
    assert.ok(p5.extension?.some((e) => e.url.endsWith('/ror-commune-cog')), 'the other extensions stay');
  });

  it('apply the requester’s profile to a bulk export', async () => {
    const kickOff = await fetch(`${server.fhirUrl}/Organization/$export?_type=Organization`, { headers: { authorization: `Bearer ${jetons.p0}`, prefer: 'respond-async' } });
    assert.equal(kickOff.status, 202, await kickOff.text());
    const statut = kickOff.headers.get('content-location')!;
    for (let i = 0; i < 200; i++) {
      const res = await fetch(statut, { headers: { authorization: `Bearer ${jetons.p0}` } });
      if (res.status === 202) {
        await sleep(50);
        continue;
      }
      assert.equal(res.status, 200);
      const manifest = (await res.json()) as { output: { url: string }[] };
      const lignes = (await Promise.all(manifest.output.map(async (o) => (await fetch(o.url, { headers: { authorization: `Bearer ${jetons.p0}` } })).text()))).join('\n');
      const orgs = lignes.trim().split('\n').map((l) => JSON.parse(l) as Organization);
      const mondor = orgs.find((o) => o.identifier?.some((id) => `${id.system}|${id.value}` === MONDOR))!;
      assert.equal(mondor.contact?.[0]?.telecom?.length, 1, 'only the free-access telecom in the file');
      return;
    }
    assert.fail('the export did not complete');
  });

  it('leave resources without a ROR profile alone (the Annuaire’s structures)', async () => {
    const org = await server.platform.fhir.create({
      resourceType: 'Organization',
      name: 'Cabinet du Dr Martin',
      telecom: [{ system: 'phone', value: '01 02 03 04 05' }],
    });
    const lue = await lire<Organization>('p0', `Organization/${org.stored.id}`);
    assert.deepEqual(lue.telecom, [{ system: 'phone', value: '01 02 03 04 05' }]);
  });
});
