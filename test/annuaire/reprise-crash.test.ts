// A real crash: `socle import rpps` runs as a child process on an on-disk database (the embedded one in a
// temporary folder, or a fresh PostgreSQL database when DATABASE_URL is set), is SIGKILLed once some of
// its batches are committed, and the same command is run again. It must resume after the last committed
// batch (its summary says after which line, under the same run, the only one recorded), end with the counts
// of an uninterrupted import of the same file, and leave no duplicate.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Queryable } from '../../src/db/index.ts';
import { withPgClient } from '../../src/db/postgres.ts';
import { genererExtraits } from '../../src/referentiels/annuaire/generateur.ts';
import { importerRpps } from '../../src/referentiels/annuaire/import-rpps.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const racine = fileURLToPath(new URL('../../', import.meta.url));
const dossier = mkdtempSync(join(tmpdir(), 'socle-annuaire-crash-'));
const adminUrl = process.env.DATABASE_URL;
const LOT = 20;
let base: { databaseUrl?: string; dataDir?: string; nom?: string };
let temoin: TestServer;
let fichiers: Awaited<ReturnType<typeof genererExtraits>>;

before(async () => {
  // Big enough for the kill to land mid-import: about 800 lines, some 25 batches.
  fichiers = await genererExtraits({ dossier: join(dossier, 'extrait'), graine: 'crash', professionnels: 500, structures: 30, departements: ['01'] });
  if (adminUrl) {
    const nom = `socle_test_${randomBytes(6).toString('hex')}`;
    await withPgClient(adminUrl, (c) => c.query(`CREATE DATABASE ${nom}`));
    const url = new URL(adminUrl);
    url.pathname = `/${nom}`;
    base = { databaseUrl: url.toString(), nom };
  } else base = { dataDir: join(dossier, 'db') };
  temoin = await startTestServer();
});
after(async () => {
  await temoin?.close();
  if (adminUrl && base?.nom) await withPgClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${base.nom} WITH (FORCE)`));
  rmSync(dossier, { recursive: true, force: true });
});

interface Fin {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `socle import rpps` on the extract. `tuer`: SIGKILL it once batches are committed, as seen in its run
 * (PostgreSQL, polled from here: past line 150) or, for the embedded database that only one process may
 * open, in its progress output (written after a batch is committed).
 */
function importer(tuer = false): Promise<Fin> {
  const env = {
    ...process.env,
    DATABASE_URL: base.databaseUrl ?? '',
    SOCLE_DATA_DIR: base.dataDir ?? join(dossier, 'inutilisee'),
    SOCLE_PKI_DIR: join(dossier, 'pki'),
    SOCLE_FHIR_PACKAGES: 'none',
    SOCLE_DEMO: 'false',
    LOG_LEVEL: 'silent',
  };
  const enfant = spawn(process.execPath, ['bin/socle.js', 'import', 'rpps', join(dossier, 'extrait'), '--batch', String(LOT)], { cwd: racine, env });
  let stdout = '';
  let stderr = '';
  enfant.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  enfant.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (tuer && !base.databaseUrl && /[1-9]\d* lignes \(/u.test(stderr)) enfant.kill('SIGKILL');
  });
  const sonde =
    tuer && base.databaseUrl
      ? setInterval(() => {
          withPgClient(base.databaseUrl!, (c) => c.query<{ n: string | null }>(`SELECT max(last_line) AS n FROM annuaire_import_run WHERE status = 'running'`))
            .then(({ rows }) => Number(rows[0]?.n ?? 0) > 150 && enfant.kill('SIGKILL'))
            .catch(() => undefined); // its tables are not created yet
        }, 100)
      : undefined;
  return new Promise((resolve) =>
    enfant.on('close', (code, signal) => {
      clearInterval(sonde);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

/** What the import left: resources per type, versions, identifiers held by more than one resource, runs. */
async function etat(db: Queryable) {
  const compte = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
  const types = ['Practitioner', 'PractitionerRole', 'Organization'];
  const ressources = Object.fromEntries(await Promise.all(types.map(async (t) => [t, await compte(`SELECT count(*) AS n FROM "${t}"`)])));
  const versions = Object.fromEntries(await Promise.all(types.map(async (t) => [t, await compte(`SELECT count(*) AS n FROM "${t}_History"`)])));
  const doublons: Record<string, number> = {};
  for (const t of types) {
    doublons[t] = await compte(
      // A SIREN names the legal unit, which several sites share.
      `SELECT count(*) AS n FROM (SELECT i->>'system', i->>'value' FROM "${t}" r, jsonb_array_elements(r.content::jsonb->'identifier') i
        WHERE i->'type'->'coding'->0->>'code' IS DISTINCT FROM 'SIREN' GROUP BY 1, 2 HAVING count(DISTINCT r.id) > 1) d`,
    );
  }
  const { rows: runs } = await db.query<{ id: string; status: string; last_line: string }>(`SELECT id, status, last_line FROM annuaire_import_run WHERE source = 'rpps' ORDER BY id`);
  return { ressources, versions, doublons, runs: runs.map((r) => ({ id: Number(r.id), status: r.status, derniereLigne: Number(r.last_line) })) };
}

async function lireBase<T>(fn: (db: Queryable) => Promise<T>): Promise<T> {
  const db = await openDatabase({ databaseUrl: base.databaseUrl, dataDir: base.dataDir });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const RESUME = /^Import rpps \(run (\d+)(?:, repris après la ligne (\d+))?\) : (\d+) lignes en [\d.]+ s \(\d+ lignes\/s\)\n {2}créées (\d+), modifiées (\d+), inchangées (\d+), désactivées (\d+), rejetées (\d+)$/mu;

describe('RPPS import killed mid-way (child process, SIGKILL)', () => {
  test('the same command resumes after the last committed batch and ends as an uninterrupted import', async () => {
    const rpps = { activite: fichiers.activite, savoirFaire: fichiers.savoirFaire, diplomes: fichiers.diplomes };
    // The uninterrupted import of the same file, in-process, while the child runs.
    const [tue, entier] = await Promise.all([importer(true), importerRpps(temoin.platform.fhir, rpps, { lot: LOT })]);
    assert.equal(tue.signal, 'SIGKILL', `${tue.stdout}\n${tue.stderr}`);
    assert.equal(tue.stdout, '', 'killed before its summary');

    // Killed mid-import: its run is recorded as running, some batches committed, lines left to read.
    const avant = await lireBase(etat);
    assert.equal(avant.runs.length, 1);
    const [run] = avant.runs;
    assert.equal(run!.status, 'running');
    assert.ok(run!.derniereLigne > 1 && run!.derniereLigne < entier.lignes, `killed at line ${run!.derniereLigne} of ${entier.lignes + 1}`);
    assert.ok(avant.ressources.Practitioner! > 0 && avant.ressources.Practitioner! < (await etat(temoin.platform.db)).ressources.Practitioner!);

    const repris = await importer();
    assert.equal(repris.code, 0, repris.stderr);
    const [, runId, reprisApres, lignes, crees, modifies, inchanges, desactives, rejetes] = RESUME.exec(repris.stdout) ?? assert.fail(repris.stdout);
    // Resumed, not restarted: the same run, reading on after the last line its committed batches reached.
    assert.equal(Number(runId), run!.id);
    assert.equal(Number(reprisApres), run!.derniereLigne);
    // The run's counters cover the whole file, as those of the uninterrupted import.
    assert.deepEqual(
      [lignes, crees, modifies, inchanges, desactives, rejetes].map(Number),
      [entier.lignes, entier.crees, entier.modifies, entier.inchanges, entier.desactives, entier.rejetes],
    );

    const apres = await lireBase(etat);
    const reference = await etat(temoin.platform.db);
    assert.deepEqual(apres.ressources, reference.ressources);
    assert.deepEqual(apres.versions, reference.versions, 'no resource written twice');
    assert.deepEqual(apres.doublons, { Practitioner: 0, PractitionerRole: 0, Organization: 0 });
    assert.deepEqual(apres.runs, [{ id: run!.id, status: 'done', derniereLigne: reference.runs[0]!.derniereLigne }]);
  });
});
