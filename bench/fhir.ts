// FHIR REST API benchmark: starts the platform in process (embedded PGlite in a temporary directory,
// then PostgreSQL when DATABASE_URL is set) and drives it over HTTP on 127.0.0.1 with a bounded number
// of requests in flight. Prints, per database, throughput and latency percentiles of each workload.
//
//   npm run bench:fhir -- [--n 2000] [--concurrency 16] [--only create,read,...] [--timeout 30000]
//
// Workloads (each runs --n requests): create (Patient, Practitioner, Encounter, Observation in turn),
// read, update, search-by-id (?_id=), transaction (Bundle of 10 entries: Patient + Encounter +
// 8 Observations linked by urn:uuid), mixed (read 50 %, create 20 %, update 20 %, search 10 %).
import http from 'node:http';
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { positiveInt, prng } from './support.ts';
import { withPgClient } from '../src/db/postgres.ts';
import { loadConfig } from '../src/config.ts';
import { createPlatform, type Platform } from '../src/server.ts';

const WORKLOADS = ['create', 'read', 'update', 'search-by-id', 'transaction', 'mixed'] as const;
type Workload = (typeof WORKLOADS)[number];

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    only: { type: 'string' },
    timeout: { type: 'string', default: '30000' },
    seed: { type: 'string', default: '42' },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

if (args.help) {
  console.log('usage: npm run bench:fhir -- [--n 2000] [--concurrency 16] [--only create,read,update,search-by-id,transaction,mixed] [--timeout ms] [--seed 42]');
  process.exit(0);
}

const N = positiveInt(args.n, '--n');
const CONCURRENCY = positiveInt(args.concurrency, '--concurrency');
const TIMEOUT_MS = positiveInt(args.timeout, '--timeout');
const SEED = positiveInt(args.seed, '--seed');
const SELECTED: Workload[] = args.only
  ? args.only.split(',').map((s) => {
      const w = s.trim() as Workload;
      if (!WORKLOADS.includes(w)) throw new Error(`unknown workload "${s}" (known: ${WORKLOADS.join(', ')})`);
      return w;
    })
  : [...WORKLOADS];


// ------------------------------------------------------------------------------------------------
// Realistic French resources

const INS = 'urn:oid:1.2.250.1.213.1.4.8';
const RPPS = 'urn:oid:1.2.250.1.71.4.2.1';
const FAMILIES = ['Martin', 'Bernard', 'Thomas', 'Petit', 'Robert', 'Richard', 'Durand', 'Dubois', 'Moreau', 'Laurent', 'Simon', 'Michel', 'Lefèvre', 'Leroy', 'Roux', 'Fournier'];
const GIVEN_F = ['Camille', 'Léa', 'Manon', 'Chloé', 'Inès', 'Jeanne', 'Zoé', 'Élise'];
const GIVEN_M = ['Lucas', 'Hugo', 'Louis', 'Gabriel', 'Arthur', 'Jules', 'Théo', 'Noé'];
const CITIES: Array<[string, string, string]> = [
  ['Paris', '75013', '75113'],
  ['Lyon', '69003', '69383'],
  ['Marseille', '13005', '13205'],
  ['Toulouse', '31000', '31555'],
  ['Rennes', '35000', '35238'],
  ['Lille', '59000', '59350'],
];
const LOINC: Array<[string, string, string, number, number]> = [
  ['8867-4', 'Heart rate', '/min', 55, 110],
  ['8480-6', 'Systolic blood pressure', 'mm[Hg]', 100, 170],
  ['8462-4', 'Diastolic blood pressure', 'mm[Hg]', 55, 100],
  ['8310-5', 'Body temperature', 'Cel', 36, 39.5],
  ['29463-7', 'Body weight', 'kg', 45, 110],
  ['15074-8', 'Glucose [Moles/volume] in Blood', 'mmol/L', 3.5, 11],
  ['2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', 'mg/dL', 0.5, 1.6],
  ['718-7', 'Hemoglobin [Mass/volume] in Blood', 'g/dL', 10, 17],
];

/** A NIR with a valid key (97 - number mod 97), from a sequence number. */
function nir(i: number, rnd: () => number): string {
  const sex = rnd() < 0.5 ? '1' : '2';
  const yy = String(40 + Math.floor(rnd() * 60)).padStart(2, '0');
  const mm = String(1 + Math.floor(rnd() * 12)).padStart(2, '0');
  const city = CITIES[i % CITIES.length]!;
  const dep = city[2].slice(0, 2);
  const com = city[2].slice(2);
  const order = String(i % 1000).padStart(3, '0');
  const base = `${sex}${yy}${mm}${dep}${com}${order}`;
  const key = 97 - Number(BigInt(base) % 97n);
  return `${base}${String(key).padStart(2, '0')}`;
}

function patient(i: number, rnd: () => number, id?: string): Record<string, unknown> {
  const female = rnd() < 0.5;
  const city = CITIES[i % CITIES.length]!;
  const given = female ? GIVEN_F : GIVEN_M;
  return {
    resourceType: 'Patient',
    ...(id ? { id } : {}),
    identifier: [
      {
        use: 'official',
        type: { coding: [{ system: 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203', code: 'INS-NIR' }] },
        system: INS,
        value: nir(i, rnd),
      },
    ],
    name: [{ use: 'official', family: FAMILIES[Math.floor(rnd() * FAMILIES.length)], given: [given[Math.floor(rnd() * given.length)]] }],
    gender: female ? 'female' : 'male',
    birthDate: `${1940 + Math.floor(rnd() * 65)}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`,
    telecom: [{ system: 'phone', value: `+33 6 ${String(Math.floor(rnd() * 1e8)).padStart(8, '0').replace(/(\d\d)(?=\d)/g, '$1 ')}`, use: 'mobile' }],
    address: [{ line: [`${1 + Math.floor(rnd() * 150)} rue de la République`], city: city[0], postalCode: city[1], country: 'FRA' }],
  };
}

function practitioner(i: number): Record<string, unknown> {
  return {
    resourceType: 'Practitioner',
    identifier: [
      {
        type: { coding: [{ system: 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203', code: 'IDNPS' }] },
        system: RPPS,
        value: `8100${String(1234567 + i).padStart(7, '0').slice(-7)}${i % 10}`,
      },
    ],
    name: [{ family: FAMILIES[i % FAMILIES.length], given: [GIVEN_M[i % GIVEN_M.length]], prefix: ['Dr'] }],
    qualification: [{ code: { coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante', code: '10', display: 'Médecin' }] } }],
  };
}

function encounterFor(subject: string, rnd: () => number): Record<string, unknown> {
  const day = 1 + Math.floor(rnd() * 28);
  return {
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
    subject: { reference: subject },
    period: { start: `2024-03-${String(day).padStart(2, '0')}T09:00:00+01:00`, end: `2024-03-${String(day).padStart(2, '0')}T09:30:00+01:00` },
  };
}

function observationFor(subject: string, rnd: () => number, k: number, encounter?: string, performer?: string): Record<string, unknown> {
  const [code, display, unit, lo, hi] = LOINC[k % LOINC.length]!;
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: k < 5 ? 'vital-signs' : 'laboratory' }] }],
    code: { coding: [{ system: 'http://loinc.org', code, display }] },
    subject: { reference: subject },
    ...(encounter ? { encounter: { reference: encounter } } : {}),
    ...(performer ? { performer: [{ reference: performer }] } : {}),
    effectiveDateTime: `2024-03-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}T09:15:00+01:00`,
    valueQuantity: { value: Math.round((lo + rnd() * (hi - lo)) * 10) / 10, unit, system: 'http://unitsofmeasure.org', code: unit },
  };
}

function transactionBundle(i: number, rnd: () => number): Record<string, unknown> {
  const p = `urn:uuid:${randomUUID()}`;
  const e = `urn:uuid:${randomUUID()}`;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: p, resource: patient(i, rnd), request: { method: 'POST', url: 'Patient' } },
      { fullUrl: e, resource: encounterFor(p, rnd), request: { method: 'POST', url: 'Encounter' } },
      ...Array.from({ length: 8 }, (_, k) => ({
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: observationFor(p, rnd, k, e),
        request: { method: 'POST', url: 'Observation' },
      })),
    ],
  };
}

// ------------------------------------------------------------------------------------------------
// HTTP

interface Target {
  port: number;
  agent: http.Agent;
}

interface Reply {
  status: number;
  location?: string;
  body: string;
}

function send(t: Target, method: string, path: string, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        host: '127.0.0.1',
        port: t.port,
        method,
        path: `/fhir/${path}`,
        agent: t.agent,
        headers: {
          accept: 'application/fhir+json',
          ...(payload ? { 'content-type': 'application/fhir+json', 'content-length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`timeout after ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** "…/Patient/abc/_history/1" → "abc". */
function idFromLocation(loc: string | undefined): string | undefined {
  const m = loc ? /\/([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})\/_history\/\d+$/.exec(loc) : null;
  return m?.[2];
}

// ------------------------------------------------------------------------------------------------
// Runner

interface Result {
  op: string;
  count: number;
  seconds: number;
  latencies: Float64Array;
  errors: number;
  firstError?: string;
}

/** Runs count operations with at most CONCURRENCY in flight; op(i) resolves true on success. */
async function run(op: string, count: number, fn: (i: number) => Promise<boolean | string>): Promise<Result> {
  const latencies = new Float64Array(count);
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const t0 = performance.now();
      let ok: boolean | string;
      try {
        ok = await fn(i);
      } catch (err) {
        ok = (err as Error).message;
      }
      latencies[i] = performance.now() - t0;
      if (ok !== true) {
        errors++;
        firstError ??= typeof ok === 'string' ? ok : 'failed';
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  return { op, count, seconds: (performance.now() - started) / 1000, latencies, errors, firstError };
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function expect(r: Reply, status: number | number[]): boolean | string {
  const ok = Array.isArray(status) ? status.includes(r.status) : r.status === status;
  return ok ? true : `HTTP ${r.status}: ${r.body.slice(0, 300)}`;
}

// ------------------------------------------------------------------------------------------------
// One database

interface Store {
  patients: string[];
  practitioners: string[];
  encounters: string[];
}

async function benchDatabase(label: string, port: number): Promise<Result[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const t: Target = { port, agent };
  const rnd = prng(SEED);
  const store: Store = { patients: [], practitioners: [], encounters: [] };
  const results: Result[] = [];
  const pick = (list: string[]) => list[Math.floor(rnd() * list.length)]!;

  const createOne = async (i: number): Promise<boolean | string> => {
    const kind = store.patients.length === 0 ? 0 : i % 4;
    let type: string;
    let body: Record<string, unknown>;
    if (kind === 0) [type, body] = ['Patient', patient(i, rnd)];
    else if (kind === 1) [type, body] = ['Practitioner', practitioner(i)];
    else if (kind === 2) [type, body] = ['Encounter', encounterFor(`Patient/${pick(store.patients)}`, rnd)];
    else {
      const perf = store.practitioners.length ? `Practitioner/${pick(store.practitioners)}` : undefined;
      const enc = store.encounters.length ? `Encounter/${pick(store.encounters)}` : undefined;
      [type, body] = ['Observation', observationFor(`Patient/${pick(store.patients)}`, rnd, i, enc, perf)];
    }
    const r = await send(t, 'POST', type, body);
    const id = idFromLocation(r.location);
    if (r.status === 201 && id) {
      if (type === 'Patient') store.patients.push(id);
      else if (type === 'Practitioner') store.practitioners.push(id);
      else if (type === 'Encounter') store.encounters.push(id);
      return true;
    }
    return r.status === 201 ? 'no Location header on 201' : expect(r, 201);
  };
  const readOne = async () => expect(await send(t, 'GET', `Patient/${pick(store.patients)}`), 200);
  const updateOne = async (i: number) => {
    const id = store.patients[i % store.patients.length]!;
    return expect(await send(t, 'PUT', `Patient/${id}`, patient(i, rnd, id)), 200);
  };
  const searchOne = async () => {
    const id = pick(store.patients);
    const r = await send(t, 'GET', `Patient?_id=${encodeURIComponent(id)}`);
    if (r.status !== 200) return expect(r, 200);
    const total = (JSON.parse(r.body) as { total?: number }).total;
    return total === 1 ? true : `search ?_id=${id} gave total ${total}`;
  };

  // Seed, not measured: enough patients for reads and updates to spread over distinct rows.
  const seed = await run('seed', Math.max(100, Math.min(500, N)), (i) => createOne(i * 4));
  if (seed.errors > 0) throw new Error(`[${label}] seeding failed: ${seed.firstError}`);
  await run('warm-up', 200, (i) => (i % 2 ? readOne() : searchOne()));

  for (const w of SELECTED) {
    let r: Result;
    switch (w) {
      case 'create':
        r = await run(w, N, createOne);
        break;
      case 'read':
        r = await run(w, N, readOne);
        break;
      case 'update':
        r = await run(w, N, updateOne);
        break;
      case 'search-by-id':
        r = await run(w, N, searchOne);
        break;
      case 'transaction':
        r = await run(w, N, async (i) => {
          const res = await send(t, 'POST', '', transactionBundle(i, rnd));
          if (res.status !== 200) return expect(res, 200);
          const b = JSON.parse(res.body) as { type?: string; entry?: Array<{ response?: { status?: string } }> };
          const ok = b.type === 'transaction-response' && b.entry?.length === 10 && b.entry.every((e) => e.response?.status?.startsWith('201'));
          return ok ? true : `unexpected transaction-response: ${res.body.slice(0, 300)}`;
        });
        break;
      case 'mixed': {
        const mix = prng(SEED + 1);
        r = await run(w, N, (i) => {
          const x = mix();
          if (x < 0.5) return readOne();
          if (x < 0.7) return createOne(i);
          if (x < 0.9) return updateOne(i);
          return searchOne();
        });
        break;
      }
    }
    results.push(r);
    process.stderr.write(`  [${label}] ${w}: ${r.count} in ${r.seconds.toFixed(1)} s\n`);
  }
  agent.destroy();
  return results;
}

function printTable(label: string, kind: string, results: Result[]): void {
  console.log(`\n## ${label} (database: ${kind}, concurrency ${CONCURRENCY}, n ${N})\n`);
  const header = ['operation', 'count', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors'];
  const rows = results.map((r) => {
    const sorted = Float64Array.from(r.latencies).sort();
    return [
      r.op,
      String(r.count),
      (r.count / r.seconds).toFixed(0),
      percentile(sorted, 0.5).toFixed(2),
      percentile(sorted, 0.95).toFixed(2),
      percentile(sorted, 0.99).toFixed(2),
      String(r.errors),
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, c) => (c === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  const txr = results.find((r) => r.op === 'transaction');
  if (txr) console.log(`\ntransaction: ${((txr.count * 10) / txr.seconds).toFixed(0)} resources written/s (10 per Bundle)`);
  for (const r of results) if (r.firstError) console.log(`\n${r.op}: first error: ${r.firstError}`);
}

// ------------------------------------------------------------------------------------------------
// Platforms

async function startPlatform(opts: { dataDir?: string; databaseUrl?: string }): Promise<{ platform: Platform; port: number }> {
  const config = loadConfig({}, { dataDir: opts.dataDir ?? '', databaseUrl: opts.databaseUrl, port: 0, host: '127.0.0.1', logLevel: 'silent', demo: false, authRequired: false });
  const platform = await createPlatform(config);
  await platform.app.listen({ port: 0, host: '127.0.0.1' });
  const address = platform.app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  platform.config.baseUrl = `http://127.0.0.1:${address.port}`;
  return { platform, port: address.port };
}


async function benchPglite(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'socle-bench-'));
  try {
    const { platform, port } = await startPlatform({ dataDir: dir });
    try {
      const results = await benchDatabase('PGlite', port);
      printTable('PGlite (embedded, on disk)', platform.db.kind, results);
    } finally {
      await platform.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchPostgres(adminUrl: string): Promise<void> {
  const dbName = `socle_bench_${randomBytes(6).toString('hex')}`;
  await withPgClient(adminUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${dbName}`;
    const { platform, port } = await startPlatform({ databaseUrl: url.toString() });
    try {
      const results = await benchDatabase('PostgreSQL', port);
      const version = await platform.db.query<{ v: string }>("SELECT current_setting('server_version') AS v").then((r) => r.rows[0]?.v ?? '?', () => '?');
      printTable(`PostgreSQL ${version} (${url.hostname})`, platform.db.kind, results);
    } finally {
      await platform.close();
    }
  } finally {
    await withPgClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  }
}

function machine(): void {
  const cpus = os.cpus();
  console.log('# Socle FHIR REST benchmark\n');
  console.log(`- CPU: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} cores`);
  console.log(`- memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB (free ${(os.freemem() / 2 ** 30).toFixed(1)} GiB)`);
  console.log(`- OS: ${os.type()} ${os.release()} ${os.arch()}`);
  console.log(`- Node: ${process.version}`);
  console.log(`- workloads: ${SELECTED.join(', ')}; n = ${N} each; concurrency = ${CONCURRENCY}; request timeout ${TIMEOUT_MS} ms; seed ${SEED}`);
  console.log('- transaction = 1 Bundle of 10 entries (Patient + Encounter + 8 Observations); mixed = read 50 %, create 20 %, update 20 %, search 10 %');
}

machine();
await benchPglite();
if (process.env.DATABASE_URL) await benchPostgres(process.env.DATABASE_URL);
else console.log('\n(DATABASE_URL is not set: PostgreSQL skipped)');
