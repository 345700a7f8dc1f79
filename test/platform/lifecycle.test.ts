// The platform as an operator meets it: the `socle` command, start on an on-disk embedded database,
// clean shutdown on SIGTERM without losing an acknowledged write, data still there after restart.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const dataDir = mkdtempSync(join(tmpdir(), 'socle-lifecycle-'));
// Unique per run: under DATABASE_URL the platform writes to a shared PostgreSQL database.
const system = `urn:socle:test:lifecycle:${randomUUID()}`;
after(() => rmSync(dataDir, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function start(port: number, env: Record<string, string> = {}): Promise<{ child: ChildProcess; logs: () => string }> {
  let out = '';
  // The PostgreSQL run of the suite starts the platform on the server too.
  const child = spawn(process.execPath, ['bin/socle.js', 'start'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', SOCLE_DATA_DIR: dataDir, SOCLE_DEMO: 'false', SOCLE_AUTH: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`socle start exited early:\n${out}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (ok) return { child, logs: () => out };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`socle start did not answer /health within 60 s:\n${out}`);
}

const stopped = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('socle command', () => {
  it('--help lists the commands', () => {
    const r = spawnSync(process.execPath, ['bin/socle.js', '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    for (const c of ['start', 'reindex', 'ins']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
  });

  it('an unknown command exits 2 and shows the help', () => {
    const r = spawnSync(process.execPath, ['bin/socle.js', 'nope'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command "nope"/);
  });

  it('a bad setting is refused with its name', () => {
    const r = spawnSync(process.execPath, ['bin/socle.js', 'start'], { encoding: 'utf8', env: { ...process.env, PORT: 'eighty' } });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /PORT must be a non-negative integer/);
  });
});

describe('start, SIGTERM, restart', () => {
  it('keeps every acknowledged write across a SIGTERM and a restart, and logs no health data', async () => {
    const port = await freePort();
    const { child, logs } = await start(port);
    const base = `http://127.0.0.1:${port}/fhir`;
    const post = (i: number) =>
      fetch(`${base}/Patient`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system, value: `p${i}` }], name: [{ family: 'Lifecycle-Secret' }] }),
      });
    const first = await post(0);
    assert.equal(first.status, 201);
    // Writes in flight when SIGTERM arrives either complete (and are kept) or are refused; none is lost.
    const inflight = Array.from({ length: 20 }, (_, i) => post(i + 1).then((r) => r.status, () => 0));
    const exit = stopped(child);
    child.kill('SIGTERM');
    const statuses = await Promise.all(inflight);
    assert.equal(await exit, 0, logs());
    const acknowledged = statuses.filter((s) => s === 201).length;
    assert.ok(!logs().includes('Lifecycle-Secret') && !logs().includes(system), 'request bodies and query strings must not be logged');

    const again = await start(port);
    try {
      const bundle = await (await fetch(`${base}/Patient?identifier=${encodeURIComponent(`${system}|`)}&_summary=count`)).json();
      assert.equal(bundle.total, acknowledged + 1);
    } finally {
      const done = stopped(again.child);
      again.child.kill('SIGTERM');
      assert.equal(await done, 0);
    }
  });
});

describe('quick start', () => {
  it('npm start loads the demo data set, and `socle token` opens the API to it', async () => {
    const demoDir = mkdtempSync(join(tmpdir(), 'socle-demo-'));
    const port = await freePort();
    // Embedded database even in the PostgreSQL run: the demo loads into an empty store only.
    const env = { SOCLE_DATA_DIR: demoDir, SOCLE_DEMO: 'true', SOCLE_AUTH: 'on', SOCLE_BASE_URL: `http://127.0.0.1:${port}`, DATABASE_URL: '' };
    const { child, logs } = await start(port, env);
    try {
      const base = `http://127.0.0.1:${port}/fhir`;
      assert.equal((await fetch(`${base}/Practitioner`)).status, 401, 'no token, no data');
      const token = spawnSync(process.execPath, ['bin/socle.js', 'token'], { encoding: 'utf8', env: { ...process.env, ...env } });
      assert.equal(token.status, 0, token.stderr);
      // The demo directory import runs in the background and adds practitioners at its own pace: count the seed's.
      const tag = encodeURIComponent('https://socle.esante.example/fhir/CodeSystem/jeu|demo');
      const bundle = await (await fetch(`${base}/Practitioner?_tag=${tag}&_summary=count`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } })).json();
      assert.equal(bundle.total, 48, logs());
    } finally {
      const done = stopped(child);
      child.kill('SIGTERM');
      await done;
      rmSync(demoDir, { recursive: true, force: true });
    }
  });
});
