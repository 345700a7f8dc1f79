// `socle ins load-reference` and `socle pki`, run as a user runs them (embedded database and PKI in
// temporary folders, whatever DATABASE_URL says).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const racine = fileURLToPath(new URL('../../', import.meta.url));
const dossier = mkdtempSync(join(tmpdir(), 'socle-ins-cli-'));
const env = { ...process.env, DATABASE_URL: '', SOCLE_DATA_DIR: join(dossier, 'db'), SOCLE_PKI_DIR: join(dossier, 'pki'), LOG_LEVEL: 'silent' };
const socle = (...args: string[]) => spawnSync(process.execPath, ['bin/socle.js', ...args], { cwd: racine, encoding: 'utf8', env });

after(() => rmSync(dossier, { recursive: true, force: true }));

describe('socle ins load-reference', () => {
  test('loads, extends, and refuses another seed unless told to replace', () => {
    const r = socle('ins', 'load-reference', '--count', '1000', '--seed', 'essai', '--batch', '400');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\(graine « essai »\) : 1000 identités, 1000 ajoutées/u);
    const suite = socle('ins', 'load-reference', '--count', '1500', '--seed', 'essai');
    assert.match(suite.stdout, /1500 identités, 500 ajoutées en [\d.]+ s, 1000 déjà présentes/u);
    const autre = socle('ins', 'load-reference', '--count', '10', '--seed', 'autre');
    assert.equal(autre.status, 1);
    assert.match(autre.stderr, /graine « essai » \(1500 identités\).*--replace/u);
    assert.match(socle('ins', 'load-reference', '--count', '10', '--seed', 'autre', '--replace').stdout, /10 identités, 10 ajoutées/u);
    assert.equal(socle('ins', 'load-reference', '--count', 'beaucoup').status, 2);
  });
});

describe('socle pki', () => {
  test('issues an INSi client certificate from the platform CA, the key readable by its owner only', () => {
    const out = join(dossier, 'certs');
    const r = socle('pki', 'issue', 'client', '--cn', 'INSI-MANU', '--structure', '1750712184', '--name', 'Hôpital Saint-Antoine', '--departement', 'Paris (75)', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const cert = new X509Certificate(readFileSync(join(out, 'INSI-MANU.pem')));
    const ca = new X509Certificate(readFileSync(join(out, 'ca.pem')));
    assert.equal(cert.subject, 'C=FR\nST=Paris (75)\nO=Hôpital Saint-Antoine\nOU=1750712184\nCN=INSI-MANU');
    assert.ok(cert.verify(ca.publicKey), 'signed by the platform CA');
    assert.match(ca.subject, /CN=AC SOCLE TEST IGC-SANTE ELEMENTAIRE ORGANISATIONS/u);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(statSync(join(out, 'INSI-MANU.key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dossier, 'pki', 'ca.key.pem')).mode & 0o777, 0o600);
    // The CA is created once: the next certificate comes from the same one.
    assert.equal(socle('pki', 'ca').stdout, readFileSync(join(out, 'ca.pem'), 'utf8'));
  });

  test('issues a server certificate for the names given; refuses incomplete requests', () => {
    const r = socle('pki', 'issue', 'server', '--hosts', 'insi.local,10.0.0.1');
    assert.equal(r.status, 0, r.stderr);
    const cert = new X509Certificate(r.stdout.slice(0, r.stdout.indexOf('-----END CERTIFICATE-----') + 25));
    assert.equal(cert.subjectAltName, 'DNS:insi.local, IP Address:10.0.0.1');
    assert.equal(socle('pki', 'issue', 'client', '--cn', 'INSI-AUTO').status, 2);
    assert.equal(socle('pki', 'issue', 'server').status, 2);
    assert.equal(socle('pki', 'issue', 'client', '--inconnue', 'x').status, 2);
  });
});
