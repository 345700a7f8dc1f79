// The slot aggregator as the portal uses it: the exact searches vendors receive, merged slots from
// simulated vendors (practitioners, CPTS, SOS Médecins), mutual TLS, the deadline, the circuit
// breaker, retries, the cache, and bad resources dropped and reported without breaking the search.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as pause } from 'node:timers/promises';
import type { Principal } from '../../src/access/principal.ts';
import { SCOPE_V3 } from '../../src/services/sas/agregateur/v3.ts';
import { ouvrirPki } from '../../src/pki/pki.ts';
import { startVendorSim, type VendorSim } from '../../src/services/sas/editeur/index.ts';
import { bundleVide, demarrerAgregateur, editeurScripte, repondre, rppsFictifs, type Banc, type EditeurScripte } from './agregateur-support.ts';

const IDNPS = 'urn:oid:1.2.250.1.71.4.2.1';
// Saturday 28 March 2026, 11:15:42 in Paris: Paris switches to summer time the next night.
const SAMEDI = new Date('2026-03-28T10:15:42.123Z');

describe('searches sent to vendors', () => {
  let banc: Banc;
  let editeur: EditeurScripte;
  before(async () => {
    banc = await demarrerAgregateur({ SOCLE_SAS_CACHE_MS: '0' });
    editeur = await editeurScripte();
  });
  after(async () => {
    await banc?.close();
    await editeur?.close();
  });

  test('INT_R01: GET /Slot per batch of 25 practitioners, window from now to the end of the day after tomorrow, Paris time', async () => {
    const rpps = rppsFictifs(30);
    await banc.agregateur.editeurs.enregistrer({ id: 'r01', nom: 'Agenda R01', baseUrl: editeur.url, type: 'R01', rpps });
    editeur.vues.length = 0;
    const d = await banc.agregateur.disponibilites(rpps, { debut: SAMEDI });
    assert.deepEqual(d.rapports.map((r) => [r.editeur, r.statut]), [['r01', 'ok']]);
    assert.equal(editeur.vues.length, 2);
    const lots = editeur.vues.map((v) => v.params.find(([k]) => k === 'schedule.actor:Practitioner.identifier')![1].split(','));
    assert.deepEqual(lots.map((l) => l.length).sort((a, b) => b - a), [25, 5]);
    assert.deepEqual(lots.flat().sort(), rpps.map((r) => `${IDNPS}|8${r}`).sort());
    for (const v of editeur.vues) {
      assert.equal(v.methode, 'GET');
      assert.equal(v.chemin, '/Slot');
      assert.deepEqual(
        v.params.filter(([k]) => k !== 'schedule.actor:Practitioner.identifier'),
        [
          ['_include', 'Slot:schedule'],
          ['_include:iterate', 'Schedule:actor'],
          ['start', 'ge2026-03-28T11:15:00.000+01:00'],
          ['start', 'le2026-03-30T23:59:59.999+02:00'],
          ['status', 'free'],
          ['_count', '1000'],
        ],
      );
    }
  });

  test('INT_R04: the CPTS shape adds the HealthcareService and its Organization', async () => {
    await banc.agregateur.editeurs.enregistrer({ id: 'r01', nom: 'Agenda R01', baseUrl: editeur.url, type: 'R04', rpps: ['19000000000'] });
    editeur.vues.length = 0;
    await banc.agregateur.disponibilites(['19000000000'], { debut: SAMEDI });
    assert.deepEqual(
      editeur.vues[0].params.map(([k, v]) => `${k}=${v}`).filter((p) => p.startsWith('_include')),
      ['_include=Slot:schedule', '_include:iterate=Schedule:actor', '_include=Slot:service-type-reference', '_include:iterate=HealthcareService:organization'],
    );
  });

  test('SOS Médecins: GET /Schedule by association SIRET (3 + SIRET), 10 at most per call', async () => {
    await banc.agregateur.editeurs.retirer('r01');
    const sirets = Array.from({ length: 12 }, (_, i) => String(33417374840000 + i));
    await banc.agregateur.editeurs.enregistrer({ id: 'sos', nom: 'Régulation SOS', baseUrl: editeur.url, type: 'SOS', siret: sirets });
    editeur.vues.length = 0;
    const d = await banc.agregateur.disponibilites(sirets, { debut: SAMEDI });
    assert.equal(d.rapports[0].statut, 'ok');
    assert.equal(editeur.vues.length, 2);
    const v = editeur.vues.find((x) => x.params.find(([k]) => k === 'actor:Location.organization.identifier')![1].split(',').length === 10)!;
    assert.equal(v.chemin, '/Schedule');
    assert.deepEqual(
      v.params.filter(([k]) => k !== 'actor:Location.organization.identifier'),
      [
        ['_revinclude', 'Slot:schedule'],
        ['_include', 'Schedule:actor:Location'],
        ['_include:iterate', 'Location:organization'],
        ['_has:Slot:schedule:start', 'ge2026-03-28T11:15:00.000+01:00'],
        ['_has:Slot:schedule:start', 'le2026-03-30T23:59:59.999+02:00'],
        ['_has:Slot:schedule:status', 'free'],
      ],
    );
    assert.match(v.params.find(([k]) => k === 'actor:Location.organization.identifier')![1], /^urn:oid:1\.2\.250\.1\.71\.4\.2\.2\|333417374840000,/);
    await banc.agregateur.editeurs.retirer('sos');
  });

  test('practitioners no vendor lists are not searched, and keep an empty list', async () => {
    editeur.vues.length = 0;
    const d = await banc.agregateur.disponibilites(['19999999999']);
    assert.equal(editeur.vues.length, 0);
    assert.deepEqual([...d.parPraticien], [['19999999999', []]]);
    assert.deepEqual(d.rapports, []);
  });
});

describe('slots merged from simulated vendors', () => {
  let banc: Banc;
  let sims: VendorSim[];
  before(async () => {
    banc = await demarrerAgregateur({ SOCLE_SAS_CACHE_MS: '0' });
    sims = await Promise.all([startVendorSim({ seed: 'un', praticiens: 3 }), startVendorSim({ seed: 'deux', praticiens: 2 }), startVendorSim({ seed: 'sos', praticiens: 0 })]);
    await banc.agregateur.editeurs.enregistrer({ id: 'un', nom: 'Un', baseUrl: sims[0].url, type: 'R01', rpps: sims[0].praticiens.map((p) => p.rpps) });
    await banc.agregateur.editeurs.enregistrer({ id: 'deux', nom: 'Deux', baseUrl: sims[1].url, type: 'R04', rpps: sims[1].praticiens.map((p) => p.rpps) });
    await banc.agregateur.editeurs.enregistrer({ id: 'sos', nom: 'SOS', baseUrl: sims[2].url, type: 'SOS', siret: sims[2].sos.map((s) => s.siret) });
  });
  after(async () => {
    await banc?.close();
    for (const s of sims ?? []) await s.close();
  });

  test('one availability view per practitioner, keyed as asked, with consultation type, slot types, booking URL and place', async () => {
    const rpps = [...sims[0].praticiens, ...sims[1].praticiens].map((p) => p.rpps);
    const demandes = [rpps[0], `8${rpps[1]}`, ...rpps.slice(2)];
    const d = await banc.agregateur.disponibilites(demandes);
    assert.deepEqual(d.rapports.map((r) => [r.editeur, r.statut, r.rejets]).sort(), [['deux', 'ok', []], ['un', 'ok', []]]);
    assert.deepEqual([...d.parPraticien.keys()], demandes);
    const tous = [...d.parPraticien.values()].flat();
    assert.ok(tous.length > 0);
    for (const [cle, creneaux] of d.parPraticien) {
      for (const c of creneaux) {
        assert.equal(c.rpps, cle.length === 12 ? cle : `8${cle}`);
        assert.ok(['cabinet', 'domicile', 'teleconsultation'].includes(c.consultation));
        assert.ok(c.typeCreneau.length > 0 && c.typeCreneau.every((t) => ['PUBLIC', 'PRO', 'SNP', 'CPTS'].includes(t)));
        assert.ok(Date.parse(c.debut) < Date.parse(c.fin) && Date.parse(c.debut) >= Date.now() - 60_000);
        assert.match(c.urlReservation!, /^http:\/\/127\.0\.0\.1:\d+\/reservation\?slot=/);
        assert.match(c.lieu!.adresse!, /\d{5} [A-Z]/);
        assert.ok(typeof c.lieu!.lat === 'number' && typeof c.lieu!.lon === 'number');
      }
      assert.deepEqual(creneaux.map((c) => c.debut), [...creneaux].sort((a, b) => Date.parse(a.debut) - Date.parse(b.debut)).map((c) => c.debut));
    }
    assert.equal(d.rapports.reduce((n, r) => n + r.creneaux, 0), tous.length);
    assert.ok(tous.some((c) => c.editeur === 'deux' && c.typeCreneau.includes('CPTS')), 'the CPTS vendor exposes CPTS slots');
    assert.ok(!tous.some((c) => c.editeur === 'un' && c.typeCreneau.includes('CPTS')), 'the INT_R01 shape carries no CPTS slot type');
  });

  test('SOS Médecins associations by SIRET: the slots of their fixed places', async () => {
    const siret = sims[2].sos[0].siret;
    const d = await banc.agregateur.disponibilites([siret]);
    assert.deepEqual(d.rapports.map((r) => [r.editeur, r.statut, r.rejets]), [['sos', 'ok', []]]);
    const creneaux = d.parPraticien.get(siret)!;
    assert.ok(creneaux.length > 0);
    assert.ok(creneaux.every((c) => c.rpps === `3${siret}` && c.typeCreneau.every((t) => t === 'PUBLIC' || t === 'SNP')));
  });
});

describe('mutual TLS to vendors', () => {
  let banc: Banc;
  let sim: VendorSim;
  let pki: Awaited<ReturnType<typeof ouvrirPki>>;
  before(async () => {
    banc = await demarrerAgregateur({ SOCLE_SAS_CACHE_MS: '0', SOCLE_SAS_RETRIES: '0' });
    pki = await ouvrirPki();
    const serveur = await pki.emettreServeur(['127.0.0.1']);
    sim = await startVendorSim({ seed: 'tls', praticiens: 2, tls: { ...serveur, ca: pki.ca, requestCert: true } });
  });
  after(async () => {
    await banc?.close();
    await sim?.close();
  });

  const chercher = async (clientCert?: { cert: string; key: string; ca?: string }) => {
    await banc.agregateur.editeurs.enregistrer({ id: 'tls', nom: 'Agenda TLS', baseUrl: sim.url, type: 'R01', rpps: sim.praticiens.map((p) => p.rpps), clientCert });
    return banc.agregateur.disponibilites(sim.praticiens.map((p) => p.rpps));
  };

  test('refused without a client certificate the vendor trusts', async () => {
    const sans = await chercher();
    assert.equal(sans.rapports[0].statut, 'erreur');
    const autre = await (await ouvrirPki()).emettreOrganisation('SAS', { identifiant: '313000000000000', nom: 'Autre autorité' });
    const etranger = await chercher({ ...autre, ca: pki.ca });
    assert.equal(etranger.rapports[0].statut, 'erreur');
    assert.equal([...etranger.parPraticien.values()].flat().length, 0);
  });

  test('accepted with the platform certificate of the registry entry, over TLS 1.2 or later', async () => {
    const client = await pki.emettreOrganisation('SAS', { identifiant: '312345678901234', nom: 'Plateforme SAS' });
    const d = await chercher({ ...client, ca: pki.ca });
    assert.equal(d.rapports[0].statut, 'ok', JSON.stringify(d.rapports));
    assert.ok([...d.parPraticien.values()].flat().length > 0);
    const [vue] = await banc.agregateur.editeurs.lister();
    assert.equal('clientCert' in vue, false);
  });
});

describe('failing vendors', () => {
  test('a hanging vendor is cut at the deadline; the others answer', async () => {
    const banc = await demarrerAgregateur({ SOCLE_SAS_DEADLINE_MS: '400', SOCLE_SAS_CACHE_MS: '0' });
    const [pendu, sain] = await Promise.all([startVendorSim({ seed: 'pendu', praticiens: 2, fault: 'hang' }), startVendorSim({ seed: 'sain', praticiens: 2 })]);
    try {
      await banc.agregateur.editeurs.enregistrer({ id: 'pendu', nom: 'Pendu', baseUrl: pendu.url, type: 'R01', rpps: pendu.praticiens.map((p) => p.rpps) });
      await banc.agregateur.editeurs.enregistrer({ id: 'sain', nom: 'Sain', baseUrl: sain.url, type: 'R01', rpps: sain.praticiens.map((p) => p.rpps) });
      const d = await banc.agregateur.disponibilites([...pendu.praticiens, ...sain.praticiens].map((p) => p.rpps));
      const parEditeur = Object.fromEntries(d.rapports.map((r) => [r.editeur, r]));
      assert.equal(parEditeur.pendu.statut, 'timeout');
      assert.ok(parEditeur.pendu.ms >= 400);
      assert.equal(parEditeur.sain.statut, 'ok');
      assert.ok(parEditeur.sain.creneaux > 0);
      assert.equal(d.parPraticien.get(pendu.praticiens[0].rpps)!.length, 0);
    } finally {
      await banc.close();
      await pendu.close();
      await sain.close();
    }
  });

  describe('retries, circuit breaker and cache', () => {
    let banc: Banc;
    let editeur: EditeurScripte;
    const rpps = rppsFictifs(2, 19100000000);
    before(async () => {
      banc = await demarrerAgregateur({ SOCLE_SAS_BREAKER_FAILURES: '2', SOCLE_SAS_BREAKER_COOLDOWN_MS: '300', SOCLE_SAS_RETRIES: '2' });
      editeur = await editeurScripte();
      await banc.agregateur.editeurs.enregistrer({ id: 'fragile', nom: 'Fragile', baseUrl: editeur.url, type: 'R01', rpps });
    });
    after(async () => {
      await banc?.close();
      await editeur?.close();
    });
    // Each test searches its own window, so that no answer comes from the cache unless it means to.
    let jour = 0;
    const chercher = () => banc.agregateur.disponibilites(rpps, { debut: new Date(Date.now() + 86_400_000 * ++jour) });

    test('a 503 is retried within the deadline; a 500 is not', async () => {
      let n = 0;
      editeur.script = (_r, res) => (n++ === 0 ? repondre(res, 503, { resourceType: 'OperationOutcome', issue: [] }) : bundleVide(res));
      editeur.vues.length = 0;
      assert.equal((await chercher()).rapports[0].statut, 'ok');
      assert.equal(editeur.vues.length, 2);
      editeur.script = (_r, res) => repondre(res, 500, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: 'base indisponible' }] });
      editeur.vues.length = 0;
      const d = await chercher();
      assert.equal(d.rapports[0].statut, 'erreur');
      assert.deepEqual(d.rapports[0].rejets, [{ ressource: 'Bundle', raison: 'HTTP 500 : base indisponible' }]);
      assert.equal(editeur.vues.length, 1);
    });

    test('the circuit opens after consecutive failures, lets one trial through after the cool-down, and closes on success', async () => {
      // One failure already counted by the previous test (the 500).
      editeur.vues.length = 0;
      assert.equal((await chercher()).rapports[0].statut, 'erreur');
      const ouvert = await chercher();
      assert.equal(ouvert.rapports[0].statut, 'circuit-ouvert');
      assert.equal(editeur.vues.length, 1, 'an open circuit sends nothing');
      await pause(400);
      assert.equal((await chercher()).rapports[0].statut, 'erreur', 'the half-open trial fails');
      assert.equal((await chercher()).rapports[0].statut, 'circuit-ouvert', 'and the circuit opens again');
      await pause(400);
      editeur.script = (_r, res) => bundleVide(res);
      assert.equal((await chercher()).rapports[0].statut, 'ok');
      assert.equal((await chercher()).rapports[0].statut, 'ok');
    });

    test('the same search within the cache lifetime is answered without calling the vendor', async () => {
      const debut = new Date(Date.now() + 86_400_000 * ++jour);
      editeur.vues.length = 0;
      await banc.agregateur.disponibilites(rpps, { debut });
      await banc.agregateur.disponibilites(rpps, { debut });
      assert.equal(editeur.vues.length, 1);
      await banc.agregateur.disponibilites(rpps, { debut: new Date(debut.getTime() + 1000 * 86_400_000) });
      assert.equal(editeur.vues.length, 2);
    });

    test('an answer that is not a search Bundle is a vendor error, not a failed search', async () => {
      editeur.script = (_r, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
      const d = await chercher();
      assert.equal(d.rapports[0].statut, 'erreur');
      assert.match(d.rapports[0].rejets[0].raison, /text\/html/);
      editeur.script = (_r, res) => repondre(res, 200, { resourceType: 'Bundle', type: 'collection' });
      assert.match((await chercher()).rapports[0].rejets[0].raison, /searchset/);
    });
  });

  test('resources that break the SAS profiles are dropped and reported, the valid slots kept', async () => {
    const banc = await demarrerAgregateur({ SOCLE_SAS_CACHE_MS: '0' });
    const sim = await startVendorSim({ seed: 'invalide', praticiens: 3, fault: 'invalid' });
    try {
      await banc.agregateur.editeurs.enregistrer({ id: 'bancal', nom: 'Bancal', baseUrl: sim.url, type: 'R01', rpps: sim.praticiens.map((p) => p.rpps) });
      const d = await banc.agregateur.disponibilites(sim.praticiens.map((p) => p.rpps));
      const [rapport] = d.rapports;
      assert.equal(rapport.statut, 'ok');
      assert.ok(rapport.rejets.length > 0);
      assert.ok(rapport.rejets.every((r) => r.ressource.startsWith('Slot/') && /end|Slot/.test(r.raison)), JSON.stringify(rapport.rejets.slice(0, 3)));
      const gardes = [...d.parPraticien.values()].flat();
      assert.ok(gardes.length > 0);
      const rejetes = new Set(rapport.rejets.map((r) => `bancal:${r.ressource.slice(5)}`));
      assert.ok(gardes.every((c) => !rejetes.has(c.id) && c.fin));
    } finally {
      await banc.close();
      await sim.close();
    }
  });
});

describe('V3 with a bearer token', () => {
  let banc: Banc;
  before(async () => {
    // A token verifier standing in for the identity module: one system client with the V3 scope, one without.
    const jetons: Record<string, Principal> = {
      'jeton-v3': { kind: 'system', issuer: 'https://idp.example.fr', subject: 'agenda-pro', clientId: 'agenda-pro', scopes: [SCOPE_V3] },
      'jeton-lecture': { kind: 'system', issuer: 'https://idp.example.fr', subject: 'lecteur', clientId: 'lecteur', scopes: ['system/Appointment.read'] },
    };
    banc = await demarrerAgregateur({}, { verifyToken: async (t) => jetons[t] ?? Promise.reject(new Error('jeton inconnu')) });
  });
  after(() => banc?.close());

  const envoyer = (jeton: string, corps: unknown) =>
    fetch(`${banc.url}/sas/fhir/Appointment`, { method: 'POST', headers: { authorization: `Bearer ${jeton}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(corps) });

  test('a system client with system/Appointment.write pushes appointments of either guide version; others are refused', async () => {
    const rdv = {
      resourceType: 'Appointment',
      meta: { profile: ['http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS'] },
      extension: [{ url: 'http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator', valueReference: { identifier: { type: { coding: [{ system: 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203', code: 'INTRN' }] }, system: 'urn:oid:1.2.250.1.213.3.6', value: 'b6e39355-8a61-4556-b340-36f7b95fec6a' } } }],
      identifier: [{ system: 'https://agenda.example.fr', value: 'rdv-42' }],
      status: 'booked',
      start: '2026-09-04T14:00:00+02:00',
      end: '2026-09-04T14:15:00+02:00',
      participant: [{ actor: { identifier: { type: { coding: [{ system: 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203', code: 'IDNPS' }] }, system: 'urn:oid:1.2.250.1.71.4.2.1', value: '810100050075' } }, status: 'accepted' }],
    };
    const cree = await envoyer('jeton-v3', rdv);
    assert.equal(cree.status, 201, await cree.clone().text());
    const stocke = (await cree.json()) as { meta: { profile: string[]; tag: { system: string; code: string }[] } };
    assert.ok(stocke.meta.profile[0].startsWith('http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS'));
    assert.deepEqual(stocke.meta.tag, [{ system: 'urn:socle:sas:editeur', code: 'client:agenda-pro' }]);
    assert.equal((await envoyer('jeton-lecture', rdv)).status, 403);
    assert.equal((await envoyer('inconnu', rdv)).status, 401);
  });
});
