// Configuration comes from the environment only, so that the same build runs on a laptop and in production.
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The implementation-guide packages shipped in data/ig: loaded unless SOCLE_FHIR_PACKAGES says otherwise. */
export const VENDORED_IG_DIR = fileURLToPath(new URL('../data/ig', import.meta.url));
export const vendoredPackages = (): string[] =>
  readdirSync(VENDORED_IG_DIR).filter((f) => f.endsWith('.tgz')).sort().map((f) => join(VENDORED_IG_DIR, f));

export interface Config {
  port: number;
  host: string;
  /** Public base URL of the platform, used in Location headers and Bundle links. */
  baseUrl: string;
  dataDir: string;
  /** postgres://… to use a PostgreSQL server; unset for the embedded PGlite database in dataDir. */
  databaseUrl?: string;
  /** Maximum request body size in bytes (413 beyond). */
  bodyLimit: number;
  /** Allow PUT to create a resource with a client-chosen id. */
  allowCreateOnUpdate: boolean;
  /** FHIR packages (.tgz or folders) whose profiles and search parameters are loaded at start (default: data/ig; "none" for none). */
  fhirPackages: string[];
  /** Threads that run the structural validation of bulk loads (SOCLE_VALIDATION_THREADS); 0 keeps it on the main thread. */
  validationThreads: number;
  /** Default and maximum page size of searches. */
  searchDefaultCount: number;
  searchMaxCount: number;
  logLevel: string;
  /** Load the demo data set at start when the database is empty. */
  demo: boolean;
  /** Refuse calls without a bearer token (SOCLE_AUTH, on by default). Tokens, when sent, are always checked. */
  authRequired: boolean;
  /** Identity (src/auth): external issuers trusted by discovery URL, bootstrap admin secret, master key sealing keys and secrets, one-time code outbox, access token lifetime (s). */
  authTrustedIssuers: string[];
  authAdminSecret?: string;
  authMasterKey?: string;
  authOtpOutbox: string;
  authAccessTokenTtl: number;
  /**
   * Which proxies may set X-Forwarded-For (SOCLE_TRUST_PROXY): false (default: the peer address is the
   * client), true, or addresses/CIDRs. The audit trail and the login rate limit read it.
   */
  trustProxy: boolean | string[];
  /** Keys of the applications reading the public directory with ESANTE-API-KEY, as on the national Annuaire API (none: header ignored). */
  esanteApiKeys: string[];
  /** Header carrying the client certificate verified by a TLS-terminating proxy (tls_client_auth). */
  authClientCertHeader?: string;
  /** Port of the HTTPS listener (mutual TLS, INSi); no HTTPS listener when undefined (SOCLE_TLS_PORT unset). */
  tlsPort?: number;
  /** Folder of the development PKI (CA, server certificate); empty keeps it in memory (tests). */
  pkiDir: string;
  /** SAS portal: LRM software allowed to open a contextual search (SOCLE_SAS_LRM_ORIGINS), and the `origin` added to vendors' booking URLs (SOCLE_SAS_ORIGIN). */
  sasLrmOrigins: string[];
  sasOrigin: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const port = int(env.PORT, 8080, 'PORT');
  const host = env.HOST ?? '0.0.0.0';
  const config: Config = {
    port,
    host,
    baseUrl: (env.SOCLE_BASE_URL ?? `http://localhost:${port}`).replace(/\/$/, ''),
    dataDir: resolve(env.SOCLE_DATA_DIR ?? 'data/db'),
    databaseUrl: env.DATABASE_URL || undefined,
    bodyLimit: int(env.SOCLE_BODY_LIMIT, 20 * 1024 * 1024, 'SOCLE_BODY_LIMIT'),
    allowCreateOnUpdate: bool(env.SOCLE_CREATE_ON_UPDATE, true),
    fhirPackages: packages(env.SOCLE_FHIR_PACKAGES),
    validationThreads: int(env.SOCLE_VALIDATION_THREADS, availableParallelism() > 1 ? 1 : 0, 'SOCLE_VALIDATION_THREADS'),
    searchDefaultCount: int(env.SOCLE_SEARCH_DEFAULT_COUNT, 50, 'SOCLE_SEARCH_DEFAULT_COUNT'),
    searchMaxCount: int(env.SOCLE_SEARCH_MAX_COUNT, 1000, 'SOCLE_SEARCH_MAX_COUNT'),
    logLevel: env.LOG_LEVEL ?? 'info',
    demo: bool(env.SOCLE_DEMO, true),
    authRequired: bool(env.SOCLE_AUTH, true),
    authTrustedIssuers: (env.SOCLE_TRUSTED_ISSUERS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    authAdminSecret: env.SOCLE_ADMIN_SECRET || undefined,
    authMasterKey: env.SOCLE_AUTH_MASTER_KEY || undefined,
    authOtpOutbox: env.SOCLE_OTP_OUTBOX || 'console',
    authAccessTokenTtl: int(env.SOCLE_ACCESS_TOKEN_TTL, 300, 'SOCLE_ACCESS_TOKEN_TTL'),
    authClientCertHeader: env.SOCLE_CLIENT_CERT_HEADER?.toLowerCase() || undefined,
    trustProxy: trustProxy(env.SOCLE_TRUST_PROXY),
    esanteApiKeys: (env.SOCLE_ESANTE_API_KEYS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    tlsPort: env.SOCLE_TLS_PORT ? int(env.SOCLE_TLS_PORT, 0, 'SOCLE_TLS_PORT') : undefined,
    pkiDir: resolve(env.SOCLE_PKI_DIR ?? 'data/run/pki'),
    sasLrmOrigins: (env.SOCLE_SAS_LRM_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    sasOrigin: env.SOCLE_SAS_ORIGIN || 'sas',
    ...overrides,
  };
  return config;
}

function packages(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return vendoredPackages();
  if (value.trim() === 'none') return [];
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function trustProxy(value: string | undefined): boolean | string[] {
  if (value === undefined || value === '' || ['0', 'false', 'no', 'off'].includes(value.toLowerCase())) return false;
  if (['true', 'yes', 'on'].includes(value.toLowerCase())) return true;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

function bool(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(value.toLowerCase());
}
