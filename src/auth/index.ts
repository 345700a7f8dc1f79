// Identity of the platform: the professional issuer (/auth/pro, Pro Santé Connect–compatible), the
// patient issuer (/auth/patient), the client registry and its admin API, and the verification of
// bearer tokens and client certificates for the platform's APIs.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import type { FhirCore } from '../fhir/core.ts';
import type { Logger } from '../log.ts';
import type { TlsPlateforme } from '../pki/tls.ts';
import { Accounts } from './accounts.ts';
import { purgeExpired } from './adapter.ts';
import { adminRoutes } from './admin.ts';
import { certificateVerifier } from './certificat.ts';
import { Clients, ensureAdminClient, type IssuerName } from './clients.ts';
import { interactionRoutes } from './interactions.ts';
import { assetRoutes, providerRoutes } from './mount.ts';
import { createOtpSender } from './otp-sender.ts';
import { type AuthContext, Issuer } from './provider.ts';
import { masterKey, Sealer } from './secrets.ts';
import type { AuthService } from './types.ts';
import { TokenVerifier } from './verify.ts';

export { AuthError, type AuthService, type Principal } from './types.ts';
export { seedAuthDemo, type AuthDemo } from './demo.ts';

const PURGE_EVERY_MS = 60 * 60 * 1000;

export async function registerAuth(app: FastifyInstance, core: FhirCore, config: Config, tls?: TlsPlateforme): Promise<AuthService> {
  const log = app.log as Logger;
  const key = masterKey(config, core.db);
  const sealer = new Sealer(key);
  const clients = new Clients(core.db, sealer);
  const ctx: AuthContext = {
    core,
    db: core.db,
    config,
    log,
    sealer,
    masterKey: key,
    clients,
    accounts: new Accounts(core.db, sealer, createOtpSender(config.authOtpOutbox)),
    tls,
  };
  await ensureAdminClient(clients, config);
  await purgeExpired(core.db);
  const issuers: Record<IssuerName, Issuer> = { pro: new Issuer('pro', ctx), patient: new Issuer('patient', ctx) };
  const verifier = new TokenVerifier(core.db, core, issuers, config.authTrustedIssuers, log);
  const verifyAccessToken = (token: string) => verifier.verify(token);

  await app.register(providerRoutes(issuers));
  await app.register(interactionRoutes(issuers, ctx));
  await app.register(assetRoutes);
  await app.register(adminRoutes(ctx, issuers, verifyAccessToken));

  const timer = setInterval(() => purgeExpired(core.db).catch((err) => log.warn({ err }, 'auth purge failed')), PURGE_EVERY_MS);
  timer.unref();
  return {
    verifyAccessToken,
    certificatePrincipal: certificateVerifier(core, clients),
    async close() {
      clearInterval(timer);
    },
  };
}
