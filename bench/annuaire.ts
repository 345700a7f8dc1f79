// Annuaire Santé benchmark: generates (or reuses) synthetic RPPS and FINESS extracts in the public
// layouts, imports them through the FHIR core as `socle import` does (time, lines/s, peak RSS), then
// measures the Annuaire's directory queries over HTTP on 127.0.0.1 (p50/p95).
//
//   npm run bench:annuaire -- [--professionals 20000] [--structures N] [--db pglite|postgres|both]
//                             [--runs 100] [--seed bench] [--dir DIR] [--keep]
//
// National scale: --professionals 1200000 --structures 100000 (≈ 2 M activity lines). Extracts are
// written to DIR (default: a folder of the system's temporary directory named after seed and size) and
// reused when present. --db postgres needs DATABASE_URL (a fresh database, dropped unless --keep).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { positiveInt } from './support.ts';
import { loadConfig, vendoredPackages } from '../src/config.ts';
import { withPgClient } from '../src/db/postgres.ts';
import { createPlatform } from '../src/server.ts';
import { genererExtraits } from '../src/referentiels/annuaire/generateur.ts';
import { importerFiness } from '../src/referentiels/annuaire/import-finess.ts';
import { importerRpps } from '../src/referentiels/annuaire/import-rpps.ts';
import { detecterEncodage, lireLignes } from '../src/referentiels/annuaire/lignes.ts';
import { lecteurActivite, type LigneActivite } from '../src/referentiels/annuaire/rpps.ts';
import type { Bilan } from '../src/referentiels/annuaire/ecriture.ts';

const { values: args } = parseArgs({
  options: {
    professionals: { type: 'string', default: '20000' },
    structures: { type: 'string' },
    db: { type: 'string' },
    runs: { type: 'string', default: '100' },
    seed: { type: 'string', default: 'bench' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const PROFESSIONNELS = positiveInt(args.professionals, '--professionals');
const STRUCTURES = args.structures ? positiveInt(args.structures, '--structures') : Math.max(10, Math.round(PROFESSIONNELS / 12));
const RUNS = positiveInt(args.runs, '--runs');
const DATABASE_URL = process.env.DATABASE_URL || undefined;
const choix = args.db ?? (DATABASE_URL ? 'both' : 'pglite');
if (!['pglite', 'postgres', 'both'].includes(choix)) throw new Error(`--db must be pglite, postgres or both, got "${choix}"`);
if (choix !== 'pglite' && !DATABASE_URL) throw new Error(`--db ${choix} needs DATABASE_URL`);
const BASES = (choix === 'both' ? ['pglite', 'postgres'] : [choix]) as ('pglite' | 'postgres')[];

const dossier = args.dir ?? join(tmpdir(), `socle-bench-annuaire-${args.seed}-${PROFESSIONNELS}-${STRUCTURES}`);
const h = '202601150830';
const fichiers = {
  activite: join(dossier, `PS_LibreAcces_Personne_activite_${h}.txt`),
  savoirFaire: join(dossier, `PS_LibreAcces_SavoirFaire_${h}.txt`),
  diplomes: join(dossier, `PS_LibreAcces_Dipl_AutExerc_${h}.txt`),
  finess: join(dossier, `etalab-cs1100507-stock-${h.slice(0, 8)}-${h.slice(8)}.csv`),
};
if (!Object.values(fichiers).every((f) => existsSync(f))) {
  const t = performance.now();
  await genererExtraits({ dossier, graine: args.seed!, professionnels: PROFESSIONNELS, structures: STRUCTURES, horodatage: h });
  console.log(`generated ${PROFESSIONNELS} professionals, ${STRUCTURES} structures in ${((performance.now() - t) / 1000).toFixed(1)} s → ${dossier}`);
} else console.log(`reusing extracts in ${dossier}`);

/** Query targets read from the extract itself, spread over the file. */
async function cibles(): Promise<LigneActivite[]> {
  const out: LigneActivite[] = [];
  let lire: ((t: string, n: number) => LigneActivite) | undefined;
  const pas = Math.max(1, Math.floor(PROFESSIONNELS / 300));
  for await (const { numero, texte } of lireLignes(fichiers.activite, await detecterEncodage(fichiers.activite))) {
    if (numero === 1) lire = lecteurActivite(texte, fichiers.activite);
    else if (numero % pas === 0 && texte) out.push(lire!(texte, numero));
  }
  return out;
}

function p(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function mesurer(nom: string, urls: string[]): Promise<void> {
  const durees: number[] = [];
  let entrees = 0;
  for (let i = 0; i < RUNS + 10; i++) {
    const url = urls[i % urls.length]!;
    const t = performance.now();
    const r = await fetch(url);
    const b = (await r.json()) as { entry?: unknown[] };
    if (r.status !== 200) throw new Error(`${url}: ${r.status} ${JSON.stringify(b).slice(0, 300)}`);
    if (i >= 10) durees.push(performance.now() - t), (entrees += b.entry?.length ?? 0);
  }
  console.log(`  ${nom.padEnd(84)} p50 ${p(durees, 0.5).toFixed(1).padStart(7)} ms  p95 ${p(durees, 0.95).toFixed(1).padStart(7)} ms  (${(entrees / RUNS).toFixed(1)} entries)`);
}

const ligneBilan = (nom: string, b: Bilan) =>
  `  import ${nom.padEnd(7)} ${String(b.lignes).padStart(9)} lines in ${b.secondes.toFixed(1).padStart(7)} s = ${String(b.lignesParSeconde).padStart(6)} lines/s; created ${b.crees}, rejected ${b.rejetes}`;

const lignes = await cibles();
for (const base of BASES) {
  let dataDir = '';
  let databaseUrl: string | undefined;
  let dbName: string | undefined;
  if (base === 'pglite') dataDir = mkdtempSync(join(tmpdir(), 'socle-bench-annuaire-db-'));
  else {
    dbName = `socle_bench_annuaire_${randomBytes(4).toString('hex')}`;
    await withPgClient(DATABASE_URL!, (c) => c.query(`CREATE DATABASE ${dbName}`));
    const u = new URL(DATABASE_URL!);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, databaseUrl, logLevel: 'silent', demo: false, authRequired: false, fhirPackages: vendoredPackages() });
  const platform = await createPlatform(config);
  try {
    console.log(`\n${base}: ${PROFESSIONNELS} professionals, ${STRUCTURES} structures`);
    let pic = process.memoryUsage().rss;
    const sonde = setInterval(() => (pic = Math.max(pic, process.memoryUsage().rss)), 500);
    const finess = await importerFiness(platform.fhir, fichiers.finess);
    console.log(ligneBilan('finess', finess));
    const rpps = await importerRpps(platform.fhir, { activite: fichiers.activite, savoirFaire: fichiers.savoirFaire, diplomes: fichiers.diplomes });
    clearInterval(sonde);
    console.log(ligneBilan('rpps', rpps));
    const ressources = rpps.crees + finess.crees;
    console.log(`  ${ressources} resources written at ${Math.round(ressources / (rpps.secondes + finess.secondes))} resources/s; peak RSS ${Math.round(pic / 1048576)} MiB`);
    const t = performance.now();
    const again = await importerRpps(platform.fhir, { activite: fichiers.activite, savoirFaire: fichiers.savoirFaire, diplomes: fichiers.diplomes });
    console.log(`  re-import (unchanged ${again.inchanges}, created ${again.crees}, updated ${again.modifies}) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    await platform.app.listen({ port: 0, host: '127.0.0.1' });
    const adresse = platform.app.server.address();
    const fhir = `http://127.0.0.1:${typeof adresse === 'object' && adresse ? adresse.port : 0}/fhir`;
    const rppsIds = lignes.filter((l) => l.typeId === '8');
    await mesurer('Practitioner?identifier=<RPPS>', rppsIds.map((l) => `${fhir}/Practitioner?identifier=https://rpps.esante.gouv.fr|${l.id}`));
    await mesurer('Practitioner?name=<3-letter prefix>', lignes.map((l) => `${fhir}/Practitioner?name=${encodeURIComponent(l.nom.slice(0, 3))}&_count=50`));
    const specialistes = lignes.filter((l) => l.savoirFaire);
    // Specialty (savoir-faire of the practitioner) and commune (of the structure), both chained.
    await mesurer('PractitionerRole?practitioner.qualification-code=<SM>&organization.address-city=<c>', specialistes.map((l) => `${fhir}/PractitionerRole?practitioner.qualification-code=${l.savoirFaire}&organization.address-city=${encodeURIComponent(l.libelleCommune)}`));
    await mesurer('PractitionerRole?organization.address-postalcode=<cp>&_include=PractitionerRole:organization', lignes.map((l) => `${fhir}/PractitionerRole?organization.address-postalcode=${l.codePostal}&_include=PractitionerRole:organization&_count=20`));
  } finally {
    await platform.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (dbName && !args.keep) await withPgClient(DATABASE_URL!, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  }
}
