// The care-offer index behind the regulators' search, seen through the search API: offers follow
// the writes of the resources they come from (role, practitioner, structure, place, service), a
// failed write leaves them as they were, an RPPS import makes its practitioners searchable, a
// refilled index gives the same results, and the ranking in SQL is the ranking the portal has always
// applied (participants, distance, the search's random order), checked on the demo data set.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Bundle, HealthcareService, Location, Organization, Practitioner, PractitionerRole, Resource } from '@medplum/fhirtypes';
import { demoEntries } from '../../src/demo/seed.ts';
import { fichiersRpps, importerRpps } from '../../src/referentiels/annuaire/import-rpps.ts';
import { remplirOffres } from '../../src/services/sas/recherche/index-offres.ts';
import { offreDuRole, offreDuService, RPPS_SYSTEM, type Offre, type Sources } from '../../src/services/sas/recherche/offres.ts';
import { distanceKm, referentiel } from '../../src/services/sas/recherche/referentiel.ts';
import type { Browser } from '../auth/support.ts';
import { adminPut, startSasServer, type SasTestServer } from './portail-support.ts';

const R38 = 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale';
const fixtures = fileURLToPath(new URL('../fixtures/annuaire/', import.meta.url));

let server: SasTestServer;
let regulateur: Browser;

before(async () => {
  server = await startSasServer();
  regulateur = await server.connecter();
});
after(() => server?.close());

interface OffreApi extends Offre {
  distanceKm?: number;
  participe: boolean;
  commune?: any;
}
async function chercher(q: string): Promise<{ total: number; offres: OffreApi[]; lieu: { lat: number; lon: number }; rayonKm: number }> {
  const { status, json } = await server.api(regulateur, `/sas/api/offres?${q}`);
  assert.equal(status, 200, JSON.stringify(json));
  return json;
}

async function fhir<T = Resource>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const r = await fetch(path ? `${server.fhirUrl}/${path}` : server.fhirUrl, { method, headers: { 'content-type': 'application/fhir+json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, json: r.status === 204 ? (undefined as T) : ((await r.json()) as T) };
}
async function ecrire<T extends Resource>(r: T): Promise<T> {
  const { status, json } = r.id ? await fhir<T>('PUT', `${r.resourceType}/${r.id}`, r) : await fhir<T>('POST', r.resourceType, r);
  assert.ok(status === 200 || status === 201, JSON.stringify(json));
  return json;
}

const LYON = 'lieu=69123&rayon=10';
const BORDEAUX = 'lat=44.8378&lon=-0.5792&rayon=5';
const NANTES = 'lat=47.2184&lon=-1.5536&rayon=5';
const GRENOBLE = 'lat=45.1885&lon=5.7245&rayon=5';

describe('care-offer index', () => {
  it('follows the role, its practitioner, its structure and its place, and drops inactive or deleted offers', async () => {
    const q = (lieu: string, nom = 'zoulou') => `specialite=SM54&${lieu}&nom=${nom}`;
    const practitioner = await ecrire<Practitioner>({ resourceType: 'Practitioner', identifier: [{ system: RPPS_SYSTEM, value: '810000000110' }], name: [{ family: 'ZOULOU', given: ['Ève'] }], qualification: [{ code: { coding: [{ system: R38, code: 'SM54' }] } }] });
    const org = await ecrire<Organization>({ resourceType: 'Organization', name: 'Cabinet Zoulou', address: [{ line: ['3 rue Garibaldi'], city: 'Lyon', postalCode: '69003' }] });
    assert.equal((await chercher(q(LYON))).total, 0);

    const role = await ecrire<PractitionerRole>({ resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${practitioner.id}` }, organization: { reference: `Organization/${org.id}` } });
    const [offre] = (await chercher(q(LYON))).offres;
    assert.equal(offre.cle, `PractitionerRole/${role.id}`);
    assert.deepEqual([offre.nom, offre.prenom, offre.idnat, offre.structure, offre.adresse, offre.commune], ['ZOULOU', 'Ève', '810000000110', 'Cabinet Zoulou', '3 rue Garibaldi, 69003 Lyon', 'Lyon']);
    assert.deepEqual(offre.specialites, ['SM54']);

    // The structure moves to Grenoble: the offer (placed at its commune's centre) moves with it.
    await ecrire<Organization>({ ...org, address: [{ city: 'Grenoble', postalCode: '38000' }] });
    assert.equal((await chercher(q(LYON))).total, 0);
    assert.equal((await chercher(q(GRENOBLE))).offres[0].commune, 'Grenoble');

    // A place with a position wins over the structure's address; when the place moves, so does the offer.
    const lieu = await ecrire<Location>({ resourceType: 'Location', name: 'Cabinet secondaire', position: { latitude: 44.84, longitude: -0.58 } });
    await ecrire<PractitionerRole>({ ...role, location: [{ reference: `Location/${lieu.id}` }] });
    assert.equal((await chercher(q(GRENOBLE))).total, 0);
    assert.equal((await chercher(q(BORDEAUX))).total, 1);
    await ecrire<Location>({ ...lieu, position: { latitude: 47.22, longitude: -1.55 } });
    assert.equal((await chercher(q(BORDEAUX))).total, 0);
    assert.equal((await chercher(q(NANTES))).total, 1);

    // The practitioner's name is the offer's.
    await ecrire<Practitioner>({ ...practitioner, name: [{ family: 'ZULU', given: ['Ève'] }] });
    assert.equal((await chercher(q(NANTES, 'eve%20zoulou'))).total, 0);
    assert.equal((await chercher(q(NANTES, 'eve%20zulu'))).offres[0].nom, 'ZULU');

    const courant = (await fhir<PractitionerRole>('GET', `PractitionerRole/${role.id}`)).json;
    await ecrire<PractitionerRole>({ ...courant, active: false });
    assert.equal((await chercher(q(NANTES, 'zulu'))).total, 0);
    await ecrire<PractitionerRole>({ ...courant, active: true });
    assert.equal((await chercher(q(NANTES, 'zulu'))).total, 1);
    await ecrire<Practitioner>({ ...practitioner, name: [{ family: 'ZULU' }], active: false });
    assert.equal((await chercher(q(NANTES, 'zulu'))).total, 0);
    await ecrire<Practitioner>({ ...practitioner, name: [{ family: 'ZULU' }], active: true });
    assert.equal((await chercher(q(NANTES, 'zulu'))).total, 1);
    assert.equal((await fhir('DELETE', `PractitionerRole/${role.id}`)).status, 204);
    assert.equal((await chercher(q(NANTES, 'zulu'))).total, 0);
  });

  it('computes an offer from the latest versions when its role, practitioner and structure change at the same time', async () => {
    for (let i = 0; i < 10; i++) {
      const idnat = `81000000020${i}`;
      const org = await ecrire<Organization>({ resourceType: 'Organization', name: `Cabinet ${i}`, address: [{ city: 'Lyon', postalCode: '69003' }] });
      const ps = await ecrire<Practitioner>({ resourceType: 'Practitioner', identifier: [{ system: RPPS_SYSTEM, value: idnat }], name: [{ family: 'AVANT' }] });
      const role = await ecrire<PractitionerRole>({ resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${ps.id}` }, organization: { reference: `Organization/${org.id}` } });
      await Promise.all([
        ecrire<Organization>({ ...org, name: `Maison de santé ${i}` }),
        ecrire<Practitioner>({ ...ps, name: [{ family: 'APRES' }] }),
        ecrire<PractitionerRole>({ ...role, telecom: [{ system: 'phone', value: '0478000000' }] }),
      ]);
      const { offres } = await chercher(`${LYON}&nom=apres%20maison%20de%20sante%20${i}`);
      assert.deepEqual(offres.map((o) => [o.idnat, o.structure, o.telephone]), [[idnat, `Maison de santé ${i}`, '0478000000']]);
    }
  });

  it("lists a structure's service (SOS Médecins) with general practice, until it is deleted", async () => {
    const org = await ecrire<Organization>({ resourceType: 'Organization', name: 'SOS Médecins Grenoble', address: [{ city: 'Grenoble', postalCode: '38000' }] });
    const service = await ecrire<HealthcareService>({ resourceType: 'HealthcareService', name: 'SOS Médecins Grenoble', providedBy: { reference: `Organization/${org.id}` } });
    const [offre] = (await chercher(`specialite=SM54&${GRENOBLE}&nom=sos`)).offres;
    assert.deepEqual([offre.cle, offre.type, offre.categorie, offre.commune], [`HealthcareService/${service.id}`, 'structure', 'sos', 'Grenoble']);
    assert.equal((await fhir('DELETE', `HealthcareService/${service.id}`)).status, 204);
    assert.equal((await chercher(`specialite=SM54&${GRENOBLE}&nom=sos`)).total, 0);
  });

  it('leaves the offers unchanged when a transaction fails', async () => {
    const avant = await chercher(`specialite=SM54&${LYON}&graine=graine-tx`);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:0b0f3f3c-6c2a-4a38-9b36-7f1d2a0c1e01', resource: { resourceType: 'Practitioner', identifier: [{ system: RPPS_SYSTEM, value: '810000000128' }], name: [{ family: 'YANKEE' }], address: [{ city: 'Lyon', postalCode: '69003' }], qualification: [{ code: { coding: [{ system: R38, code: 'SM54' }] } }] }, request: { method: 'POST', url: 'Practitioner' } },
        { resource: { resourceType: 'PractitionerRole', practitioner: { reference: 'urn:uuid:0b0f3f3c-6c2a-4a38-9b36-7f1d2a0c1e01' } }, request: { method: 'POST', url: 'PractitionerRole' } },
        { resource: { resourceType: 'Organization', name: 42 } as unknown as Organization, request: { method: 'POST', url: 'Organization' } },
      ],
    };
    assert.equal((await fhir('POST', '', bundle)).status, 400);
    assert.deepEqual(await chercher(`specialite=SM54&${LYON}&graine=graine-tx`), avant);
  });

  it('makes the practitioners of an RPPS import searchable', async () => {
    assert.equal((await chercher(`specialite=SM54&${LYON}&nom=dupre`)).total, 0);
    const bilan = await importerRpps(server.platform.fhir, fichiersRpps(join(fixtures, 'libreacces')));
    assert.ok(bilan.crees > 0);
    const { offres } = await chercher(`specialite=SM54&${LYON}&nom=dupre`);
    assert.ok(offres.length >= 1);
    assert.ok(offres.every((o) => o.nom === 'DUPRÉ' && o.prenom === 'Hélène' && o.idnat === '810001045367' && o.commune === 'Lyon'));
  });

  it('is filled again from the stored resources with the same results', async () => {
    const avant = await chercher(`specialite=SM54&${LYON}&graine=graine-reprise`);
    assert.ok(avant.total > 5);
    await server.platform.db.query('DELETE FROM sas_offre');
    assert.equal((await chercher(`specialite=SM54&${LYON}&graine=graine-reprise`)).total, 0);
    assert.ok((await remplirOffres(server.platform.db, { depuisLeDebut: true })) > avant.total);
    assert.deepEqual(await chercher(`specialite=SM54&${LYON}&graine=graine-reprise`), avant);
  });
});

describe('ranking in SQL', () => {
  const medecins = demoEntries(0)
    .map((e) => e.resource as Practitioner)
    .filter((r) => r.resourceType === 'Practitioner' && r.qualification?.some((q) => q.code.coding?.some((c) => c.code === '10')));
  const idnat = (p: Practitioner) => p.identifier!.find((i) => i.system === RPPS_SYSTEM)!.value!;
  const participation = new Map(medecins.map((p, i) => [idnat(p), i % 3 !== 2]));

  before(async () => {
    const { status, json } = await fhir('POST', '', { resourceType: 'Bundle', type: 'transaction', entry: demoEntries(0) });
    assert.equal(status, 200, JSON.stringify(json).slice(0, 500));
    for (const [id, participe] of participation) assert.equal((await adminPut(server, `/sas/api/participation/${id}`, { participe })).status, 200);
  });

  it('gives the same hits in the same order as the in-memory ranking, on the demo data', async () => {
    const offres = await offresDuStore();
    let comparees = 0;
    for (const lieu of ['75012 Paris', '69003 Lyon', '13005 Marseille', '33000 Bordeaux', '59000 Lille', '35000 Rennes']) {
      for (const specialite of ['', 'G15:10', 'SM54', 'G15:60']) {
        for (const graine of ['graine-a-123', 'graine-b-456']) {
          const q = `lieu=${encodeURIComponent(lieu)}&specialite=${specialite}&rayon=30&graine=${graine}`;
          const tout = await chercher(`${q}&parPage=100`);
          const attendu = classer(offres, participation, tout.lieu, tout.rayonKm, specialite, graine);
          assert.deepEqual(tout.offres.map((o) => [o.cle, o.participe]), attendu.map((o) => [o.cle, participation.get(o.idnat ?? '') === true]), q);
          assert.equal(tout.total, attendu.length);
          // Page 2 of 3 offers (the last page when there are fewer).
          const page = Math.min(2, Math.max(1, Math.ceil(attendu.length / 3)));
          const page2 = await chercher(`${q}&parPage=3&page=2`);
          assert.deepEqual(page2.offres.map((o) => o.cle), attendu.slice((page - 1) * 3, page * 3).map((o) => o.cle), `${q} page 2`);
          comparees += attendu.length;
        }
      }
    }
    assert.ok(comparees > 100);
  });
});

/** Every offer, computed from the resources read over the FHIR API with the rules of offres.ts. */
async function offresDuStore(): Promise<Offre[]> {
  const tous = async <T extends Resource>(type: string) => {
    const b = (await fhir<Bundle>('GET', `${type}?_count=1000`)).json;
    return new Map((b.entry ?? []).map((e) => [`${type}/${e.resource!.id}`, e.resource as T]));
  };
  const sources: Sources = { practitioners: await tous<Practitioner>('Practitioner'), organizations: await tous<Organization>('Organization'), locations: await tous<Location>('Location') };
  const roles = [...(await tous<PractitionerRole>('PractitionerRole'))].map(([cle, r]) => offreDuRole(cle, r, sources));
  const services = [...(await tous<HealthcareService>('HealthcareService'))].map(([cle, s]) => offreDuService(cle, s, sources));
  return [...roles, ...services].filter((o): o is Offre => !!o);
}

/** The ranking as the portal computed it in memory: participants, distance, then SHA-256(seed, NUL, key). */
function classer(offres: Offre[], participation: Map<string, boolean>, lieu: { lat: number; lon: number }, rayonKm: number, specialite: string, graine: string): Offre[] {
  const s = specialite ? referentiel().specialite(specialite)! : undefined;
  const mg = ['SM26', 'SM53', 'SM54'];
  const correspond = (o: Offre) =>
    !s ||
    (s.type === 'profession' ? o.professions.includes(s.code) : !mg.includes(s.code) ? o.specialites.includes(s.code) : o.specialites.some((c) => mg.includes(c)) || (o.specialites.length === 0 && o.professions.includes('10')));
  const tirage = (cle: string) => createHash('sha256').update(`${graine}\0${cle}`).digest().readUInt32BE(0);
  const retenues = offres
    .filter((o) => o.lat !== undefined && o.lon !== undefined && correspond(o))
    .map((o) => ({ o, d: distanceKm(lieu, { lat: o.lat!, lon: o.lon! }), p: participation.get(o.idnat ?? '') === true, t: tirage(o.cle) }))
    .filter((x) => x.d <= rayonKm);
  retenues.sort((a, b) => Number(b.p) - Number(a.p) || a.d - b.d || a.t - b.t);
  return retenues.map((x) => x.o);
}
