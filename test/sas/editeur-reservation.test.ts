// Booking on the vendor simulator (the page Slot.comment points to) and the V3 appointment push to the SAS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { startVendorSim, type VendorSim } from '../../src/services/sas/editeur/index.ts';
import { dateSas } from '../../src/services/sas/editeur/temps.ts';
import { Validator } from '../../src/fhir/validation/index.ts';
import { PAQUET_SAS_KIT } from '../../src/services/sas/conformite/index.ts';
import { ouvrirPki } from '../../src/pki/pki.ts';

const IDNPS = 'urn:oid:1.2.250.1.71.4.2.1';
const REGULATEUR = '3456780581/11242343';

interface Recu { methode: string; url: string; entetes: http.IncomingHttpHeaders; corps: any; cn?: string }

/** A stand-in for the SAS V3 endpoint: records what vendors send, answers 201 / 200. */
async function recepteur(tls?: https.ServerOptions) {
  const recus: Recu[] = [];
  const traiter = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let texte = '';
    req.on('data', (m) => { texte += m; });
    req.on('end', () => {
      const cn = tls ? String((req.socket as TLSSocket).getPeerCertificate().subject?.CN) : undefined;
      recus.push({ methode: req.method!, url: req.url!, entetes: req.headers, corps: JSON.parse(texte), cn });
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'Content-Type': 'application/fhir+json', Location: '/sas/fhir/Appointment/1' });
      res.end(texte);
    });
  };
  const serveur = tls ? https.createServer(tls, traiter) : http.createServer(traiter);
  await new Promise<void>((r) => serveur.listen(0, '127.0.0.1', r));
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${(serveur.address() as AddressInfo).port}/sas/fhir`;
  return { url, recus, close: () => new Promise<void>((r) => { serveur.close(() => r()); serveur.closeAllConnections(); }) };
}

async function premierCreneau(sim: VendorSim, i = 0): Promise<any> {
  const now = new Date();
  const q = new URLSearchParams([['_include', 'Slot:schedule'], ['start', `ge${dateSas(now)}`], ['start', `le${dateSas(new Date(now.getTime() + 72 * 3_600_000))}`],
    ['schedule.actor:Practitioner.identifier', `${IDNPS}|8${sim.praticiens[i].rpps}`], ['status', 'free']]);
  const b = await (await fetch(`${sim.url}/Slot?${q}`)).json();
  return { slots: b.entry.filter((e: any) => e.resource.resourceType === 'Slot').map((e: any) => e.resource), q };
}

const formulaire = (url: string, champs: Record<string, string>) =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(champs) });

describe('booking on the vendor simulator', () => {
  let sim: VendorSim;
  let sas: Awaited<ReturnType<typeof recepteur>>;
  let validateur: Validator;
  before(async () => {
    sas = await recepteur();
    sim = await startVendorSim({ praticiens: 2, sasAppointmentUrl: sas.url, sasClient: { bearer: async () => 'jeton-editeur' } });
    validateur = await Validator.create([PAQUET_SAS_KIT]);
  });
  after(async () => { await sim?.close(); await sas?.close(); });

  test('the booking page needs origin, books the slot and pushes a valid FrAppointmentSAS; changes are PUT by identifier', async () => {
    const v1 = await fetch(`${sim.url}/Practitioner`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify({
      resourceType: 'Practitioner', identifier: [{ type: { coding: [{ system: 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203', code: 'IDNPS' }] }, system: IDNPS, value: REGULATEUR }],
      active: true, name: [{ family: 'Loridon', given: ['Sébastien'] }], telecom: [{ system: 'email', value: 's.loridon@samu.fr' }],
    }) });
    assert.equal(v1.status, 201);
    const { slots, q } = await premierCreneau(sim);
    const slot = slots[0];

    assert.equal((await fetch(slot.comment)).status, 403, 'no booking without the SAS origin');
    const page = await fetch(`${slot.comment}&origin=sas`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Confirmer le rendez-vous/);
    assert.match(html, new RegExp(`${IDNPS}\\|${REGULATEUR}`));

    const confirme = await formulaire(`${sim.url}/reservation`, { slot: slot.id, origin: 'sas', regulateur: `${IDNPS}|${REGULATEUR}`, patient: 'Jeanne Dupont' });
    assert.equal(confirme.status, 201);
    const reference = /<code id="reference">([0-9a-f-]{36})<\/code>/.exec(await confirme.text())![1];

    assert.equal(sas.recus.length, 1);
    const [post] = sas.recus;
    assert.equal(post.methode, 'POST');
    assert.equal(post.url, '/sas/fhir/Appointment');
    assert.equal(post.entetes.authorization, 'Bearer jeton-editeur');
    const rdv = post.corps;
    assert.deepEqual(rdv.meta.profile, ['http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS']);
    assert.equal(rdv.status, 'booked');
    assert.equal(rdv.start, slot.start);
    assert.equal(rdv.end, slot.end);
    assert.equal(rdv.identifier[0].value, reference);
    assert.equal(rdv.extension[0].valueReference.identifier.value, REGULATEUR);
    assert.equal(rdv.participant[0].actor.identifier.value, `8${sim.praticiens[0].rpps}`);
    const verdict = validateur.validate(rdv);
    assert.deepEqual([...verdict.base, ...verdict.profile], []);

    // The slot is taken: no longer offered, read as busy, not bookable twice.
    const apres = await (await fetch(`${sim.url}/Slot?${q}`)).json();
    assert.ok(!apres.entry.some((e: any) => e.resource.id === slot.id));
    assert.equal((await (await fetch(`${sim.url}/Slot/${slot.id}`)).json()).status, 'busy');
    assert.equal((await formulaire(`${sim.url}/reservation`, { slot: slot.id, origin: 'sas', regulateur: REGULATEUR })).status, 409);

    const annule = await formulaire(`${sim.url}/reservation/${reference}/statut`, { statut: 'cancelled' });
    assert.equal(annule.status, 200);
    const put = sas.recus[1];
    assert.equal(put.methode, 'PUT');
    assert.equal(decodeURIComponent(put.url), `/sas/fhir/Appointment?identifier=${rdv.identifier[0].system}|${reference}`);
    assert.equal(put.corps.status, 'cancelled');
    const libre = await (await fetch(`${sim.url}/Slot?${q}`)).json();
    assert.ok(libre.entry.some((e: any) => e.resource.id === slot.id), 'a cancelled slot is free again');
  });

  test('bad bookings are refused with a page and nothing is pushed', async () => {
    const avant = sas.recus.length;
    const { slots } = await premierCreneau(sim, 1);
    assert.equal((await formulaire(`${sim.url}/reservation`, { slot: slots[0].id, origin: 'sas', regulateur: '' })).status, 400);
    assert.equal((await formulaire(`${sim.url}/reservation`, { slot: 'inconnu', origin: 'sas', regulateur: REGULATEUR })).status, 400);
    assert.equal((await fetch(`${sim.url}/reservation?slot=inconnu&origin=sas`)).status, 404);
    assert.equal((await formulaire(`${sim.url}/reservation/00000000-0000-0000-0000-000000000000/statut`, { statut: 'cancelled' })).status, 404);
    assert.equal(sas.recus.length, avant);
  });
});

describe('V3 push over mutual TLS', () => {
  test('the vendor presents its organisation certificate to the SAS endpoint', async () => {
    const pki = await ouvrirPki();
    const serveur = await pki.emettreServeur(['127.0.0.1']);
    const editeur = await pki.emettreOrganisation('EDITEUR-SIMULE', { identifiant: '3' + '2'.repeat(14), nom: 'EDITEUR' });
    const sas = await recepteur({ ...serveur, ca: pki.ca, requestCert: true, rejectUnauthorized: true });
    const sim = await startVendorSim({ praticiens: 1, sasAppointmentUrl: sas.url, sasClient: { ...editeur, ca: pki.ca } });
    try {
      const { slots } = await premierCreneau(sim);
      const res = await formulaire(`${sim.url}/reservation`, { slot: slots[0].id, origin: 'sas', regulateur: REGULATEUR });
      assert.equal(res.status, 201);
      assert.match(await res.text(), /accepté \(HTTP 201\)/);
      assert.equal(sas.recus[0].cn, 'EDITEUR-SIMULE');
    } finally {
      await sim.close();
      await sas.close();
    }
  });
});
