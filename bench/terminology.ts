// Terminology benchmark: a generated hierarchical CodeSystem of 100,000 concepts is written through the
// FHIR API (validated and indexed), with a ValueSet that includes all of it; then $validate-code and
// $expand (text filter, count=20) are measured over HTTP on 127.0.0.1. Embedded PGlite (temporary
// directory) first, then PostgreSQL when DATABASE_URL is set.
//
//   npm run bench:terminology -- [--concepts 100000] [--n 500] [--concurrency 8]
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { CodeSystem, CodeSystemConcept } from '@medplum/fhirtypes';
import { prng } from './support.ts';
import { withPgClient } from '../src/db/postgres.ts';
import { loadConfig } from '../src/config.ts';
import { createPlatform } from '../src/server.ts';

const { values: args } = parseArgs({
  options: {
    concepts: { type: 'string', default: '100000' },
    n: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '8' },
  },
});
const CONCEPTS = Number(args.concepts);
const N = Number(args.n);
const CONCURRENCY = Number(args.concurrency);
for (const [name, v] of Object.entries({ '--concepts': CONCEPTS, '--n': N, '--concurrency': CONCURRENCY })) {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
}

const SYSTEM = 'urn:socle:bench:actes';
const VALUE_SET = 'urn:socle:bench:actes:vs';
const WORDS = ['cardiaque', 'pulmonaire', 'rénal', 'hépatique', 'cérébral', 'osseux', 'cutané', 'digestif', 'oculaire', 'dentaire', 'vasculaire', 'musculaire', 'thyroïdien', 'pédiatrique', 'gériatrique', 'obstétrical'];
const ACTS = ['Bilan', 'Examen', 'Échographie', 'Scanner', 'Biopsie', 'Suivi', 'Chirurgie', 'Rééducation', 'Consultation', 'Dépistage'];


/** Four levels: 10 chapters, 10 sections each, 10 groups each, the rest as leaves spread over the groups. */
function codeSystem(total: number): { cs: CodeSystem; codes: string[] } {
  const random = prng(42);
  const codes: string[] = [];
  const concept = (code: string, depth: number): CodeSystemConcept => {
    codes.push(code);
    const display = `${ACTS[Math.floor(random() * ACTS.length)]} ${WORDS[Math.floor(random() * WORDS.length)]} ${depth < 3 ? 'niveau' : 'acte'} ${code}`;
    return { code, display, ...(random() < 0.02 ? { property: [{ code: 'status', valueCode: 'retired' }] } : {}) };
  };
  const groups: CodeSystemConcept[] = [];
  const chapters = Array.from({ length: 10 }, (_, a) => {
    const chapter = concept(`C${a}`, 0);
    chapter.concept = Array.from({ length: 10 }, (_, b) => {
      const section = concept(`C${a}.${b}`, 1);
      section.concept = Array.from({ length: 10 }, (_, c) => {
        const group = concept(`C${a}.${b}.${c}`, 2);
        groups.push(group);
        return group;
      });
      return section;
    });
    return chapter;
  });
  for (let i = 0; codes.length < total; i++) {
    const group = groups[i % groups.length];
    (group.concept ??= []).push(concept(`${group.code}.${Math.floor(i / groups.length)}`, 3));
  }
  const cs: CodeSystem = {
    resourceType: 'CodeSystem',
    url: SYSTEM,
    version: '1',
    name: 'BenchActes',
    status: 'active',
    content: 'complete',
    caseSensitive: true,
    hierarchyMeaning: 'is-a',
    property: [{ code: 'status', uri: 'http://hl7.org/fhir/concept-properties#status', type: 'code' }],
    concept: chapters,
  };
  return { cs, codes };
}

async function request(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; ms: number; text: string }> {
  const started = performance.now();
  const res = await fetch(`${base}/fhir/${path}`, {
    method,
    headers: { accept: 'application/fhir+json', ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - started, text };
}

interface Result {
  name: string;
  latencies: number[];
  errors: number;
  firstError?: string;
  seconds: number;
}

async function workload(base: string, name: string, path: (i: number) => string): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const r = await request(base, 'GET', path(next++));
        latencies.push(r.ms);
        if (r.status !== 200) {
          errors++;
          firstError ??= `${r.status} ${r.text.slice(0, 300)}`;
        }
      }
    }),
  );
  return { name, latencies: latencies.sort((a, b) => a - b), errors, firstError, seconds: (performance.now() - started) / 1000 };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(1);

async function bench(label: string, overrides: { dataDir?: string; databaseUrl?: string }): Promise<void> {
  // Without tokens, as bench:fhir: the figures are those of the terminology service.
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: '', logLevel: 'warn', demo: false, authRequired: false, ...overrides });
  const platform = await createPlatform(config);
  try {
    await platform.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = platform.app.server.address() as { port: number };
    const base = `http://127.0.0.1:${port}`;
    const { cs, codes } = codeSystem(CONCEPTS);
    let t = performance.now();
    const created = await request(base, 'POST', 'CodeSystem', cs);
    if (created.status !== 201) throw new Error(`CodeSystem not created: ${created.status} ${created.text.slice(0, 500)}`);
    const loadSeconds = (performance.now() - t) / 1000;
    await request(base, 'POST', 'ValueSet', { resourceType: 'ValueSet', url: VALUE_SET, status: 'active', compose: { include: [{ system: SYSTEM }] } });
    t = performance.now();
    const first = await request(base, 'GET', `ValueSet/$expand?url=${encodeURIComponent(VALUE_SET)}&count=20`);
    if (first.status !== 200) throw new Error(`$expand failed: ${first.status} ${first.text.slice(0, 500)}`);
    const random = prng(7);
    const code = () => (random() < 0.1 ? `X${Math.floor(random() * 1e6)}` : codes[Math.floor(random() * codes.length)]);
    const word = () => encodeURIComponent(`${ACTS[Math.floor(random() * ACTS.length)].slice(0, 5)} ${WORDS[Math.floor(random() * WORDS.length)].slice(0, 4)}`);
    const results = [
      await workload(base, 'CodeSystem/$validate-code', () => `CodeSystem/$validate-code?url=${encodeURIComponent(SYSTEM)}&code=${encodeURIComponent(code())}`),
      await workload(base, 'ValueSet/$validate-code', () => `ValueSet/$validate-code?url=${encodeURIComponent(VALUE_SET)}&system=${encodeURIComponent(SYSTEM)}&code=${encodeURIComponent(code())}`),
      await workload(base, 'ValueSet/$expand filter count=20', () => `ValueSet/$expand?url=${encodeURIComponent(VALUE_SET)}&filter=${word()}&count=20`),
      await workload(base, 'ValueSet/$expand count=20 offset', (i) => `ValueSet/$expand?url=${encodeURIComponent(VALUE_SET)}&count=20&offset=${(i * 20) % 5000}`),
      await workload(base, 'CodeSystem/$lookup', () => `CodeSystem/$lookup?system=${encodeURIComponent(SYSTEM)}&code=${encodeURIComponent(codes[Math.floor(random() * codes.length)])}`),
    ];
    console.log(`\n## ${label}\n`);
    console.log(`- load: CodeSystem of ${codes.length} concepts (4 levels) POSTed, validated and indexed in ${loadSeconds.toFixed(1)} s`);
    console.log(`- first $expand (count=20) after load: ${first.ms.toFixed(1)} ms\n`);
    console.log('| operation | requests | req/s | p50 ms | p95 ms | p99 ms | errors |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const r of results) {
      console.log(`| ${r.name} | ${r.latencies.length} | ${(r.latencies.length / r.seconds).toFixed(0)} | ${pct(r.latencies, 50)} | ${pct(r.latencies, 95)} | ${pct(r.latencies, 99)} | ${r.errors} |`);
    }
    for (const r of results.filter((x) => x.firstError)) console.log(`\n${r.name}: first error ${r.firstError}`);
  } finally {
    await platform.close();
  }
}


const cpus = os.cpus();
console.log('# Socle terminology benchmark\n');
console.log(`- CPU: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} cores; memory ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; ${os.type()} ${os.release()} ${os.arch()}; Node ${process.version}`);
console.log(`- ${CONCEPTS} concepts; ${N} requests per operation, ${CONCURRENCY} in flight; 10 % of the validated codes do not exist`);
console.log('- filters are two word starts, e.g. "Échog cara" (accent-insensitive); the paged expansion reads offsets 0..5000');

const dir = mkdtempSync(join(os.tmpdir(), 'socle-bench-terminology-'));
try {
  await bench('PGlite (embedded, on disk)', { dataDir: dir });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const adminUrl = process.env.DATABASE_URL;
if (adminUrl) {
  const name = `socle_bench_${randomBytes(6).toString('hex')}`;
  await withPgClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    await bench(`PostgreSQL (${url.hostname})`, { databaseUrl: url.toString() });
  } finally {
    await withPgClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
} else console.log('\n(DATABASE_URL is not set: PostgreSQL skipped)');
