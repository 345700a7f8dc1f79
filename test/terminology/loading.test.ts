// Loading terminology: `socle terminology load` with packages, folders and Bundles (idempotent, bad
// resources reported without stopping), the shipped nomenclatures on first start and restart, and the
// concept index following CodeSystem updates, deletions and duplicate versions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertOutcome, httpFor, type Http } from '../support/fhir-client.ts';
import { anatomy, G15, q, read } from './helpers.ts';

const work = mkdtempSync(join(tmpdir(), 'socle-terminology-load-'));
const ANATOMY = `urn:socle:test:anatomy:${randomUUID()}`;
/** The CLI runs on its own database: a PGlite folder, or a fresh PostgreSQL database under DATABASE_URL. */
let cliEnv: Record<string, string>;
let dropDatabase: (() => Promise<void>) | undefined;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

before(async () => {
  cliEnv = { SOCLE_DATA_DIR: join(work, 'db'), LOG_LEVEL: 'info' };
  if (process.env.DATABASE_URL) {
    const name = `socle_test_${randomBytes(6).toString('hex')}`;
    await admin((c) => c.query(`CREATE DATABASE ${name}`));
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    cliEnv.DATABASE_URL = url.toString();
    dropDatabase = () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined);
  }
});
after(async () => {
  await dropDatabase?.();
  rmSync(work, { recursive: true, force: true });
});

function socle(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/socle.js', ...args], { env: { ...process.env, ...cliEnv }, encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const nomenclatureLog = (stdout: string) => JSON.parse(stdout.split('\n').find((l) => l.includes('"French nomenclatures"')) as string);

describe('socle terminology load', () => {
  const bundle = join(work, 'bundle.json');
  before(() => {
    const entries = [
      anatomy(ANATOMY, '1'),
      { resourceType: 'ValueSet', url: `${ANATOMY}/vs`, version: '1', status: 'active', compose: { include: [{ system: ANATOMY }] } },
      { resourceType: 'ConceptMap', url: `${ANATOMY}/map`, status: 'active', group: [{ source: ANATOMY, target: G15, element: [{ code: 'coeur', target: [{ code: '10', equivalence: 'relatedto' }] }] }] },
      { resourceType: 'Patient', name: [{ family: 'Ignoré' }] },
    ];
    writeFileSync(bundle, JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: entries.map((resource) => ({ resource })) }));
  });

  test('loads a Bundle, then finds it unchanged; the nomenclatures are loaded once', async () => {
    const first = socle('terminology', 'load', bundle);
    assert.equal(first.status, 0, first.stderr + first.stdout);
    assert.match(first.stdout, /1 CodeSystem, 1 ValueSet, 1 ConceptMap \(3 created, 0 updated, 0 unchanged, 1 other resources skipped\)/);
    assert.ok(nomenclatureLog(first.stdout).created >= 20, first.stdout);
    const second = socle('terminology', 'load', bundle);
    assert.match(second.stdout, /\(0 created, 0 updated, 3 unchanged/);
    const restart = nomenclatureLog(second.stdout);
    assert.equal(restart.created + restart.updated, 0, 'nothing written again on restart');
  });

  test('loads a FHIR package (.tgz) and a folder of JSON files', () => {
    const pkg = socle('terminology', 'load', 'data/ig/ans.fhir.fr.sas-1.2.0.tgz');
    assert.equal(pkg.status, 0, pkg.stderr);
    assert.match(pkg.stdout, /1 CodeSystem, 9 ValueSet/);
    const folder = join(work, 'folder');
    spawnSync('mkdir', ['-p', join(folder, 'nested')]);
    writeFileSync(join(folder, 'nested', 'cs.json'), JSON.stringify(anatomy(ANATOMY, '2')));
    const out = socle('terminology', 'load', folder);
    assert.match(out.stdout, /1 CodeSystem \(1 created/);
  });

  test('reports a resource the validator refuses, loads the others, exits 1', () => {
    const bad = join(work, 'bad.json');
    const good = { resourceType: 'ValueSet', url: `${ANATOMY}/vs2`, status: 'active', compose: { include: [{ system: ANATOMY }] } };
    writeFileSync(bad, JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { ...anatomy(`${ANATOMY}/bad`, '1'), status: 'bogus' } }, { resource: good }] }));
    const out = socle('terminology', 'load', bad);
    assert.equal(out.status, 1);
    assert.match(out.stdout, /: 1 ValueSet \(1 created/);
    assert.match(out.stderr, /not loaded: CodeSystem .*\/bad\|1: .*status/);
    assert.equal(socle('terminology', 'load', join(work, 'missing.json')).status, 1);
  });
});

describe('the concept index follows CodeSystem writes', () => {
  let server: TestServer;
  let h: Http;
  before(async () => {
    server = await startTestServer();
    h = httpFor(server.fhirUrl);
  });
  after(async () => {
    await server?.close();
  });

  test('the shipped nomenclatures carry their canonical URL and OID', async () => {
    const res = await h.get(`CodeSystem?${q({ url: G15 })}`);
    const [cs] = res.body.entry.map((e: { resource: unknown }) => e.resource);
    assert.equal(cs.id, 'TRE-G15-ProfessionSante');
    assert.deepEqual(cs.identifier, [{ system: 'urn:ietf:rfc:3986', value: 'urn:oid:1.2.250.1.71.1.2.7' }]);
    assert.ok(cs.concept.some((c: { code: string; property?: { code: string; valueCode?: string }[] }) => c.code === '93' && c.property?.some((p) => p.valueCode === 'deprecated')));
  });

  test('update, duplicate version, delete', async () => {
    const url = `${ANATOMY}/writes`;
    const created = await h.post('CodeSystem', anatomy(url, '1'));
    assert.equal(created.status, 201, created.text);
    const changed = anatomy(url, '1');
    changed.concept![0].display = 'Corps entier';
    assert.equal((await h.put(`CodeSystem/${created.body.id}`, { ...changed, id: created.body.id })).status, 200);
    assert.equal(read((await h.get(`CodeSystem/$lookup?${q({ system: url, code: 'corps' })}`)).body).display, 'Corps entier');

    const duplicate = await h.post('CodeSystem', anatomy(url, '1'));
    assertOutcome(duplicate, { status: 422, code: 'duplicate', diagnostics: `CodeSystem/${created.body.id} already defines ${url}|1` });

    assert.equal((await h.delete(`CodeSystem/${created.body.id}`)).status, 204);
    assertOutcome(await h.get(`CodeSystem/$lookup?${q({ system: url, code: 'corps' })}`), { status: 404, diagnostics: `CodeSystem ${url} is not known` });
    assert.equal((await h.post('CodeSystem', anatomy(url, '1'))).status, 201, 'the url|version is free again');
  });
});
