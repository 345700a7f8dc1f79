// The registry of relying parties (client applications), shared by both issuers. oidc-provider
// reads clients through its adapter, which asks this registry; secrets are sealed at rest.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { Queryable } from '../db/index.ts';
import { randomToken, Sealer } from './secrets.ts';

export type IssuerName = 'pro' | 'patient';
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
/** OpenID Connect CIBA (backchannel authentication, poll mode): see ciba.ts. */
export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', CIBA_GRANT];
export const ADMIN_CLIENT_ID = 'socle-admin';

export interface ClientRecord {
  clientId: string;
  name: string;
  issuers: IssuerName[];
  /** Exact URIs; `http://127.0.0.1:*` (or localhost, [::1]) accepts any port and path on the loopback interface (RFC 8252). */
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  scopes: string[];
  grantTypes: string[];
  authMethod: AuthMethod;
  /** Public keys of a private_key_jwt client. */
  jwks?: { keys: object[] };
  /** Subject DN of the certificate of a tls_client_auth client. */
  tlsSubjectDn?: string;
  /** Userinfo as a signed JWT (application/jwt) instead of JSON. */
  userinfoSigned: boolean;
}

export interface IssuerPolicy {
  scopes: string[];
  /** Asked for when the client does not say, so that ID tokens always carry acr. */
  acr: string;
}

export type ClientInput = Partial<ClientRecord> & { clientId: string; secret?: string };

export class ClientError extends Error {}

const LOOPBACK_PATTERN = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\*(\/.*)?$/;
const isLoopbackPattern = (uri: string) => LOOPBACK_PATTERN.test(uri);

interface Row {
  client_id: string;
  name: string;
  sealed_secret: string | null;
  issuers: string;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  scopes: string;
  grant_types: string;
  auth_method: AuthMethod;
  jwks: string | null;
  tls_subject_dn: string | null;
  userinfo_signed: boolean;
}

const toRecord = (r: Row): ClientRecord => ({
  clientId: r.client_id,
  name: r.name,
  issuers: JSON.parse(r.issuers),
  redirectUris: JSON.parse(r.redirect_uris),
  postLogoutRedirectUris: JSON.parse(r.post_logout_redirect_uris),
  scopes: JSON.parse(r.scopes),
  grantTypes: JSON.parse(r.grant_types),
  authMethod: r.auth_method,
  ...(r.jwks ? { jwks: JSON.parse(r.jwks) } : {}),
  ...(r.tls_subject_dn ? { tlsSubjectDn: r.tls_subject_dn } : {}),
  userinfoSigned: r.userinfo_signed,
});

export class Clients {
  constructor(
    private readonly db: Queryable,
    private readonly sealer: Sealer,
  ) {}

  /** Creates or replaces a client. Returns the secret when one was generated (shown once, never stored in clear). */
  async upsert(input: ClientInput): Promise<{ client: ClientRecord; secret?: string }> {
    const existing = await this.row(input.clientId);
    const base = existing ? toRecord(existing) : undefined;
    const client: ClientRecord = {
      clientId: input.clientId,
      name: input.name ?? base?.name ?? input.clientId,
      issuers: input.issuers ?? base?.issuers ?? ['pro', 'patient'],
      redirectUris: input.redirectUris ?? base?.redirectUris ?? [],
      postLogoutRedirectUris: input.postLogoutRedirectUris ?? base?.postLogoutRedirectUris ?? input.redirectUris ?? base?.redirectUris ?? [],
      scopes: input.scopes ?? base?.scopes ?? ['openid', 'scope_all'],
      grantTypes: input.grantTypes ?? base?.grantTypes ?? ['authorization_code', 'refresh_token'],
      authMethod: input.authMethod ?? base?.authMethod ?? 'client_secret_basic',
      jwks: input.jwks ?? base?.jwks,
      tlsSubjectDn: input.tlsSubjectDn ?? base?.tlsSubjectDn,
      userinfoSigned: input.userinfoSigned ?? base?.userinfoSigned ?? false,
    };
    validate(client);
    const needsSecret = client.authMethod.startsWith('client_secret');
    let secret = input.secret;
    let generated: string | undefined;
    if (needsSecret && !secret && !existing?.sealed_secret) secret = generated = randomToken(24);
    const sealed = secret ? this.sealer.seal(secret) : needsSecret ? existing!.sealed_secret : null;
    await this.db.query(
      `INSERT INTO auth_client (client_id, name, sealed_secret, issuers, redirect_uris, post_logout_redirect_uris, scopes, grant_types,
         auth_method, jwks, tls_subject_dn, userinfo_signed)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (client_id) DO UPDATE SET name = EXCLUDED.name, sealed_secret = EXCLUDED.sealed_secret, issuers = EXCLUDED.issuers,
         redirect_uris = EXCLUDED.redirect_uris, post_logout_redirect_uris = EXCLUDED.post_logout_redirect_uris, scopes = EXCLUDED.scopes,
         grant_types = EXCLUDED.grant_types, auth_method = EXCLUDED.auth_method, jwks = EXCLUDED.jwks, tls_subject_dn = EXCLUDED.tls_subject_dn,
         userinfo_signed = EXCLUDED.userinfo_signed, updated_at = now()`,
      [
        client.clientId,
        client.name,
        sealed,
        JSON.stringify(client.issuers),
        JSON.stringify(client.redirectUris),
        JSON.stringify(client.postLogoutRedirectUris),
        JSON.stringify(client.scopes),
        JSON.stringify(client.grantTypes),
        client.authMethod,
        client.jwks ? JSON.stringify(client.jwks) : null,
        client.tlsSubjectDn ?? null,
        client.userinfoSigned,
      ],
    );
    return { client, ...(generated ? { secret: generated } : {}) };
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const row = await this.row(clientId);
    return row && toRecord(row);
  }

  async list(): Promise<ClientRecord[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM auth_client ORDER BY client_id');
    return rows.map(toRecord);
  }

  async remove(clientId: string): Promise<boolean> {
    const { rowCount } = await this.db.query('DELETE FROM auth_client WHERE client_id = $1', [clientId]);
    return rowCount > 0;
  }

  /** The client secret in clear, for oidc-provider's comparison; undefined if sealed with another master key. */
  async secret(clientId: string): Promise<string | undefined> {
    const row = await this.row(clientId);
    return row?.sealed_secret ? this.sealer.open(row.sealed_secret) : undefined;
  }

  /** The client as oidc-provider metadata, if it may use this issuer. */
  async metadata(issuer: IssuerName, clientId: string, policy: IssuerPolicy): Promise<Record<string, unknown> | undefined> {
    const row = await this.row(clientId);
    if (!row) return undefined;
    const c = toRecord(row);
    if (!c.issuers.includes(issuer)) return undefined;
    const secret = row.sealed_secret ? this.sealer.open(row.sealed_secret) : undefined;
    if (c.authMethod.startsWith('client_secret') && !secret) return undefined;
    const code = c.grantTypes.includes('authorization_code');
    const exact = c.redirectUris.filter((u) => !isLoopbackPattern(u));
    const patterns = c.redirectUris.filter(isLoopbackPattern);
    return {
      client_id: c.clientId,
      client_name: c.name,
      ...(secret ? { client_secret: secret } : {}),
      token_endpoint_auth_method: c.authMethod,
      grant_types: c.grantTypes,
      response_types: code ? ['code'] : [],
      // oidc-provider wants one concrete URI at least; the patterns are matched by the provider's override.
      redirect_uris: code ? (exact.length > 0 ? exact : ['http://127.0.0.1/']) : [],
      post_logout_redirect_uris: c.postLogoutRedirectUris.filter((u) => !isLoopbackPattern(u)),
      socle_loopback_patterns: [...patterns, ...c.postLogoutRedirectUris.filter(isLoopbackPattern)],
      scope: c.scopes.filter((s) => policy.scopes.includes(s)).join(' '),
      default_acr_values: [policy.acr],
      ...(c.jwks ? { jwks: c.jwks } : {}),
      ...(c.tlsSubjectDn ? { tls_client_auth_subject_dn: c.tlsSubjectDn } : {}),
      ...(c.userinfoSigned ? { userinfo_signed_response_alg: 'RS256' } : {}),
      ...(c.grantTypes.includes(CIBA_GRANT) ? { backchannel_token_delivery_mode: 'poll' } : {}),
    };
  }

  private async row(clientId: string): Promise<Row | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM auth_client WHERE client_id = $1', [clientId]);
    return rows[0];
  }
}

function validate(c: ClientRecord): void {
  if (!/^[A-Za-z0-9._-]{3,100}$/.test(c.clientId)) throw new ClientError('clientId: 3 to 100 letters, digits, ".", "_" or "-"');
  if (!AUTH_METHODS.includes(c.authMethod)) throw new ClientError(`authMethod must be one of ${AUTH_METHODS.join(', ')}`);
  if (c.issuers.length === 0 || c.issuers.some((i) => i !== 'pro' && i !== 'patient')) throw new ClientError('issuers: "pro" and/or "patient"');
  for (const g of c.grantTypes) if (!GRANT_TYPES.includes(g)) throw new ClientError(`grant type ${g} is not supported`);
  for (const uri of [...c.redirectUris, ...c.postLogoutRedirectUris]) {
    if (isLoopbackPattern(uri)) continue;
    if (!URL.canParse(uri) || new URL(uri).hash) throw new ClientError(`${uri} is not an absolute URI without fragment`);
  }
  if (c.grantTypes.includes('authorization_code') && c.redirectUris.length === 0) throw new ClientError('authorization_code needs redirectUris');
  if (c.authMethod === 'private_key_jwt' && !c.jwks?.keys?.length) throw new ClientError('private_key_jwt needs jwks (the public keys)');
  if (c.authMethod === 'tls_client_auth' && !c.tlsSubjectDn) throw new ClientError('tls_client_auth needs tlsSubjectDn');
  for (const s of c.scopes) if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s)) throw new ClientError(`invalid scope "${s}"`);
}

/**
 * The bootstrap administrator client (client_credentials, scope admin). Its secret comes from
 * SOCLE_ADMIN_SECRET, else from <dataDir>/admin-client-secret, else from the registry, else it is
 * generated and written to that file (0600) once.
 */
export async function ensureAdminClient(clients: Clients, config: Config): Promise<void> {
  const file = config.dataDir ? join(config.dataDir, 'admin-client-secret') : undefined;
  let secret = config.authAdminSecret ?? (file && existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined);
  secret ??= await clients.secret(ADMIN_CLIENT_ID);
  if (!secret) {
    secret = randomToken(24);
    if (file) {
      mkdirSync(config.dataDir, { recursive: true });
      writeFileSync(file, secret + '\n', { mode: 0o600 });
      chmodSync(file, 0o600);
    }
  }
  if ((await clients.secret(ADMIN_CLIENT_ID)) === secret) return;
  await clients.upsert({
    clientId: ADMIN_CLIENT_ID,
    name: 'Administration de la plateforme',
    issuers: ['pro'],
    redirectUris: [],
    postLogoutRedirectUris: [],
    scopes: ['admin'],
    grantTypes: ['client_credentials'],
    authMethod: 'client_secret_basic',
    secret,
  });
}

/** Where `socle token` finds the admin secret when the platform runs elsewhere. */
export function adminSecretFromFiles(config: Config): string | undefined {
  if (config.authAdminSecret) return config.authAdminSecret;
  const file = config.dataDir ? join(config.dataDir, 'admin-client-secret') : undefined;
  return file && existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}
