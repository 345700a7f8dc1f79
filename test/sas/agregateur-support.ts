// Shared set-up of the aggregator tests: the aggregator on its own store (in-memory PGlite, or a fresh
// PostgreSQL database when DATABASE_URL is set) with the SAS profiles loaded, and a scriptable vendor
// that records what it is asked.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { loadConfig, vendoredPackages } from '../../src/config.ts';
import { openDatabase } from '../../src/db/index.ts';
import { withPgClient } from '../../src/db/postgres.ts';
import { createFhirCore } from '../../src/fhir/core.ts';
import { createLogger } from '../../src/log.ts';
import { registerAgregateur, type AccesAgregateur, type Agregateur } from '../../src/services/sas/agregateur/index.ts';

export interface Banc {
  agregateur: Agregateur;
  /** Where its HTTP routes listen (admin API, V3). */
  url: string;
  close(): Promise<void>;
}

/** The aggregator with these SOCLE_SAS_* settings (e.g. a short deadline). */
export async function demarrerAgregateur(reglages: Record<string, string> = {}, acces: AccesAgregateur = {}): Promise<Banc> {
  const adminUrl = process.env.DATABASE_URL;
  let databaseUrl: string | undefined;
  const nomBase = `socle_test_${randomBytes(6).toString('hex')}`;
  if (adminUrl) {
    await withPgClient(adminUrl, (c) => c.query(`CREATE DATABASE ${nomBase}`));
    const url = new URL(adminUrl);
    url.pathname = `/${nomBase}`;
    databaseUrl = url.toString();
  }
  const config = loadConfig({}, { dataDir: '', databaseUrl, fhirPackages: vendoredPackages(), logLevel: 'silent', demo: false });
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const db = await openDatabase({ databaseUrl });
  const fhir = await createFhirCore(db, config, log);
  const app = Fastify();
  const avant = { ...process.env };
  Object.assign(process.env, { SOCLE_SAS_V1_RETRY_MS: '0', ...reglages });
  const agregateur = await registerAgregateur(app, fhir, config, log, acces);
  process.env = avant;
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    agregateur,
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    async close() {
      await agregateur.close();
      await app.close();
      await db.close();
      if (adminUrl) await withPgClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${nomBase} WITH (FORCE)`));
    },
  };
}

export interface RequeteVue {
  methode: string;
  chemin: string;
  /** Query parameters, decoded, in order. */
  params: [string, string][];
  corps: string;
}

export type Script = (r: RequeteVue, res: ServerResponse) => void;

export interface EditeurScripte {
  url: string;
  vues: RequeteVue[];
  /** What the next requests get; by default an empty search Bundle. */
  script: Script;
  close(): Promise<void>;
}

export const bundleVide = (res: ServerResponse) => repondre(res, 200, { resourceType: 'Bundle', type: 'searchset', total: 0, link: [{ relation: 'self', url: 'x' }], entry: [] });

export function repondre(res: ServerResponse, statut: number, corps: unknown): void {
  res.writeHead(statut, { 'content-type': 'application/fhir+json' }).end(JSON.stringify(corps));
}

/** A vendor server answering as its script says, recording every request. */
export async function editeurScripte(): Promise<EditeurScripte> {
  const vues: RequeteVue[] = [];
  const e: EditeurScripte = {
    url: '',
    vues,
    script: (_r, res) => bundleVide(res),
    close: () => new Promise((resolve) => serveur.close(() => resolve())),
  };
  const serveur = createServer((req: IncomingMessage, res) => {
    let corps = '';
    req.on('data', (m: Buffer) => (corps += m.toString('utf8')));
    req.on('end', () => {
      const [chemin, q = ''] = (req.url ?? '/').split('?');
      const params = q
        .split('&')
        .filter(Boolean)
        .map((kv) => kv.split('=').map(decodeURIComponent) as [string, string]);
      const vue = { methode: req.method ?? 'GET', chemin, params, corps };
      vues.push(vue);
      e.script(vue, res);
    });
  });
  serveur.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => serveur.listen(0, '127.0.0.1', resolve));
  e.url = `http://127.0.0.1:${(serveur.address() as AddressInfo).port}`;
  e.close = () =>
    new Promise((resolve) => {
      serveur.closeAllConnections();
      serveur.close(() => resolve());
    });
  return e;
}

/** n RPPS numbers (11 digits) that differ from the simulator's. */
export const rppsFictifs = (n: number, base = 19000000000) => Array.from({ length: n }, (_, i) => String(base + i));
