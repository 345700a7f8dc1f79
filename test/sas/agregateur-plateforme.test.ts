// The aggregator inside the running platform: the vendor registry's admin API (/sas/api/editeurs), the
// regulator account push (V1) with its retry queue, and the appointment back-flow (V3) over mutual
// TLS on the platform's HTTPS listener, with the refusals vendors get for bad calls.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Appointment, Bundle } from '@medplum/fhirtypes';
import { vendoredPackages } from '../../src/config.ts';
import type { Certificat } from '../../src/pki/pki.ts';
import { startVendorSim, type VendorSim } from '../../src/services/sas/editeur/index.ts';
import { startAuthServer, type AuthTestServer } from '../auth/support.ts';
import { https } from '../ins/support.ts';
import { editeurScripte, repondre, type EditeurScripte } from './agregateur-support.ts';

const REGULATEUR = '3456780581/11242343';

let server: AuthTestServer;
let admin: string;
let urlTls: string;
let ca: string;
let certEditeur: Certificat;
let certInconnu: Certificat;

const api = async (method: string, path: string, body?: unknown, jeton: string | null = admin) => {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { ...(jeton ? { authorization: `Bearer ${jeton}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};

const sujet = (c: Certificat) => new X509Certificate(c.cert).subject.split('\n').reverse().join(', ');

before(async () => {
  process.env.SOCLE_SAS_V1_RETRY_MS = '0';
  server = await startAuthServer({ fhirPackages: vendoredPackages(), tlsPort: 0, pkiDir: '' });
  admin = await server.adminToken();
  const pki = server.platform.tls!.pki;
  ca = pki.ca;
  urlTls = `https://localhost:${server.platform.tls!.port()}`;
  certEditeur = await pki.emettreOrganisation('AGENDA-PRO', { identifiant: '312345678901234', nom: 'Éditeur Agenda Pro' });
  certInconnu = await pki.emettreOrganisation('AUTRE', { identifiant: '399999999999999', nom: 'Inconnu' });
});
after(() => server?.close());

describe('vendor registry admin API', () => {
  test('refused without an admin token', async () => {
    assert.equal((await api('GET', '/sas/api/editeurs', undefined, null)).status, 401);
  });

  test('add, read, update, remove; the client certificate and key are sealed and never returned', async () => {
    const client = await server.platform.tls!.pki.emettreOrganisation('SAS', { identifiant: '313000000000001', nom: 'Plateforme SAS' });
    const cree = await api('POST', '/sas/api/editeurs', { id: 'agenda-pro', nom: 'Agenda Pro', baseUrl: 'https://agenda.example.fr/fhir', type: 'R01', rpps: ['10003456789', '810003456790'], clientCert: { ...client, ca } });
    assert.equal(cree.status, 201, JSON.stringify(cree.body));
    assert.deepEqual(cree.body.rpps, ['810003456789', '810003456790']);
    assert.equal(cree.body.certificatClient.sujet, sujet(client));
    assert.equal((await api('POST', '/sas/api/editeurs', { id: 'agenda-pro', nom: 'x', baseUrl: 'https://x.fr', type: 'R01' })).status, 409);
    const texte = JSON.stringify((await api('GET', '/sas/api/editeurs')).body);
    assert.ok(!texte.includes('PRIVATE KEY') && !texte.includes('BEGIN CERTIFICATE'));
    const { rows } = await server.platform.db.query<{ sealed_client_cert: string }>('SELECT sealed_client_cert FROM sas_editeur');
    assert.ok(!rows[0].sealed_client_cert.includes('PRIVATE KEY'));
    const maj = await api('PUT', '/sas/api/editeurs/agenda-pro', { nom: 'Agenda Pro 2', baseUrl: 'https://agenda.example.fr/fhir', type: 'R04', rpps: [] });
    assert.equal(maj.status, 200);
    assert.equal(maj.body.type, 'R04');
    assert.equal(maj.body.certificatClient.sujet, sujet(client), 'kept when the update does not send one');
    assert.equal((await api('GET', '/sas/api/editeurs/agenda-pro')).body.circuit, 'ferme');
    assert.equal((await api('DELETE', '/sas/api/editeurs/agenda-pro')).status, 204);
    assert.equal((await api('GET', '/sas/api/editeurs/agenda-pro')).status, 404);
  });

  test('bad entries are refused with the reason', async () => {
    const cas: [unknown, RegExp][] = [
      [{ id: 'a', nom: 'A', baseUrl: 'http://agenda.example.fr', type: 'R01' }, /https/],
      [{ id: 'a', nom: 'A', baseUrl: 'https://agenda.example.fr', type: 'R02' }, /type/],
      [{ id: 'a', nom: 'A', baseUrl: 'https://agenda.example.fr', type: 'R01', rpps: ['123'] }, /RPPS/],
      [{ id: 'a', nom: 'A', baseUrl: 'https://agenda.example.fr', type: 'R01', clientCert: { cert: certEditeur.cert, key: certInconnu.key } }, /clé/],
    ];
    for (const [corps, raison] of cas) {
      const r = await api('POST', '/sas/api/editeurs', corps);
      assert.equal(r.status, 400);
      assert.match(r.body.message, raison);
    }
    assert.equal((await api('GET', '/sas/api/editeurs')).body.length, 0);
  });
});

describe('V1: regulator accounts pushed to vendors', () => {
  let sim: VendorSim;
  let fragile: EditeurScripte;
  before(async () => {
    sim = await startVendorSim({ seed: 'v1', praticiens: 1 });
    fragile = await editeurScripte();
    await api('PUT', '/sas/api/editeurs/sim', { nom: 'Simulateur', baseUrl: sim.url, type: 'R01' });
    await api('PUT', '/sas/api/editeurs/fragile', { nom: 'Fragile', baseUrl: fragile.url, type: 'R01' });
  });
  after(async () => {
    await api('DELETE', '/sas/api/editeurs/sim');
    await api('DELETE', '/sas/api/editeurs/fragile');
    await sim?.close();
    await fragile?.close();
  });

  const pousser = (corps: object) => api('POST', `/sas/api/regulateurs/${encodeURIComponent(REGULATEUR)}/synchroniser`, corps);
  const compteChezSim = async () => {
    const r = await fetch(`${sim.url}/Practitioner?identifier=${encodeURIComponent(`urn:oid:1.2.250.1.71.4.2.1|${REGULATEUR}`)}`);
    return ((await r.json()) as Bundle).entry?.[0]?.resource as { active: boolean; name: { family: string }[]; meta: { source: string } } | undefined;
  };

  test('created by POST, then updated by PUT ?identifier=; removal sends active=false; a failing vendor gets it from the queue', async () => {
    fragile.script = (_r, res) => repondre(res, 503, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: 'maintenance' }] });
    const cree = await pousser({ nom: 'Loridon', prenom: 'Sébastien', email: 'sebastien.loridon@samu.example.fr', actif: true });
    assert.equal(cree.status, 200, JSON.stringify(cree.body));
    const parEditeur = Object.fromEntries(cree.body.resultats.map((r: { editeur: string }) => [r.editeur, r]));
    assert.deepEqual([parEditeur.sim.statut, parEditeur.sim.http], ['ok', 201]);
    assert.equal(parEditeur.fragile.statut, 'en-attente');
    const compte = await compteChezSim();
    assert.equal(compte?.active, true);
    assert.equal(compte?.meta.source, 'urn:oid:1.2.250.1.213.3.6');
    const post = fragile.vues.find((v) => v.methode === 'POST')!;
    assert.equal(post.chemin, '/Practitioner');
    assert.equal(JSON.parse(post.corps).identifier[0].value, REGULATEUR);

    const file = (await api('GET', '/sas/api/regulateurs/file')).body;
    assert.deepEqual(file.map((l: { editeur: string; regulateur: string }) => [l.editeur, l.regulateur]), [['fragile', `urn:oid:1.2.250.1.71.4.2.1|${REGULATEUR}`]]);
    fragile.script = (_r, res) => repondre(res, 201, {});
    await server.platform.db.query('UPDATE sas_v1_file SET prochain_essai = now()');
    assert.deepEqual((await api('POST', '/sas/api/regulateurs/relancer')).body, { acceptes: 1 });
    assert.deepEqual((await api('GET', '/sas/api/regulateurs/file')).body, []);

    fragile.vues.length = 0;
    fragile.script = (_r, res) => repondre(res, 200, {});
    const retrait = await pousser({ nom: 'Loridon', prenom: 'Sébastien', email: 'sebastien.loridon@samu.example.fr', actif: false });
    assert.ok(retrait.body.resultats.every((r: { statut: string }) => r.statut === 'ok'));
    assert.equal((await compteChezSim())?.active, false);
    const put = fragile.vues[0];
    assert.equal(put.methode, 'PUT');
    assert.deepEqual(put.params, [['identifier', `urn:oid:1.2.250.1.71.4.2.1|${REGULATEUR}`]]);
    assert.equal(JSON.parse(put.corps).active, false);
  });

  test('a regulator without the mandatory data is refused before anything is sent', async () => {
    fragile.vues.length = 0;
    const r = await pousser({ nom: 'Loridon', prenom: 'Sébastien', actif: true });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /email/);
    assert.equal(fragile.vues.length, 0);
  });
});

describe('V3: appointments pushed by vendors', () => {
  before(async () => {
    await api('PUT', '/sas/api/editeurs/agenda-pro', { nom: 'Agenda Pro', baseUrl: 'https://agenda.example.fr/fhir', type: 'R01', certificatV3: sujet(certEditeur) });
  });

  const rdv = (statut = 'booked', valeur = 'b6e39355-8a61-4556-b340-36f7b95fec6a'): Appointment => ({
    resourceType: 'Appointment',
    meta: { profile: ['http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS'] },
    extension: [
      {
        url: 'http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator',
        valueReference: { identifier: { type: { coding: [{ system: 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203', code: 'IDNPS' }] }, system: 'urn:oid:1.2.250.1.71.4.2.1', value: REGULATEUR } },
      },
    ],
    identifier: [{ system: 'urn:oid:1.2.250.1.999.1.1', value: valeur }],
    status: statut as Appointment['status'],
    start: '2026-09-04T14:00:00+02:00',
    end: '2026-09-04T14:15:00+02:00',
    participant: [{ actor: { identifier: { type: { coding: [{ system: 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203', code: 'IDNPS' }] }, system: 'urn:oid:1.2.250.1.71.4.2.1', value: '810100050075' } }, status: 'accepted' }],
  });
  const envoyer = (chemin: string, corps: unknown, certificat: Certificat | null = certEditeur, method = 'POST') => https(`${urlTls}/sas/fhir/${chemin}`, { corps, certificat: certificat ?? undefined, ca, method });

  test('created over mutual TLS by a registered vendor, stored with history, then updated by identifier', async () => {
    const cree = await envoyer('Appointment', rdv());
    assert.equal(cree.status, 201, cree.texte);
    assert.match(cree.contentType, /application\/fhir\+json/);
    const id = cree.corps.id;
    const maj = await envoyer(`Appointment?identifier=${encodeURIComponent('urn:oid:1.2.250.1.999.1.1|b6e39355-8a61-4556-b340-36f7b95fec6a')}`, rdv('fulfilled'), certEditeur, 'PUT');
    assert.equal(maj.status, 200, maj.texte);
    assert.equal(maj.corps.id, id);
    const stocke = await server.platform.fhir.read('Appointment', id);
    assert.equal(JSON.parse(stocke.json).status, 'fulfilled');
    assert.equal(stocke.versionId, 2);
    const audit = await server.platform.fhir.search('AuditEvent', { _count: '1000' });
    assert.ok(audit.matches.some((m) => m.json.includes('sas-editeur:agenda-pro') && m.json.includes(`Appointment/${id}`)), 'audited as the vendor');
  });

  test('idempotent: a replayed creation is answered as it was, an update by PUT creates when unknown', async () => {
    const premier = await envoyer('Appointment', rdv('booked', 'replay-1'));
    const rejoue = await envoyer('Appointment', rdv('booked', 'replay-1'));
    assert.deepEqual([premier.status, rejoue.status], [201, 200]);
    assert.equal(rejoue.corps.id, premier.corps.id);
    assert.equal((await envoyer('Appointment', rdv('cancelled', 'replay-1'))).status, 409);
    const nouveau = await envoyer(`Appointment?identifier=${encodeURIComponent('urn:oid:1.2.250.1.999.1.1|put-1')}`, rdv('noshow', 'put-1'), certEditeur, 'PUT');
    assert.equal(nouveau.status, 201);
    const { matches } = await server.platform.fhir.search('Appointment', { identifier: 'urn:oid:1.2.250.1.999.1.1|replay-1' });
    assert.equal(matches.length, 1);
  });

  test('refusals: no certificate 401, unregistered certificate 403, invalid resource 400/422, mismatched identifier 400', async () => {
    assert.equal((await envoyer('Appointment', rdv(), null)).status, 401);
    const inconnu = await envoyer('Appointment', rdv(), certInconnu);
    assert.equal(inconnu.status, 403);
    assert.equal(inconnu.corps.resourceType, 'OperationOutcome');
    assert.equal((await envoyer('Appointment', { resourceType: 'Patient' })).status, 400);
    assert.equal((await envoyer('Appointment', rdv('proposed', 'x-1'))).status, 422);
    // Without the regulator who booked it (FrAppointmentOperator, 1..1 in the profile).
    const { extension: _operateur, ...sansOperateur } = rdv('booked', 'x-2');
    const profil = await envoyer('Appointment', sansOperateur);
    assert.equal(profil.status, 422, profil.texte);
    assert.match(profil.corps.issue[0].diagnostics, /extension/);
    const autre = await envoyer(`Appointment?identifier=${encodeURIComponent('urn:oid:1.2.250.1.999.1.1|autre')}`, rdv('booked', 'x-3'), certEditeur, 'PUT');
    assert.equal(autre.status, 400);
    assert.equal((await fetch(`${server.baseUrl}/sas/fhir/Appointment`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(rdv()) })).status, 401);
  });

  test('a bearer token without the system/Appointment.write scope is refused', async () => {
    const r = await fetch(`${server.baseUrl}/sas/fhir/Appointment`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(rdv()) });
    assert.equal(r.status, 403);
    assert.equal((await fetch(`${server.baseUrl}/sas/fhir/Appointment`, { method: 'POST', headers: { authorization: 'Bearer faux', 'content-type': 'application/fhir+json' }, body: JSON.stringify(rdv()) })).status, 401);
  });
});
