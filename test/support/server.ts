// Starts a platform on a free port for one test file: in-memory PGlite, or, when DATABASE_URL is set,
// a fresh PostgreSQL database created for this server and dropped when it closes.
import { randomBytes } from 'node:crypto';
import { withPgClient } from '../../src/db/postgres.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createPlatform, type Platform } from '../../src/server.ts';

export interface TestServer {
  baseUrl: string;
  fhirUrl: string;
  platform: Platform;
  close(): Promise<void>;
}

export async function startTestServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const adminUrl = process.env.DATABASE_URL;
  let databaseUrl: string | undefined;
  let dbName: string | undefined;
  if (adminUrl) {
    dbName = `socle_test_${randomBytes(6).toString('hex')}`;
    await withPgClient(adminUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
    const url = new URL(adminUrl);
    url.pathname = `/${dbName}`;
    databaseUrl = url.toString();
  }
  // The FHIR semantics suites run without tokens; the access suites turn authRequired on. No IG packages
  // unless a suite asks (fhirPackages: vendoredPackages()): loading them takes a couple of seconds.
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: '', databaseUrl, logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', demo: false, authRequired: false, fhirPackages: [], ...overrides });
  const platform = await createPlatform(config);
  await platform.app.listen({ port: 0, host: '127.0.0.1' });
  const address = platform.app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  // Links and Location headers must point at the port actually bound.
  platform.config.baseUrl = baseUrl;
  return {
    baseUrl,
    fhirUrl: `${baseUrl}/fhir`,
    platform,
    async close() {
      await platform.close();
      if (adminUrl && dbName) await withPgClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
    },
  };
}

