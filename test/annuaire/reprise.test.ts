// An import interrupted after its first committed batch resumes there when run again, and ends in the
// same state as an uninterrupted import; the command line reports what it did.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { vendoredPackages } from '../../src/config.ts';
import { genererExtraits } from '../../src/referentiels/annuaire/generateur.ts';
import { importerRpps } from '../../src/referentiels/annuaire/import-rpps.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const racine = fileURLToPath(new URL('../../', import.meta.url));
const dossier = mkdtempSync(join(tmpdir(), 'socle-annuaire-reprise-'));
let interrompu: TestServer;
let temoin: TestServer;
let fichiers: Awaited<ReturnType<typeof genererExtraits>>;

before(async () => {
  fichiers = await genererExtraits({ dossier: join(dossier, 'extrait'), graine: 'reprise', professionnels: 40, structures: 8, departements: ['01'] });
  [interrompu, temoin] = await Promise.all([startTestServer({ fhirPackages: vendoredPackages() }), startTestServer({ fhirPackages: vendoredPackages() })]);
});
after(async () => {
  await Promise.all([interrompu?.close(), temoin?.close()]);
  rmSync(dossier, { recursive: true, force: true });
});

/** Every resource of the directory types as a client reads it, without the write timestamps. */
async function etat(server: TestServer): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const type of ['Practitioner', 'PractitionerRole', 'Organization']) {
    const b = (await (await fetch(`${server.fhirUrl}/${type}?_count=1000&_sort=_id`)).json()) as Bundle;
    for (const e of b.entry ?? []) {
      const { meta, ...r } = e.resource as Resource;
      out.push({ ...r, versionId: meta?.versionId });
    }
  }
  return out;
}

describe('resumable RPPS import', () => {
  test('a crash after the first batch, then the same command: same end state as an uninterrupted import', async () => {
    const rpps = { activite: fichiers.activite, savoirFaire: fichiers.savoirFaire, diplomes: fichiers.diplomes };
    const crash = new Error('process killed');
    await assert.rejects(
      importerRpps(interrompu.platform.fhir, rpps, {
        lot: 10,
        surProgression: () => {
          throw crash;
        },
      }),
      crash,
    );
    const repris = await importerRpps(interrompu.platform.fhir, rpps, { lot: 10 });
    assert.ok(repris.reprisApres > 1, `resumed after line ${repris.reprisApres}`);
    const entier = await importerRpps(temoin.platform.fhir, rpps, { lot: 10 });
    assert.equal(entier.reprisApres, 0);
    // The counters of the resumed run cover the whole file.
    assert.deepEqual([repris.lignes, repris.crees, repris.modifies, repris.desactives], [entier.lignes, entier.crees, entier.modifies, entier.desactives]);
    assert.deepEqual(await etat(interrompu), await etat(temoin));
    assert.ok(entier.crees > 40);
  });
});

describe('socle import (command line)', () => {
  const env = { ...process.env, DATABASE_URL: '', SOCLE_DATA_DIR: join(dossier, 'db'), SOCLE_PKI_DIR: join(dossier, 'pki'), LOG_LEVEL: 'silent', SOCLE_DEMO: 'false' };
  const socle = (...args: string[]) => spawnSync(process.execPath, ['bin/socle.js', ...args], { cwd: racine, encoding: 'utf8', env });

  test('imports a FINESS extract and prints its summary; bad arguments and bad files are refused clearly', () => {
    const r = socle('import', 'finess', fichiers.finess);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Import finess \(run \d+\) : 16 lignes en [\d.]+ s \(\d+ lignes\/s\)\n {2}créées 11, modifiées 0, inchangées \d+, désactivées 0, rejetées 0$/mu);
    assert.equal(socle('import', 'ror', fichiers.finess).status, 2);
    const absent = socle('import', 'rpps', join(dossier, 'absent.txt'));
    assert.equal(absent.status, 1);
    assert.match(absent.stderr, /fichier introuvable « .*absent\.txt »/u);
    const sansColonne = join(dossier, 'PS_LibreAcces_Personne_activite_202601010000.txt');
    writeFileSync(sansColonne, "Type d'identifiant PP|Identifiant PP|Nom d'exercice|\n8|10001045367|DUPONT|\n");
    const mauvais = socle('import', 'rpps', sansColonne);
    assert.equal(mauvais.status, 1);
    assert.match(mauvais.stderr, /colonne\(s\) obligatoire\(s\) absente\(s\) de l'en-tête : « Identification nationale PP », « Code profession »/u);
    const pasFiness = socle('import', 'finess', sansColonne);
    assert.equal(pasFiness.status, 1);
    assert.match(pasFiness.stderr, /ce n'est pas un extrait FINESS etalab/u);
  });
});
