// The regulators' portal over HTTP: practitioners' participation (their own form, the admin API),
// the agenda SAS of a practitioner booked by a regulator and shown in the follow-up, the LRM
// contextual search (allowed and unknown origins, médecin traitant pinned), anti-CSRF checks and
// the statistics CSV.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from '../auth/support.ts';
import { adminPut, IDNAT, PS, startSasServer, type SasTestServer } from './portail-support.ts';

let server: SasTestServer;
let navigateur: Browser;

/** The hidden and given fields of the forms posting to `action` in a page. */
function formulaires(html: string, action: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  const re = new RegExp(`<form method="post" action="${action.replace(/[/.]/g, '\\$&')}"[^>]*>([\\s\\S]*?)</form>`, 'g');
  for (const m of html.matchAll(re)) {
    const champs: Record<string, string> = {};
    for (const i of m[1].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) champs[i[1]] = i[2].replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"');
    out.push(champs);
  }
  return out;
}

const demain = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date(Date.now() + 24 * 3600_000));

before(async () => {
  server = await startSasServer();
  navigateur = await server.connecter();
});
after(() => server?.close());

describe('SAS portal', () => {
  it('lets a practitioner declare their own participation, and the admin API set anyone’s', async () => {
    const page = await navigateur.request(`${server.baseUrl}/sas/participation`);
    assert.equal(page.status, 200);
    assert.match(page.body, /pas encore déclaré/);
    const csrf = formulaires(page.body, '/sas/participation')[0].csrf;
    const sans = await navigateur.request(`${server.baseUrl}/sas/participation`, { form: { participe: 'oui' } });
    assert.equal(sans.status, 403, 'a form without the anti-CSRF token is refused');
    const ok = await navigateur.request(`${server.baseUrl}/sas/participation`, { form: { csrf, participe: 'oui', motif: 'Disponible le soir' } });
    assert.equal(ok.status, 303);
    assert.match((await navigateur.request(`${server.baseUrl}/sas/participation`)).body, /déclaré participer/);

    const lue = await fetch(`${server.baseUrl}/sas/api/participation/${IDNAT}`, { headers: { authorization: `Bearer ${await server.adminToken()}` } });
    assert.deepEqual((({ participe, motif, modifie_par }) => ({ participe, motif, modifie_par }))(await lue.json()), { participe: true, motif: 'Disponible le soir', modifie_par: IDNAT });
    const refus = await adminPut(server, `/sas/api/participation/${PS.Bravo[0]}`, { participe: false, motif: 'Retraite' });
    assert.equal(refus.status, 200);
    assert.equal((await adminPut(server, `/sas/api/participation/${PS.Bravo[0]}`, { participe: 'peut-être' })).status, 400);
    assert.equal((await fetch(`${server.baseUrl}/sas/api/participation/${PS.Bravo[0]}`, { method: 'PUT', body: '{}' })).status, 401);
  });

  it('books a slot of the agenda SAS and shows the appointment in the follow-up', async () => {
    const agenda = await navigateur.request(`${server.baseUrl}/sas/agenda`);
    assert.equal(agenda.status, 200);
    const { csrf, agenda: _ } = formulaires(agenda.body, '/sas/agenda')[0];
    const cle = /<option value="(PractitionerRole\/[^"]+)">/.exec(agenda.body)![1];
    const ajout = await navigateur.request(`${server.baseUrl}/sas/agenda`, { form: { csrf, agenda: cle, date: demain(), heure: '10:30', duree: '20', consultation: 'AMB', type: 'SNP' } });
    assert.equal(ajout.location, `${server.baseUrl}/sas/agenda?ajoute=1`);
    const passe = await navigateur.request(`${server.baseUrl}/sas/agenda`, { form: { csrf, agenda: cle, date: '2020-01-01', heure: '10:30', duree: '20', consultation: 'AMB', type: 'SNP' } });
    assert.match(decodeURIComponent(passe.location!), /dans le futur/);

    const recherche = await navigateur.request(`${server.baseUrl}/sas/recherche?specialite=SM54&lieu=75012%20Paris`);
    assert.equal(recherche.status, 200);
    assert.match(recherche.body, /Dr Claire Martin/);
    assert.match(recherche.body, /<svg class="sas-carte"/);
    const reservations = formulaires(recherche.body, '/sas/orientation');
    assert.equal(reservations.length, 1);
    const r = reservations[0];
    assert.equal(r.url, '');
    const falsifie = await navigateur.request(`${server.baseUrl}/sas/orientation`, { form: { ...r, url: 'https://ailleurs.example/' } });
    assert.equal(falsifie.status, 400, 'a booking URL the portal did not show is refused');
    const reserve = await navigateur.request(`${server.baseUrl}/sas/orientation`, { form: r });
    assert.equal(reserve.location, `${server.baseUrl}/sas/rendez-vous?reserve=1`);
    assert.equal((await navigateur.request(`${server.baseUrl}/sas/orientation`, { form: r })).status, 409, 'a slot is booked once');

    const suivi = await navigateur.request(`${server.baseUrl}/sas/rendez-vous`);
    assert.match(suivi.body, /Dr Claire Martin/);
    assert.match(suivi.body, /Réservé/);
    assert.match(suivi.body, /Agenda SAS/);
  });

  it('lets a structure account (SOS Médecins) enter availability in its agenda SAS', async () => {
    const core = server.platform.fhir;
    const sos = await core.create({ resourceType: 'Organization', name: 'SOS Médecins Bordeaux', address: [{ city: 'Bordeaux', postalCode: '33000' }] });
    const moi = (await core.search('Practitioner', { identifier: `urn:oid:1.2.250.1.71.4.2.1|${IDNAT}` })).matches[0].id;
    await core.create({ resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${moi}` }, organization: { reference: `Organization/${sos.stored.id}` } });
    const service = await core.create({ resourceType: 'HealthcareService', name: 'SOS Médecins Bordeaux', providedBy: { reference: `Organization/${sos.stored.id}` } });
    const agenda = await navigateur.request(`${server.baseUrl}/sas/agenda`);
    assert.match(agenda.body, /SOS Médecins Bordeaux \(structure\)/);
    const { csrf } = formulaires(agenda.body, '/sas/agenda')[0];
    const ajout = await navigateur.request(`${server.baseUrl}/sas/agenda`, { form: { csrf, agenda: `HealthcareService/${service.stored.id}`, date: demain(), heure: '18:00', duree: '30', consultation: 'HH', type: 'PUBLIC' } });
    assert.equal(ajout.location, `${server.baseUrl}/sas/agenda?ajoute=1`);
    const slots = await core.search('Slot', { _count: '10' });
    const slot = slots.matches.map((m) => JSON.parse(m.json)).find((x) => x.serviceType[0].coding[0].code === 'HH');
    assert.deepEqual(slot.meta.profile, ['http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur']);
    assert.equal(slot.meta.security[0].code, 'PUBLIC');
    assert.match(slot.start, /^\d{4}-\d{2}-\d{2}T18:00:00\.000\+0[12]:00$/);

    const { json } = await server.api(navigateur, '/sas/api/offres?specialite=SM54&lieu=33000%20Bordeaux');
    const carte = json.offres.find((o: { nom: string }) => o.nom === 'SOS Médecins Bordeaux');
    assert.equal(carte.categorie, 'sos');
    assert.deepEqual(carte.creneaux.map((c: { consultation: string; source: string; types: string[] }) => [c.consultation, c.source, c.types]), [['domicile', 'agenda', ['PUBLIC']]]);
  });

  it('opens the LRM contextual search pre-filled, médecin traitant first', async () => {
    const q = new URLSearchParams({
      origin: 'samu-69',
      practitioner: `urn:oid:1.2.250.1.71.4.2.1|${PS.Golf[0]}`,
      speciality: 'urn:oid:1.2.250.1.213.2.28|SM54',
      inseecode: '69123',
      city: 'Lyon',
      streetname: 'rue de la République',
      streetnumber: '12',
    });
    const json = (await server.api(navigateur, `/sas/api/offres?${q}`)).json;
    assert.equal(json.offres[0].nom, 'GOLF');
    assert.equal(json.offres[0].medecinTraitant, true);
    assert.ok(json.offres.slice(1).every((o: { commune: string }) => o.commune !== 'Marseille'));
    const page = await navigateur.request(`${server.baseUrl}/sas/recherche?${q}`);
    assert.equal(page.status, 200);
    assert.match(page.body, /value="12 rue de la République, Lyon"/);
    assert.match(page.body, /Médecin traitant/);

    const parNom = (await server.api(navigateur, `/sas/api/offres?origin=samu-69&practitioner=Kilo&inseecode=69123`)).json;
    assert.equal(parNom.offres[0].nom, 'KILO');
    const invalide = (await server.api(navigateur, `/sas/api/offres?origin=samu-69&practitioner=urn:oid:1.2.3|99&inseecode=69123`)).json;
    assert.ok(invalide.avertissements.some((a: string) => /n'est pas au format/.test(a)));
  });

  it('refuses an unknown LRM origin with a French error page, logged in or not', async () => {
    for (const get of [(u: string) => fetch(u, { redirect: 'manual' }).then(async (r) => ({ status: r.status, body: await r.text() })), (u: string) => navigateur.request(u)]) {
      const res = await get(`${server.baseUrl}/sas/recherche?origin=samu-inconnu&inseecode=69123`);
      assert.equal(res.status, 400);
      assert.match(res.body, /<html lang="fr"/);
      assert.match(res.body, /Recherche contextualisée refusée/);
      assert.match(res.body, /samu-inconnu/);
    }
    const anonyme = await fetch(`${server.baseUrl}/sas/recherche?origin=samu-69&inseecode=69123`, { redirect: 'manual' });
    assert.equal(anonyme.status, 303, 'an allowed origin leads to the login, then back to the search');
  });

  it('exports the statistics per week and department as CSV', async () => {
    const csv = await navigateur.request(`${server.baseUrl}/sas/statistiques.csv`);
    assert.equal(csv.status, 200);
    const lignes = csv.body.trim().split('\r\n');
    assert.equal(lignes[0], 'semaine,departement,recherches,orientations,participations,refus');
    const parDep = Object.fromEntries(lignes.slice(1).map((l) => l.split(',')).map(([semaine, dep, ...n]) => [dep, { semaine, n: n.map(Number) }]));
    assert.match(parDep['75'].semaine, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(new Date(`${parDep['75'].semaine}T12:00:00Z`).getUTCDay(), 1, 'weeks start on Monday');
    assert.deepEqual(parDep['75'].n, [1, 1, 1, 0], 'Paris: one search, one orientation, one participation');
    assert.deepEqual(parDep['69'].n.slice(1), [0, 0, 1], 'Rhône: Bron’s refusal');
    assert.ok(parDep['69'].n[0] >= 3, 'Rhône: the LRM searches');
    const page = await navigateur.request(`${server.baseUrl}/sas/statistiques`);
    assert.match(page.body, /Évolution du nombre d'orientations/);
    assert.match(page.body, /<svg class="sas-graphique"/);
    assert.equal((await fetch(`${server.baseUrl}/sas/statistiques.csv`, { redirect: 'manual' })).status, 303);
  });
});
