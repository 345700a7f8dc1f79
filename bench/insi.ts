// npm run bench:insi [-- --count N --duration S --concurrency C --seed S]
// Loads the INSi reference base (resumable: a second run reuses it), then measures INSi vérification
// calls over SOAP 1.2 and mutual TLS: calls per second and latency percentiles.
// PostgreSQL (DATABASE_URL): database socle_bench_insi, kept between runs, 10,000,000 identities by
// default. PGlite (embedded, in memory): 200,000 by default, its single connection being the limit.
import { Agent, request } from 'node:https';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { createPlatform } from '../src/server.ts';
import { chargerReference } from '../src/referentiels/ins/reference.ts';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string' },
    duration: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '32' },
    seed: { type: 'string', default: 'socle-demo' },
  },
});
const adminUrl = process.env.DATABASE_URL;
const nombre = Number(args.count ?? (adminUrl ? 10_000_000 : 200_000));
const duree = Number(args.duration) * 1000;
const concurrence = Number(args.concurrency);

let databaseUrl: string | undefined;
if (adminUrl) {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'socle_bench_insi'");
  if (!rowCount) await admin.query('CREATE DATABASE socle_bench_insi');
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = '/socle_bench_insi';
  databaseUrl = url.toString();
}

const config = loadConfig({}, { port: 0, host: '127.0.0.1', tlsPort: 0, pkiDir: '', dataDir: '', databaseUrl, logLevel: 'warn', demo: false, authRequired: false });
const platform = await createPlatform(config);
await platform.app.listen({ port: 0, host: '127.0.0.1' });
const db = platform.db;
const version = (await db.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;

console.log('# bench:insi — vérification INSi over SOAP 1.2 / mutual TLS');
console.log(`machine     ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}`);
console.log(`runtime     Node ${process.version}; database ${db.kind} ${version}${adminUrl ? ' (socle_bench_insi)' : ' (in memory)'}`);

const debut = performance.now();
let dernier = 0;
const bilan = await chargerReference(db, {
  nombre,
  graine: args.seed!,
  remplacer: true,
  surProgression(charges, total) {
    if (performance.now() - dernier < 5000) return;
    dernier = performance.now();
    process.stderr.write(`  load ${charges} / ${total}, ${((dernier - debut) / 1000).toFixed(0)} s\n`);
  },
});
const secondesChargement = (performance.now() - debut) / 1000;
if (bilan.ajoutes > 0) await db.query('ANALYZE ins_reference_identity');
console.log(
  `base        ${bilan.total.toLocaleString('en')} reference identities (seed "${bilan.graine}")` +
    (bilan.ajoutes > 0 ? `; ${bilan.ajoutes.toLocaleString('en')} loaded in ${secondesChargement.toFixed(0)} s (${Math.round(bilan.ajoutes / secondesChargement)} rows/s)` : '; already loaded'),
);

// Identities spread over the whole base, read back from it.
const part = Math.min(100, (20_000 / Math.max(bilan.total, 1)) * 100);
const echantillon = (
  await db.query<{ nir: string; oid: string; nom_naissance: string; prenoms: string; sexe: string; date_naissance: string; lieu_naissance: string }>(
    `SELECT nir, oid, nom_naissance, prenoms, sexe, date_naissance, lieu_naissance FROM ins_reference_identity TABLESAMPLE SYSTEM (${part}) LIMIT 5000`,
  )
).rows;
const corps = echantillon.map(
  (i) =>
    `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Header>` +
    `<ctxbam:ContexteBAM xmlns:ctxbam="urn:siram:bam:ctxbam" Version="01_02"><ctxbam:Id>bench</ctxbam:Id></ctxbam:ContexteBAM>` +
    `<ctxlps:ContexteLPS xmlns:ctxlps="urn:siram:lps:ctxlps" Nature="CTXLPS" Version="01_00"><ctxlps:LPS><ctxlps:IDAM R="4">BENCH</ctxlps:IDAM><ctxlps:Nom>urn:lps:bench:1</ctxlps:Nom></ctxlps:LPS></ctxlps:ContexteLPS>` +
    `</soap:Header><soap:Body><VERIFINS xmlns="urn:socle:INSiVerif"><MatriculeINS><NumIdentifiant>${i.nir.slice(0, 13)}</NumIdentifiant><Cle>${i.nir.slice(13)}</Cle></MatriculeINS>` +
    `<OID>${i.oid}</OID><NomNaissance>${i.nom_naissance}</NomNaissance>${i.prenoms.split(' ').map((p) => `<Prenom>${p}</Prenom>`).join('')}` +
    `<Sexe>${i.sexe}</Sexe><DateNaissance>${i.date_naissance}</DateNaissance><LieuNaissance>${i.lieu_naissance}</LieuNaissance></VERIFINS></soap:Body></soap:Envelope>`,
);
if (corps.length === 0) throw new Error('the reference base is empty');

const pki = platform.ins.pki!;
const certificat = await pki.emettreOrganisation('INSI-AUTO', { identifiant: '1750712184', nom: 'Banc d’essai' });
const agent = new Agent({ keepAlive: true, maxSockets: concurrence, cert: certificat.cert, key: certificat.key, ca: pki.ca });
const port = platform.ins.tlsPort()!;

function verifier(xml: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: 'localhost', port, path: '/insi', method: 'POST', agent, headers: { 'content-type': 'application/soap+xml; charset=utf-8' } },
      (res) => {
        let texte = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (texte += c));
        res.on('end', () => resolve(res.statusCode === 200 && texte.includes('<CodeCR>00</CodeCR>')));
      },
    );
    req.on('error', reject);
    req.end(xml);
  });
}

async function charge(ms: number, mesurer: boolean): Promise<{ latences: number[]; erreurs: number; secondes: number }> {
  const latences: number[] = [];
  let erreurs = 0;
  let k = 0;
  const t0 = performance.now();
  const fin = t0 + ms;
  await Promise.all(
    Array.from({ length: concurrence }, async () => {
      while (performance.now() < fin) {
        const t = performance.now();
        const ok = await verifier(corps[k++ % corps.length]!).catch(() => false);
        if (!mesurer) continue;
        latences.push(performance.now() - t);
        if (!ok) erreurs++;
      }
    }),
  );
  return { latences, erreurs, secondes: (performance.now() - t0) / 1000 };
}

await charge(3000, false); // TLS sessions, JIT, caches
const { latences, erreurs, secondes } = await charge(duree, true);
latences.sort((a, b) => a - b);
const centile = (q: number) => latences[Math.min(latences.length - 1, Math.floor(q * latences.length))]!.toFixed(1);
console.log(`load        ${concurrence} concurrent clients (keep-alive TLS sessions, client in the same process), ${(secondes).toFixed(0)} s, ${echantillon.length} distinct identities`);
console.log(`vérification ${latences.length} calls, ${(latences.length / secondes).toFixed(0)} calls/s, errors ${erreurs}`);
console.log(`latency ms  p50 ${centile(0.5)}  p95 ${centile(0.95)}  p99 ${centile(0.99)}  max ${latences.at(-1)!.toFixed(1)}`);

agent.destroy();
await platform.close();
