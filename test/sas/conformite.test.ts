// The vendor conformance checker (socle sas check): passes on the reference vendor, fails with precise reasons on broken ones.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startVendorSim, type VendorSim } from '../../src/services/sas/editeur/index.ts';
import { PAQUET_SAS_KIT, verifierEditeur, formaterRapport, type RapportConformite } from '../../src/services/sas/conformite/index.ts';
import { Validator } from '../../src/fhir/validation/index.ts';
import { ouvrirPki } from '../../src/pki/pki.ts';

let validateur: Validator;
before(async () => { validateur = await Validator.create([PAQUET_SAS_KIT]); });

const ligne = (r: RapportConformite, groupe: string, id: string) => {
  const v = r.verifications.find((x) => x.groupe.startsWith(groupe) && x.id === id);
  assert.ok(v, `no check ${groupe} / ${id}`);
  return v;
};

/** Runs the CLI; resolves with its exit code and output. */
function socle(args: string[]): Promise<{ code: number; sortie: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/socle.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let sortie = '';
    p.stdout.on('data', (m) => { sortie += m; });
    p.stderr.on('data', (m) => { sortie += m; });
    p.on('close', (code) => resolve({ code: code ?? -1, sortie }));
  });
}

describe('conformance checker on the reference vendor', () => {
  let sim: VendorSim;
  before(async () => { sim = await startVendorSim({ seed: 'conformite' }); });
  after(() => sim?.close());

  test('every check of the kit passes, practitioners and SOS associations found by the server listing', async () => {
    const r = await verifierEditeur({ base: sim.url, validateur, declares: { typesCreneau: ['PUBLIC', 'PRO', 'SNP'], typesConsultation: ['AMB', 'HH', 'VR'] } });
    assert.deepEqual(r.verifications.filter((v) => v.statut !== 'PASS').map((v) => v.id), ['tls'], 'only TLS is skipped over http');
    assert.equal(r.succes, true);
    for (const [g, id] of [['Agrégation PS (INT_R01)', 'validation'], ['Agrégation PS multi-lieux', 'cardinalite'], ['Agrégation plusieurs PS', 'cardinalite'],
      ['Agrégation CPTS', 'references'], ['Agrégation CPTS', 'type-cpts'], ['Agrégation options déclarées', 'types-consultation'], ['Agrégation SOS', 'validation'], ['Flux V1', 'reattribution'], ['Flux V2', 'sans-origine']]) {
      assert.equal(ligne(r, g, id).statut, 'PASS', `${g} ${id}`);
    }
    assert.equal(r.cibles?.simple, `8${sim.praticiens[0].rpps}`);
    assert.match(formaterRapport(r), /\n {2}PASS {2}validation/);
    assert.match(formaterRapport(r), /0 FAIL/);
  });

  test('the CLI exits 0 and prints one line per check', async () => {
    const texte = await socle(['sas', 'check', sim.url, '--sans-v1', '--rpps', sim.praticiens.slice(0, 4).map((p) => p.rpps).join(',')]);
    assert.equal(texte.code, 0, texte.sortie);
    assert.match(texte.sortie, /PASS {2}lien-self/);
    assert.match(texte.sortie, /CONFORME/);
  });
});

describe('conformance checker on broken vendors', () => {
  test('invalid resources: precise failures on meta.profile, validation, dates and total', async () => {
    const sim = await startVendorSim({ fault: 'invalid', seed: 'conformite' });
    try {
      const r = await verifierEditeur({ base: sim.url, validateur, v1: false, declares: { typesCreneau: ['PUBLIC', 'PRO', 'SNP', 'PRIVATE'] } });
      assert.equal(r.succes, false);
      assert.equal(ligne(r, 'Agrégation options déclarées', 'types-creneau').raison, 'declared but never returned: PRIVATE');
      const g = 'Agrégation PS (INT_R01)';
      assert.match(ligne(r, g, 'meta-profile').raison!, /entry\[0\] Slot\/\S+: meta\.profile is missing/);
      assert.match(ligne(r, g, 'validation').raison!, /Slot\/\S+ Slot\.end: .*required/);
      assert.match(ligne(r, g, 'dates').raison!, /Slot\/\S+ Slot\.start "[^"]+Z" is not YYYY-MM-DDThh:mm:ss\.SSS±hh:mm/);
      assert.match(ligne(r, g, 'total').raison!, /^Bundle\.total is (\d+) but the Bundle has \d+ Slot resources$/);
      assert.equal(ligne(r, g, 'lien-self').statut, 'PASS');
      assert.equal(ligne(r, g, 'references').statut, 'PASS');
      const cli = await socle(['sas', 'check', sim.url, '--sans-v1', '--json']);
      assert.equal(cli.code, 1);
      const rapport = JSON.parse(cli.sortie);
      assert.equal(rapport.succes, false);
      assert.match(rapport.verifications.find((v: any) => v.id === 'total').raison, /^Bundle\.total is \d+ but the Bundle has \d+ Slot resources$/);
    } finally {
      await sim.close();
    }
  });

  test('HTTP 500: the searches fail with the status and the diagnostics', async () => {
    const sim = await startVendorSim({ fault: 'http-500' });
    try {
      const r = await verifierEditeur({ base: sim.url, validateur, v1: false, rpps: sim.praticiens.slice(0, 4).map((p) => p.rpps) });
      assert.equal(r.succes, false);
      assert.equal(ligne(r, 'Agrégation PS (INT_R01)', 'reponse').raison, 'HTTP 500 (expected 200): simulated internal error (fault http-500)');
      assert.equal(ligne(r, 'Agrégation cas limites', 'ps-inconnu').raison, 'HTTP 500 (expected 200): simulated internal error (fault http-500)');
      assert.equal(ligne(r, 'CapabilityStatement', 'metadata').statut, 'WARN', 'metadata is optional in the kit');
    } finally {
      await sim.close();
    }
  });

  test('a slow vendor fails the 1 s performance check only', async () => {
    const sim = await startVendorSim({ fault: 'slow', praticiens: 4 });
    try {
      const r = await verifierEditeur({ base: sim.url, validateur, v1: false, rpps: [sim.praticiens[0].rpps], sos: [sim.sos[0].siret] });
      const echecs = r.verifications.filter((v) => v.statut === 'FAIL');
      assert.ok(echecs.length > 0);
      assert.ok(echecs.every((v) => v.id === 'performance'), JSON.stringify(echecs));
      assert.match(echecs[0].raison!, /answered in \d+ ms \(limit 1000 ms\)/);
    } finally {
      await sim.close();
    }
  });

  test('a vendor that accepts every regulator account fails the V1 checks, naming the bodies it accepted', async () => {
    const laxiste = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(req.method === 'POST' ? 201 : req.method === 'PUT' ? 200 : 404, { 'Content-Type': 'application/fhir+json', Location: '/Practitioner/1' });
        res.end('{"resourceType":"Practitioner"}');
      });
    });
    await new Promise<void>((r) => laxiste.listen(0, '127.0.0.1', r));
    try {
      const r = await verifierEditeur({ base: `http://127.0.0.1:${(laxiste.address() as AddressInfo).port}`, validateur, rpps: ['10101215225'] });
      assert.equal(ligne(r, 'Flux V1', 'creation-idnps').statut, 'PASS');
      assert.equal(ligne(r, 'Flux V1', 'creation-doublon').raison, 'HTTP 201 (expected 4xx or 5xx for the duplicate)');
      assert.match(ligne(r, 'Flux V1', 'creation-invalide').raison!, /^accepted: without identifier → HTTP 201; without name → HTTP 201; .*telecom\.system phone → HTTP 201/);
      assert.equal(ligne(r, 'Agrégation PS (INT_R01)', 'reponse').raison, 'HTTP 404 (expected 200)');
    } finally {
      await new Promise((r) => laxiste.close(r));
    }
  });

  test('usage errors exit 2', async () => {
    assert.equal((await socle(['sas', 'check'])).code, 2);
    assert.equal((await socle(['sas', 'check', 'pas-une-url'])).code, 2);
    assert.equal((await socle(['sas', 'inconnue'])).code, 2);
    assert.equal((await socle(['sas', 'vendor-sim', '--fault', 'panne'])).code, 1);
  });
});

describe('conformance checker over mutual TLS', () => {
  test('passes the security checks on the TLS simulator, and fails a server that needs no client certificate', async () => {
    const pki = await ouvrirPki();
    const serveur = { ...(await pki.emettreServeur(['127.0.0.1'])), ca: pki.ca };
    const identite = await pki.emettreOrganisation('SAS', { identifiant: '3' + '1'.repeat(14), nom: 'PLATEFORME SAS' });
    const strict = await startVendorSim({ praticiens: 4, tls: serveur });
    const laxiste = await startVendorSim({ praticiens: 4, tls: { ...serveur, requestCert: false } });
    try {
      const ok = await verifierEditeur({ base: strict.url, validateur, v1: false, identite, ca: pki.ca });
      for (const id of ['tls-version', 'mtls-valide', 'mtls-sans-certificat', 'mtls-autorite-inconnue']) {
        assert.equal(ligne(ok, 'Sécurité', id).statut, 'PASS', `${id}: ${ligne(ok, 'Sécurité', id).raison}`);
      }
      assert.equal(ok.succes, true, formaterRapport(ok));
      const ko = await verifierEditeur({ base: laxiste.url, validateur, v1: false, identite, ca: pki.ca });
      assert.equal(ligne(ko, 'Sécurité', 'mtls-sans-certificat').statut, 'FAIL');
      assert.match(ligne(ko, 'Sécurité', 'mtls-sans-certificat').raison!, /HTTP 200: the server answered without a client certificate/);
    } finally {
      await strict.close();
      await laxiste.close();
    }
  });
});
