// FHIR search benchmark on a national-scale synthetic directory (Annuaire Santé shape): loads
// Organizations (FINESS), Practitioners (RPPS) and PractitionerRoles through the in-process store
// (createResources: one statement per batch of --batch resources, or --write one: writeResource per resource; no HTTP), then measures typical searches over
// HTTP on 127.0.0.1 and tells, for each, whether PostgreSQL's plan has a Seq Scan on a large table.
//
//   npm run bench:search -- [--scale 1.0] [--db pglite|postgres|both] [--runs 200] [--warmup 20]
//                           [--batch 1000] [--load-concurrency 4] [--write bulk|one] [--seed 42] [--keep]
//
// --scale 1.0 is ~1,050,000 resources: 50,000 Organizations, 500,000 Practitioners, 500,000
// PractitionerRoles. Data are deterministic for a given --seed and --scale (each batch has its own
// seeded PRNG, so the load order and concurrency do not change the data). --db postgres needs
// DATABASE_URL (a fresh database is created, and dropped at the end unless --keep); pglite uses a
// temporary directory. Default: both when DATABASE_URL is set, pglite otherwise.
import os from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Organization, Practitioner, PractitionerRole, Resource } from '@medplum/fhirtypes';
import { positiveInt, prng } from './support.ts';
import { withPgClient } from '../src/db/postgres.ts';
import { loadConfig } from '../src/config.ts';
import type { Queryable, QueryResult } from '../src/db/index.ts';
import { createPlatform, type Platform } from '../src/server.ts';
import { createResources, writeResource } from '../src/fhir/repository.ts';
import { NOMS_NAISSANCE, PRENOMS_FEMININS, PRENOMS_MASCULINS } from '../src/referentiels/ins/data/noms.ts';

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1.0' },
    db: { type: 'string' },
    runs: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    batch: { type: 'string', default: '1000' },
    'load-concurrency': { type: 'string', default: '4' },
    write: { type: 'string', default: 'bulk' },
    seed: { type: 'string', default: '42' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

if (args.help) {
  console.log('usage: npm run bench:search -- [--scale 1.0] [--db pglite|postgres|both] [--runs 200] [--warmup 20] [--batch 1000] [--load-concurrency 4] [--write bulk|one] [--seed 42] [--keep]');
  process.exit(0);
}

const SCALE = Number(args.scale);
if (!Number.isFinite(SCALE) || SCALE <= 0) throw new Error(`--scale must be a positive number, got "${args.scale}"`);
const RUNS = positiveInt(args.runs, '--runs');
const WARMUP = nonNegativeInt(args.warmup, '--warmup');
const BATCH = positiveInt(args.batch, '--batch');
const LOAD_CONCURRENCY = positiveInt(args['load-concurrency'], '--load-concurrency');
// bulk: one statement per batch (createResources); one: one statement per resource (writeResource).
const WRITE = args.write;
if (WRITE !== 'bulk' && WRITE !== 'one') throw new Error(`--write must be bulk or one, got "${WRITE}"`);
const SEED = nonNegativeInt(args.seed, '--seed');
const DATABASE_URL = process.env.DATABASE_URL || undefined;
const DBS: ('pglite' | 'postgres')[] = (() => {
  const choice = args.db ?? (DATABASE_URL ? 'both' : 'pglite');
  if (!['pglite', 'postgres', 'both'].includes(choice)) throw new Error(`--db must be pglite, postgres or both, got "${choice}"`);
  if (choice !== 'pglite' && !DATABASE_URL) throw new Error(`--db ${choice} needs DATABASE_URL (postgres://user:password@host:port/db)`);
  return choice === 'both' ? ['pglite', 'postgres'] : [choice as 'pglite' | 'postgres'];
})();

const N_ORG = Math.max(10, Math.round(50_000 * SCALE));
const N_PRACT = Math.max(100, Math.round(500_000 * SCALE));
const N_ROLE = Math.max(100, Math.round(500_000 * SCALE));

function nonNegativeInt(v: string | undefined, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${v}"`);
  return n;
}

// ------------------------------------------------------------------------------------------------
// Deterministic pseudo-random numbers (mulberry32), one stream per (seed, kind, batch).

const streamSeed = (kind: number, batch: number) => (SEED * 0x9e3779b1 + kind * 0x85ebca6b + batch * 0xc2b2ae35) >>> 0;
const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
/** Rank-weighted pick (Zipf-like, s=1): frequent names come first in the lists. */
function pickRanked<T>(rnd: () => number, list: readonly T[]): T {
  const h = Math.log(list.length + 1);
  return list[Math.min(list.length - 1, Math.floor(Math.exp(rnd() * h) - 1))]!;
}
const pad = (n: number, width: number) => String(n).padStart(width, '0');

// ------------------------------------------------------------------------------------------------
// French reference data: communes weighted by population (data/referentiels/communes.csv), names.

interface Commune {
  name: string;
  dept: string;
  postalCode: string;
}

function loadCommunes(): { list: Commune[]; cumulative: number[] } {
  const fallback: Commune[] = [
    { name: 'Paris', dept: '75', postalCode: '75013' },
    { name: 'Marseille', dept: '13', postalCode: '13005' },
    { name: 'Lyon', dept: '69', postalCode: '69003' },
    { name: 'Toulouse', dept: '31', postalCode: '31000' },
    { name: 'Nice', dept: '06', postalCode: '06000' },
    { name: 'Nantes', dept: '44', postalCode: '44000' },
    { name: 'Strasbourg', dept: '67', postalCode: '67000' },
    { name: 'Rennes', dept: '35', postalCode: '35000' },
    { name: 'Lille', dept: '59', postalCode: '59000' },
    { name: 'Saint-Étienne', dept: '42', postalCode: '42000' },
  ];
  try {
    const lines = readFileSync(new URL('../data/referentiels/communes.csv', import.meta.url), 'utf8').trim().split('\n');
    const header = lines[0]!.split(',');
    const col = (name: string) => header.indexOf(name);
    const [iNom, iDep, iCp, iPop] = [col('nom'), col('departement'), col('codes_postaux'), col('population')];
    const list: Commune[] = [];
    const cumulative: number[] = [];
    let sum = 0;
    for (const line of lines.slice(1)) {
      const f = line.split(',');
      const pop = Number(f[iPop]);
      const cp = (f[iCp] ?? '').split(/[ ;|]/)[0];
      if (!f[iNom] || !cp || !(pop > 0)) continue;
      sum += pop;
      list.push({ name: f[iNom]!, dept: f[iDep]!, postalCode: cp });
      cumulative.push(sum);
    }
    if (list.length > 100) return { list, cumulative };
  } catch {
    // fall through
  }
  return { list: fallback, cumulative: fallback.map((_, i) => i + 1) };
}

const COMMUNES = loadCommunes();
function pickCommune(rnd: () => number): Commune {
  const { list, cumulative } = COMMUNES;
  const x = rnd() * cumulative[cumulative.length - 1]!;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return list[lo]!;
}

/** "LE GALL" → "Le Gall", "DA SILVA" → "Da Silva". */
const titleCase = (s: string) => s.toLowerCase().replace(/(^|[\s'-])(\p{L})/gu, (_, sep: string, c: string) => sep + c.toUpperCase());
const FAMILIES = NOMS_NAISSANCE.map(titleCase);
const GIVEN_F = PRENOMS_FEMININS.map(titleCase);
const GIVEN_M = PRENOMS_MASCULINS.map(titleCase);

const FINESS = 'urn:oid:1.2.250.1.71.4.2.2';
const RPPS = 'urn:oid:1.2.250.1.71.4.2.1';
const V2_0203 = 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203';
const G15 = 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante';
const R38 = 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale';
const R02 = 'https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite';

/** Professions (TRE_G15) with their share of the RPPS. */
const PROFESSIONS: [string, string, number][] = [
  ['10', 'Médecin', 0.32],
  ['60', 'Infirmier', 0.3],
  ['70', 'Masseur-kinésithérapeute', 0.14],
  ['21', 'Pharmacien', 0.1],
  ['40', 'Chirurgien-dentiste', 0.06],
  ['50', 'Sage-femme', 0.04],
  ['80', 'Pédicure-podologue', 0.04],
];
/** Ordinal specialties (TRE_R38), the first one (general medicine) the most frequent. */
const SPECIALTIES: [string, string][] = [
  ['SM54', 'Médecine générale (SM)'],
  ['SM26', 'Qualifié en Médecine Générale (SM)'],
  ['SM04', 'Anesthésie-réanimation (SM)'],
  ['SM05', 'Cardiologie et maladies vasculaires (SM)'],
  ['SM15', 'Dermatologie et vénéréologie (SM)'],
  ['SM24', 'Gynécologie-obstétrique (SM)'],
  ['SM32', 'Neurologie (SM)'],
  ['SM38', 'Ophtalmologie (SM)'],
  ['SM40', 'Pédiatrie (SM)'],
  ['SM42', 'Psychiatrie (SM)'],
  ['SM44', 'Radiodiagnostic et imagerie médicale (SM)'],
  ['SM53', 'Chirurgie orthopédique et traumatologie (SM)'],
];
const ORG_KINDS: [string, string, string][] = [
  ['Centre hospitalier', 'SA01', 'Établissement public de santé'],
  ['Clinique', 'SA07', 'Établissement privé à but lucratif'],
  ['Centre de santé', 'SA29', 'Centre de santé'],
  ['Maison de santé pluriprofessionnelle', 'SA52', 'Structure d’exercice collectif'],
  ['Cabinet médical', 'SA33', 'Cabinet individuel'],
  ['Laboratoire de biologie médicale', 'SA25', 'Laboratoire de biologie médicale'],
  ['Pharmacie', 'SA27', 'Pharmacie d’officine'],
  ['EHPAD', 'SA17', 'Établissement pour personnes âgées'],
];

function professionOf(rnd: () => number): [string, string] {
  let x = rnd();
  for (const [code, display, share] of PROFESSIONS) {
    if ((x -= share) < 0) return [code, display];
  }
  return [PROFESSIONS[0]![0], PROFESSIONS[0]![1]];
}

// Ids are deterministic, so the benchmark can pick existing resources without reading them back.
const orgId = (i: number) => `org-${i}`;
const practId = (i: number) => `pr-${i}`;
const roleId = (i: number) => `role-${i}`;
const rppsOf = (i: number) => `8100${pad(i, 8)}`;

function organization(i: number, rnd: () => number): Organization {
  const c = pickCommune(rnd);
  const [kind, sector, sectorDisplay] = pick(rnd, ORG_KINDS);
  const parent = i >= 100 && rnd() < 0.1 ? Math.floor(rnd() * Math.min(i, 1000)) : undefined;
  return {
    resourceType: 'Organization',
    id: orgId(i),
    identifier: [
      { use: 'official', type: { coding: [{ system: V2_0203, code: 'FINEG' }] }, system: FINESS, value: `${c.dept.padStart(2, '0').slice(0, 2)}0${pad(i, 6)}` },
    ],
    active: rnd() < 0.97,
    type: [{ coding: [{ system: R02, code: sector, display: sectorDisplay }] }],
    name: `${kind} ${c.name}${i % 7 === 0 ? '' : ` ${1 + (i % 97)}`}`,
    telecom: [{ system: 'phone', value: `0${1 + Math.floor(rnd() * 5)} ${pad(Math.floor(rnd() * 1e8), 8).replace(/(\d\d)(?=\d)/g, '$1 ')}` }],
    address: [{ line: [`${1 + Math.floor(rnd() * 200)} avenue de la République`], city: c.name, postalCode: c.postalCode, country: 'FRA' }],
    ...(parent !== undefined ? { partOf: { reference: `Organization/${orgId(parent)}` } } : {}),
  };
}

function practitioner(i: number, rnd: () => number): Practitioner {
  const female = rnd() < 0.55;
  const [code, display] = professionOf(rnd);
  return {
    resourceType: 'Practitioner',
    id: practId(i),
    identifier: [{ use: 'official', type: { coding: [{ system: V2_0203, code: 'RPPS' }] }, system: RPPS, value: rppsOf(i) }],
    active: rnd() < 0.98,
    name: [{ use: 'official', family: pickRanked(rnd, FAMILIES), given: [pickRanked(rnd, female ? GIVEN_F : GIVEN_M)], ...(code === '10' ? { prefix: ['Dr'] } : {}) }],
    gender: female ? 'female' : 'male',
    qualification: [{ code: { coding: [{ system: G15, code, display }] } }],
  };
}

function practitionerRole(i: number, rnd: () => number): PractitionerRole {
  const year = 1980 + Math.floor(rnd() * 45);
  const start = `${year}-${pad(1 + Math.floor(rnd() * 12), 2)}-${pad(1 + Math.floor(rnd() * 28), 2)}`;
  const ended = rnd() < 0.3 && year < 2024;
  const endYear = year + 1 + Math.floor(rnd() * Math.max(1, 2024 - year));
  const specialty = rnd() < 0.35 ? SPECIALTIES[0]! : pick(rnd, SPECIALTIES);
  return {
    resourceType: 'PractitionerRole',
    id: roleId(i),
    active: !ended,
    period: { start, ...(ended ? { end: `${Math.min(endYear, 2024)}-12-31` } : {}) },
    // one role per practitioner for most, a few practitioners with several roles
    practitioner: { reference: `Practitioner/${practId(i < N_PRACT && rnd() < 0.9 ? i : Math.floor(rnd() * N_PRACT))}` },
    organization: { reference: `Organization/${orgId(Math.floor(rnd() * N_ORG))}` },
    specialty: [{ coding: [{ system: R38, code: specialty[0], display: specialty[1] }] }],
  };
}

// ------------------------------------------------------------------------------------------------
// Loading through the in-process store

interface LoadStats {
  type: string;
  count: number;
  seconds: number;
}

async function load(platform: Platform, dbKind: string): Promise<LoadStats[]> {
  const kinds: [string, number, (i: number, rnd: () => number) => Resource][] = [
    ['Organization', N_ORG, organization],
    ['Practitioner', N_PRACT, practitioner],
    ['PractitionerRole', N_ROLE, practitionerRole],
  ];
  const concurrency = dbKind === 'pglite' ? 1 : LOAD_CONCURRENCY; // PGlite has a single connection
  const stats: LoadStats[] = [];
  for (const [k, [type, n, make]] of kinds.entries()) {
    const batches = Math.ceil(n / BATCH);
    let nextBatch = 0;
    let done = 0;
    const t0 = performance.now();
    let lastReport = t0;
    const worker = async () => {
      for (;;) {
        const b = nextBatch++;
        if (b >= batches) return;
        const rnd = prng(streamSeed(k + 1, b));
        const from = b * BATCH;
        const to = Math.min(n, from + BATCH);
        const resources: Resource[] = [];
        for (let i = from; i < to; i++) resources.push(make(i, rnd));
        await platform.fhir.db.transaction(async (tx) => {
          if (WRITE === 'bulk') await createResources(tx, resources);
          else for (const r of resources) await writeResource(tx, r, { method: 'POST', mustBeNew: true });
        });
        done += to - from;
        const now = performance.now();
        if (now - lastReport > 15_000) {
          lastReport = now;
          const rate = done / ((now - t0) / 1000);
          console.log(`  … ${type}: ${done.toLocaleString('en')}/${n.toLocaleString('en')} (${Math.round(rate)} resources/s, ~${Math.round((n - done) / rate)} s left)`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - t0) / 1000;
    stats.push({ type, count: n, seconds });
    console.log(`  ${type.padEnd(17)} ${n.toLocaleString('en').padStart(9)} in ${seconds.toFixed(1).padStart(7)} s = ${Math.round(n / seconds).toLocaleString('en').padStart(6)} resources/s`);
  }
  return stats;
}

// ------------------------------------------------------------------------------------------------
// Searches over HTTP

interface SearchCase {
  name: string;
  /** A new query (path below /fhir) per run, deterministic. */
  query: (rnd: () => number) => string;
}

const enc = encodeURIComponent;
/** An existing practitioner or organization index, drawn uniformly. */
const anyPract = (rnd: () => number) => Math.floor(rnd() * N_PRACT);
const anyOrg = (rnd: () => number) => Math.floor(rnd() * N_ORG);

const CASES: SearchCase[] = [
  { name: 'identifier token', query: (rnd) => `Practitioner?identifier=${enc(`${RPPS}|${rppsOf(anyPract(rnd))}`)}` },
  {
    name: 'name prefix',
    query: (rnd) => {
      const family = pickRanked(rnd, FAMILIES);
      return `Practitioner?name=${enc(family.slice(0, Math.min(family.length, 3 + Math.floor(rnd() * 3))).toLowerCase())}`;
    },
  },
  { name: 'chained identifier', query: (rnd) => `PractitionerRole?practitioner.identifier=${enc(`${RPPS}|${rppsOf(anyPract(rnd))}`)}` },
  { name: '_include', query: (rnd) => `PractitionerRole?organization=Organization/${orgId(anyOrg(rnd))}&_include=PractitionerRole:practitioner` },
  {
    name: 'date range (period)',
    query: (rnd) => {
      const year = 1985 + Math.floor(rnd() * 38);
      const month = 1 + Math.floor(rnd() * 6);
      return `PractitionerRole?date=ge${year}-${pad(month, 2)}-01&date=lt${year}-${pad(month + 6, 2)}-01`;
    },
  },
];
const PAGING_QUERY = `PractitionerRole?specialty=${enc(`${R38}|SM54`)}&_count=20`;
const PAGING_DEPTH = 100;

interface Timing {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

function percentiles(samples: number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  return { p50: at(50), p95: at(95), p99: at(99), mean: s.reduce((a, b) => a + b, 0) / s.length, max: s[s.length - 1]! };
}

async function get(url: string): Promise<{ ms: number; body: any }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { accept: 'application/fhir+json' } });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 300)}`);
  return { ms, body: JSON.parse(text) };
}

interface CaseResult {
  name: string;
  timing: Timing;
  /** Mean Bundle.total, mean entries per page. */
  meanTotal: number;
  meanEntries: number;
  sample: string;
  plan?: PlanSummary;
}

async function runCase(fhirUrl: string, c: SearchCase, caseIndex: number): Promise<CaseResult> {
  const rnd = prng(streamSeed(100 + caseIndex, 0));
  for (let i = 0; i < WARMUP; i++) await get(`${fhirUrl}/${c.query(rnd)}`);
  const samples: number[] = [];
  let totals = 0;
  let entries = 0;
  let sample = '';
  for (let i = 0; i < RUNS; i++) {
    const q = c.query(rnd);
    if (i === 0) sample = q;
    const { ms, body } = await get(`${fhirUrl}/${q}`);
    samples.push(ms);
    totals += body.total ?? 0;
    entries += body.entry?.length ?? 0;
  }
  return { name: c.name, timing: percentiles(samples), meanTotal: totals / RUNS, meanEntries: entries / RUNS, sample };
}

/** Follows next links from page 1 to page PAGING_DEPTH, in ceil(RUNS / PAGING_DEPTH) walks; every page fetch is timed. */
async function runPaging(fhirUrl: string): Promise<CaseResult & { depth: number; walkMs: number[]; lastPageMs: number[]; nextSample?: string }> {
  const samples: number[] = [];
  const walkMs: number[] = [];
  const lastPageMs: number[] = [];
  let depth = 0;
  let totals = 0;
  let entries = 0;
  let nextSample: string | undefined;
  // warm-up: a few pages
  let url: string | undefined = `${fhirUrl}/${PAGING_QUERY}`;
  for (let i = 0; i < Math.min(WARMUP, 10) && url; i++) url = (await get(url)).body.link?.find((l: any) => l.relation === 'next')?.url;
  // RUNS page fetches in all, as whole walks from page 1 (at least one walk)
  const walks = Math.max(1, Math.ceil(RUNS / PAGING_DEPTH));
  for (let w = 0; w < walks; w++) {
    url = `${fhirUrl}/${PAGING_QUERY}`;
    let page = 0;
    let walk = 0;
    let last = 0;
    while (url && page < PAGING_DEPTH) {
      const { ms, body } = await get(url);
      page++;
      walk += ms;
      last = ms;
      samples.push(ms);
      totals += body.total ?? 0;
      entries += body.entry?.length ?? 0;
      url = body.link?.find((l: any) => l.relation === 'next')?.url;
      if (page === PAGING_DEPTH - 1 && url) nextSample = url.slice(fhirUrl.length + 1);
    }
    depth = Math.max(depth, page);
    if (page === PAGING_DEPTH) {
      walkMs.push(walk);
      lastPageMs.push(last);
    }
  }
  return {
    name: `paging to page ${PAGING_DEPTH} (_count=20)`,
    timing: percentiles(samples),
    meanTotal: totals / samples.length,
    meanEntries: entries / samples.length,
    sample: PAGING_QUERY,
    depth,
    walkMs,
    lastPageMs,
    nextSample,
  };
}

// ------------------------------------------------------------------------------------------------
// Plans: the SQL a search sends, captured by running the same search through the core with a
// recording Queryable, then EXPLAINed on the same database.

interface PlanSummary {
  statements: number;
  /** "Seq Scan on <table> (~rows)" for large tables, empty when none. */
  seqScans: string[];
  /** Server-side execution time of each statement (EXPLAIN ANALYZE), labelled count/page/include/other. */
  times: { label: string; ms: number }[];
  error?: string;
}

function recorder(inner: Queryable, log: { sql: string; params: unknown[] }[]): Queryable {
  return {
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      log.push({ sql, params: params ?? [] });
      return inner.query<T>(sql, params);
    },
    exec: (sql: string) => inner.exec(sql),
  };
}

function parseQueryString(qs: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(qs)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  return out;
}

const labelOf = (sql: string) => (/count\(\*\)/i.test(sql) ? 'count' : /\bLIMIT\b/i.test(sql) ? 'page' : /sp_reference/i.test(sql) ? 'include' : 'other');

/**
 * Runs the search once through the core with a recording Queryable, then EXPLAIN ANALYZEs every
 * SELECT it sent on the same database: Seq Scans on large tables, and where the time goes.
 */
async function explain(platform: Platform, path: string, largeTables: Map<string, number>): Promise<PlanSummary> {
  const [type, qs = ''] = path.split('?');
  const log: { sql: string; params: unknown[] }[] = [];
  try {
    await platform.fhir.search(type!, parseQueryString(qs), {}, recorder(platform.fhir.db, log));
  } catch (err) {
    return { statements: 0, seqScans: [], times: [], error: `search failed: ${(err as Error).message}` };
  }
  const seqScans = new Set<string>();
  const times: { label: string; ms: number }[] = [];
  let statements = 0;
  for (const { sql, params } of log) {
    if (!/^\s*(SELECT|WITH)\b/i.test(sql)) continue;
    statements++;
    // the engine may pass more parameters than a statement uses (one list for the count and the page)
    const used = Math.max(0, ...[...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    const { rows } = await platform.fhir.db.query<Record<string, unknown>>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params.slice(0, used));
    const raw = Object.values(rows[0] ?? {})[0];
    const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode; 'Execution Time'?: number }[];
    times.push({ label: labelOf(sql), ms: Number(plan[0]!['Execution Time'] ?? NaN) });
    walkPlan(plan[0]!.Plan, (node) => {
      if (node['Node Type'] !== 'Seq Scan') return;
      const table = node['Relation Name'] as string;
      const size = largeTables.get(table);
      if (size !== undefined) seqScans.add(`Seq Scan on ${table} (${Math.round(size).toLocaleString('en')} rows)`);
    });
  }
  return { statements, seqScans: [...seqScans], times };
}

type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };
function walkPlan(node: PlanNode, visit: (n: PlanNode) => void): void {
  visit(node);
  for (const child of node.Plans ?? []) walkPlan(child, visit);
}

/** Tables of more than 10,000 rows (planner statistics, after ANALYZE). */
async function largeTables(platform: Platform): Promise<Map<string, number>> {
  const { rows } = await platform.fhir.db.query<{ relname: string; reltuples: number }>(
    `SELECT c.relname, c.reltuples::float8 AS reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() AND c.reltuples > 10000`,
  );
  return new Map(rows.map((r) => [r.relname, Number(r.reltuples)]));
}

// ------------------------------------------------------------------------------------------------

function machine(): string {
  const cpus = os.cpus();
  return [
    `CPU: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} logical cores (load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`,
    `RAM: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(os.freemem() / 2 ** 30).toFixed(1)} GiB free`,
    `OS: ${os.type()} ${os.release()} ${os.arch()}; Node ${process.version}`,
  ].join('\n');
}


const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)).padStart(7);

async function benchOne(kind: 'pglite' | 'postgres'): Promise<void> {
  console.log(`\n=== ${kind} ===`);
  let dataDir = '';
  let dbName: string | undefined;
  let databaseUrl: string | undefined;
  if (kind === 'pglite') {
    dataDir = mkdtempSync(join(os.tmpdir(), 'socle-bench-search-'));
  } else {
    dbName = `socle_bench_search_${randomBytes(4).toString('hex')}`;
    await withPgClient(DATABASE_URL!, (c) => c.query(`CREATE DATABASE ${dbName}`));
    const url = new URL(DATABASE_URL!);
    url.pathname = `/${dbName}`;
    databaseUrl = url.toString();
  }
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, databaseUrl, logLevel: 'silent', demo: false, authRequired: false });
  const platform = await createPlatform(config);
  try {
    const version = (await platform.fhir.db.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v;
    console.log(`database: ${version}${dbName ? ` (database ${dbName})` : ` (${dataDir})`}`);
    console.log(`loading ${(N_ORG + N_PRACT + N_ROLE).toLocaleString('en')} resources (scale ${SCALE}, seed ${SEED}, batches of ${BATCH}, ${kind === 'pglite' ? 1 : LOAD_CONCURRENCY} transaction(s) in flight)`);
    const t0 = performance.now();
    const stats = await load(platform, kind);
    const loadSeconds = (performance.now() - t0) / 1000;
    const total = stats.reduce((a, s) => a + s.count, 0);
    console.log(`  total             ${total.toLocaleString('en').padStart(9)} in ${loadSeconds.toFixed(1).padStart(7)} s = ${Math.round(total / loadSeconds).toLocaleString('en').padStart(6)} resources/s`);
    const ta = performance.now();
    await platform.fhir.db.exec(kind === 'postgres' ? 'VACUUM ANALYZE' : 'ANALYZE');
    console.log(`  ${kind === 'postgres' ? 'VACUUM ANALYZE' : 'ANALYZE'}: ${((performance.now() - ta) / 1000).toFixed(1)} s`);
    const size = (await platform.fhir.db.query<{ s: string }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS s')).rows[0]?.s;
    console.log(`  database size: ${size}`);
    const large = await largeTables(platform);

    await platform.app.listen({ port: 0, host: '127.0.0.1' });
    const address = platform.app.server.address();
    if (!address || typeof address === 'string') throw new Error('no TCP address');
    platform.config.baseUrl = `http://127.0.0.1:${address.port}`;
    const fhirUrl = `${platform.config.baseUrl}/fhir`;

    console.log(`\nsearches over HTTP (${fhirUrl}), sequential, ${WARMUP} warm-up + ${RUNS} runs each, a different value per run:`);
    console.log(`  ${'search'.padEnd(30)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'p99'.padStart(7)} ${'mean'.padStart(7)} ${'max'.padStart(7)}  ms   mean total  plan (EXPLAIN ANALYZE of the SQL one run sends)`);
    const results: CaseResult[] = [];
    for (const [i, c] of CASES.entries()) {
      const r = await runCase(fhirUrl, c, i);
      r.plan = await explain(platform, r.sample, large);
      results.push(r);
      printResult(r);
    }
    const paging = await runPaging(fhirUrl);
    paging.plan = await explain(platform, paging.nextSample ?? paging.sample, large);
    printResult(paging);
    const walkMean = paging.walkMs.length ? paging.walkMs.reduce((a, b) => a + b, 0) / paging.walkMs.length : NaN;
    const lastMean = paging.lastPageMs.length ? paging.lastPageMs.reduce((a, b) => a + b, 0) / paging.lastPageMs.length : NaN;
    console.log(
      `  paging: reached page ${paging.depth}; ${paging.walkMs.length} full walk(s) of ${PAGING_DEPTH} pages, ${walkMean.toFixed(0)} ms per walk, page ${PAGING_DEPTH} in ${lastMean.toFixed(1)} ms (mean)`,
    );
    console.log('\nsample queries:');
    for (const r of [...results, paging]) console.log(`  ${r.name}: GET /fhir/${r.sample}`);
  } finally {
    await platform.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (dbName) {
      if (args.keep) console.log(`kept database ${dbName}`);
      else await withPgClient(DATABASE_URL!, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
    }
  }
}

function printResult(r: CaseResult): void {
  const t = r.timing;
  let plan = '';
  if (r.plan?.error) plan = `plan: ${r.plan.error}`;
  else if (r.plan) {
    const scans = r.plan.seqScans.length ? r.plan.seqScans.join('; ') : 'no Seq Scan on a large table';
    const sql = r.plan.times.map((x) => `${x.label} ${x.ms.toFixed(1)}`).join(' + ');
    plan = `${scans} [SQL ms: ${sql}]`;
  }
  console.log(`  ${r.name.padEnd(30)} ${fmt(t.p50)} ${fmt(t.p95)} ${fmt(t.p99)} ${fmt(t.mean)} ${fmt(t.max)}      ${r.meanTotal.toFixed(1).padStart(10)}  ${plan}`);
}

console.log('FHIR search benchmark (bench/search.ts)');
console.log(machine());
console.log(`scale ${SCALE}: ${N_ORG.toLocaleString('en')} Organization, ${N_PRACT.toLocaleString('en')} Practitioner, ${N_ROLE.toLocaleString('en')} PractitionerRole; databases: ${DBS.join(', ')}`);
const started = performance.now();
for (const kind of DBS) await benchOne(kind);
console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(0)} s`);
