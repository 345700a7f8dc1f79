// Full-text and _filter search benchmark: loads synthetic Patients with a narrative through the bulk
// path (createResources), then prints the load rate, the share of it spent on the full-text index
// (folding the text in JS, building the tsvectors in SQL), the size of sp_text, and the median and p95
// latencies of typical _content, _text and _filter searches with their total (in process, no HTTP).
//
//   node --import tsx bench/search-text.ts [--patients 20000] [--runs 50] [--seed 7]
//
// PGlite in memory by default; with DATABASE_URL, a fresh PostgreSQL database (dropped at the end).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Patient } from '@medplum/fhirtypes';
import { positiveInt, prng } from './support.ts';
import { loadConfig } from '../src/config.ts';
import { withPgClient } from '../src/db/postgres.ts';
import { createResources } from '../src/fhir/repository.ts';
import { textRows } from '../src/fhir/search/text.ts';
import { NOMS_NAISSANCE, PRENOMS_FEMININS, PRENOMS_MASCULINS } from '../src/referentiels/ins/data/noms.ts';
import { createPlatform } from '../src/server.ts';

const { values: args } = parseArgs({ options: { patients: { type: 'string', default: '20000' }, runs: { type: 'string', default: '50' }, seed: { type: 'string', default: '7' } } });
const N = positiveInt(args.patients, '--patients');
const RUNS = positiveInt(args.runs, '--runs');
const rnd = prng(positiveInt(args.seed, '--seed'));
const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

const MOTIFS = ['insuffisance cardiaque', 'diabète de type 2', 'asthme sévère', 'bronchopneumopathie chronique', 'hypertension artérielle', 'fracture du col du fémur', 'insuffisance rénale chronique', 'cœur pulmonaire'];
const VILLES = ['Paris', 'Lyon', 'Marseille', 'Saint-Étienne', 'Lille', 'Rennes', 'Nantes', 'Besançon'];

function patient(i: number): Patient {
  const female = rnd() < 0.5;
  const given = pick(female ? PRENOMS_FEMININS : PRENOMS_MASCULINS);
  const family = pick(NOMS_NAISSANCE);
  const city = pick(VILLES);
  const motif = pick(MOTIFS);
  const year = 1930 + Math.floor(rnd() * 90);
  return {
    resourceType: 'Patient',
    id: `bt-${i}`,
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${given} ${family}, suivi(e) à ${city} pour ${motif}.</p></div>` },
    name: [{ family, given: [given] }],
    gender: female ? 'female' : 'male',
    birthDate: `${year}-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 9)}`,
    address: [{ city, line: [`${1 + Math.floor(rnd() * 120)} rue de la République`] }],
  };
}

const adminUrl = process.env.DATABASE_URL;
const dbName = adminUrl ? `socle_bench_text_${randomBytes(4).toString('hex')}` : undefined;
let databaseUrl: string | undefined;
if (adminUrl && dbName) {
  await withPgClient(adminUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  databaseUrl = url.toString();
}
process.env.SOCLE_NOMENCLATURES = 'false';
const platform = await createPlatform(loadConfig({}, { port: 0, dataDir: '', databaseUrl, logLevel: 'silent', demo: false, authRequired: false, fhirPackages: [] }));
try {
  const resources = Array.from({ length: N }, (_, i) => patient(i));
  let started = performance.now();
  for (let i = 0; i < N; i += 1000) await platform.db.transaction((tx) => createResources(tx, resources.slice(i, i + 1000), { changeLog: false }));
  const loadMs = performance.now() - started;

  started = performance.now();
  const rows = resources.flatMap(textRows);
  const foldMs = performance.now() - started;
  started = performance.now();
  await platform.db.query(
    `SELECT count(*) FROM (SELECT setweight(to_tsvector('simple', n), 'A') || to_tsvector('simple', c) FROM unnest($1::text[], $2::text[]) AS u(n, c)) v`,
    [rows.map((r) => r.narrative), rows.map((r) => r.content)],
  );
  const tsvectorMs = performance.now() - started;
  const size = (await platform.db.query<{ table: string; index: string }>(`SELECT pg_size_pretty(pg_table_size('sp_text')) AS table, pg_size_pretty(pg_indexes_size('sp_text')) AS index`)).rows[0];

  console.log(`${platform.db.kind}: ${N} Patients loaded in ${(loadMs / 1000).toFixed(1)} s (${Math.round(N / (loadMs / 1000))} resources/s)`);
  console.log(`  full-text share of the load: folding in JS ${foldMs.toFixed(0)} ms, tsvectors in SQL ${tsvectorMs.toFixed(0)} ms (${(((foldMs + tsvectorMs) / loadMs) * 100).toFixed(0)} %)`);
  console.log(`  sp_text: table ${size.table}, indexes ${size.index}`);

  const searches: [string, Record<string, string>][] = [
    ['_content, one word', { _content: 'besancon', _count: '20' }],
    ['_content, two words', { _content: 'lyon asthme', _count: '20' }],
    ['_text, phrase', { _text: '"insuffisance renale"', _count: '20' }],
    ['_content OR', { _content: 'coeur OR diabete', _count: '20' }],
    ['_filter or/and', { _filter: '(gender eq female and birthdate lt 1950) or family eq "martin"', _count: '20' }],
    ['_filter co + not', { _filter: 'name co "ann" and not(address-city eq paris)', _count: '20' }],
  ];
  for (const [label, query] of searches) {
    const times: number[] = [];
    let matches = 0;
    for (let r = 0; r < RUNS + 5; r++) {
      const t = performance.now();
      const result = await platform.fhir.search('Patient', query);
      if (r >= 5) times.push(performance.now() - t);
      matches = result.total ?? -1;
    }
    times.sort((a, b) => a - b);
    const at = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
    console.log(`  ${label.padEnd(22)} median ${at(0.5)} ms, p95 ${at(0.95)} ms (${matches} matches, counted; 20 per page)`);
  }
} finally {
  await platform.close();
  if (adminUrl && dbName) await withPgClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
}
