// Composition root: reads the configuration, opens the store and registers each module.
// The list of modules below is the platform's table of contents.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/index.ts';
import { createLogger, type Logger } from './log.ts';
import { createFhirCore, type FhirCore } from './fhir/core.ts';
import { registerFhirApi } from './fhir/rest/index.ts';
import { registerIns, type InsModule } from './referentiels/ins/module.ts';
import { registerRor } from './referentiels/ror/module.ts';
import { verificateurCleApi } from './referentiels/annuaire/cle-api.ts';
import { registerAudit } from './audit/index.ts';
import { registerTerminology } from './terminology/index.ts';
import { registerAuth, type AuthService } from './auth/index.ts';
import { ouvrirTls, type TlsPlateforme } from './pki/tls.ts';
import { registerSas } from './services/sas/index.ts';

export interface Platform {
  config: Config;
  app: FastifyInstance;
  db: Database;
  fhir: FhirCore;
  ins: InsModule;
  auth: AuthService;
  /** The HTTPS listener with mutual TLS and the development PKI, when SOCLE_TLS_PORT is set. */
  tls?: TlsPlateforme;
  log: Logger;
  close(): Promise<void>;
}

export async function createPlatform(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Platform> {
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    // An empty dataDir keeps the embedded database in memory (tests).
    dataDir: config.databaseUrl ? undefined : config.dataDir || undefined,
  });
  const fhir = await createFhirCore(db, config, log);
  registerAudit(fhir);
  await registerTerminology(fhir, log);

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.trustProxy,
  });
  app.addHook('onResponse', async (req, reply) => {
    // No query strings, bodies or headers: they may carry identifiers or credentials.
    req.log.info({ method: req.method, route: req.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.get('/health', async () => ({ status: 'ok', database: db.kind }));
  const tls = await ouvrirTls(app, config); // first: its caller-tracking hook covers every route
  const auth = await registerAuth(app, fhir, config, tls);
  const verifyToken = (token: string) => auth.verifyAccessToken(token);
  const verifiers = { verifyToken, verifyCertificate: auth.certificatePrincipal, verifyApiKey: verificateurCleApi(config.esanteApiKeys) };
  const ins = await registerIns(app, fhir, config, log, verifyToken, tls);
  await registerRor(app, fhir, config, log, verifiers); // its $export and $capacites routes sit beside /fhir/*
  await app.register(registerFhirApi, { prefix: '/fhir', fhir, config, ...verifiers });
  await registerSas(app, fhir, config, log, { verifyToken, tls });

  let closing: Promise<void> | undefined;
  return {
    config,
    app,
    db,
    fhir,
    ins,
    auth,
    tls,
    log,
    close() {
      // Stop accepting requests, let the ones in flight finish (and their writes commit), then close the store.
      closing ??= (async () => {
        await app.close();
        await auth.close();
        await fhir.close();
        await db.close();
      })();
      return closing;
    },
  };
}
