// The care-offer search over HTTP, as a logged-in regulator: ranking (SAS participants first, then
// distance, then the search's random order), default radius of the department, specialty and
// profession filters, pagination stable within one search, and the access rules.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from '../auth/support.ts';
import { adminPut, PS, startSasServer, type SasTestServer } from './portail-support.ts';

let server: SasTestServer;
let regulateur: Browser;
const noms = (offres: { nom: string }[]) => offres.map((o) => o.nom);

before(async () => {
  server = await startSasServer();
  for (const [nom, participe] of [['Alpha', true], ['Charlie', true], ['Kilo', false]] as const) {
    const res = await adminPut(server, `/sas/api/participation/${PS[nom][0]}`, { participe });
    assert.equal(res.status, 200, await res.text());
  }
  regulateur = await server.connecter();
});
after(() => server?.close());

describe('care-offer search', () => {
  it('ranks SAS participants first, then by distance, with the random order only between equal distances', async () => {
    const { status, json } = await server.api(regulateur, '/sas/api/offres?specialite=SM54&lieu=69123&rayon=10&graine=graine-test-1');
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.rayonKm, 10);
    const ordre = noms(json.offres);
    assert.deepEqual(ordre.slice(0, 2), ['CHARLIE', 'ALPHA']);
    assert.deepEqual(new Set(ordre.slice(2, 4)), new Set(['ECHO', 'FOXTROT']));
    assert.deepEqual(ordre.slice(4), ['SOS Médecins Lyon', 'KILO', 'BRAVO']);
    assert.deepEqual(json.offres.map((o: { participe: boolean }) => o.participe), [true, true, false, false, false, false, false]);
    assert.equal(json.offres.find((o: { nom: string }) => o.nom === 'KILO').refuse, true);
    // Distances from the centre of Lyon, ascending within each group.
    const d = json.offres.map((o: { distanceKm: number }) => o.distanceKm);
    assert.ok(d[0] < d[1] && d[4] < d[5] && d[5] < d[6]);
  });

  it('uses the default radius of the department (5 km in the Rhône)', async () => {
    const { json } = await server.api(regulateur, '/sas/api/offres?specialite=M%C3%A9decine%20g%C3%A9n%C3%A9rale%20(SM)&lieu=Lyon&graine=graine-test-1');
    assert.equal(json.rayonKm, 5);
    assert.deepEqual(new Set(noms(json.offres)), new Set(['CHARLIE', 'ECHO', 'FOXTROT', 'SOS Médecins Lyon', 'KILO']));
    assert.equal(json.offres[0].nom, 'CHARLIE');
  });

  it('keeps one order across the pages of one search', async () => {
    const tous = (await server.api(regulateur, '/sas/api/offres?specialite=SM54&lieu=69003%20Lyon&rayon=10&graine=graine-paging')).json;
    const pages: string[] = [];
    for (let page = 1; page <= 4; page++) {
      const { json } = await server.api(regulateur, `/sas/api/offres?specialite=SM54&lieu=69003%20Lyon&rayon=10&graine=graine-paging&parPage=2&page=${page}`);
      assert.equal(json.total, 7);
      assert.equal(json.pages, 4);
      pages.push(...noms(json.offres));
    }
    assert.deepEqual(pages, noms(tous.offres));
    // Page numbers and sizes are whole numbers, whatever the URL says.
    const odd = await server.api(regulateur, '/sas/api/offres?specialite=SM54&lieu=69003%20Lyon&rayon=10&graine=graine-paging&parPage=2.7&page=2.5');
    assert.deepEqual([odd.json.page, odd.json.parPage, noms(odd.json.offres)], [2, 2, pages.slice(2, 4)]);
  });

  it('filters by specialty (R38), by profession (G15) and by name', async () => {
    assert.deepEqual(noms((await server.api(regulateur, '/sas/api/offres?specialite=SM40&lieu=69123')).json.offres), ['DELTA']);
    assert.deepEqual(noms((await server.api(regulateur, '/sas/api/offres?specialite=Infirmier&lieu=69123')).json.offres), ['NOVEMBER']);
    assert.deepEqual(noms((await server.api(regulateur, '/sas/api/offres?specialite=SM54&lieu=69123&rayon=10&nom=bravo')).json.offres), ['BRAVO']);
  });

  it('searches around coordinates, and around Marseille finds only its practitioner', async () => {
    const near = await server.api(regulateur, '/sas/api/offres?specialite=SM54&lat=45.7719&lon=4.8898&rayon=1');
    assert.deepEqual(noms(near.json.offres), ['CHARLIE']);
    const marseille = await server.api(regulateur, '/sas/api/offres?specialite=SM54&lieu=13005');
    assert.deepEqual(noms(marseille.json.offres), ['GOLF']);
  });

  it('refuses an unknown place or specialty with a clear message', async () => {
    const lieu = await server.api(regulateur, '/sas/api/offres?specialite=SM54&lieu=Nullepart-sur-Mer');
    assert.equal(lieu.status, 400);
    assert.match(lieu.json.erreur, /Lieu introuvable/);
    const spe = await server.api(regulateur, '/sas/api/offres?specialite=Astrologie&lieu=Lyon');
    assert.equal(spe.status, 400);
    assert.match(spe.json.erreur, /Spécialité inconnue/);
  });

  it('is for habilitated regulators only', async () => {
    assert.equal((await fetch(`${server.baseUrl}/sas/api/offres?lieu=Lyon`)).status, 401);
    const page = await fetch(`${server.baseUrl}/sas/recherche?lieu=Lyon`, { redirect: 'manual' });
    assert.equal(page.status, 303);
    assert.match(page.headers.get('location')!, /^\/sas\/connexion\?retour=/);
    const res = await adminPut(server, `/sas/api/habilitations/${PS.Alpha[0]}`, { actif: false });
    assert.equal(res.status, 200);
    await adminPut(server, '/sas/api/habilitations/810100000000', { actif: false });
    assert.equal((await server.api(regulateur, '/sas/api/offres?lieu=Lyon')).status, 403);
    const refus = await regulateur.request(`${server.baseUrl}/sas/recherche?lieu=Lyon`);
    assert.equal(refus.status, 403);
    assert.match(refus.body, /réservé aux régulateurs/);
    await adminPut(server, '/sas/api/habilitations/810100000000', { actif: true });
    assert.equal((await server.api(regulateur, '/sas/api/offres?lieu=Lyon')).status, 200);
  });
});
