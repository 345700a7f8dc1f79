// The two OpenID providers (oidc-provider, OpenID certified): professionals at /auth/pro, laid out
// like Pro Santé Connect's Keycloak realm so that a PSC relying party only changes its base URL,
// and patients at /auth/patient. Built lazily: the issuer URL is the platform's base URL, which a
// test server only knows once it listens.
import { createHmac } from 'node:crypto';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config.ts';
import type { Database } from '../db/index.ts';
import type { FhirCore } from '../fhir/core.ts';
import { storedResourceTypes } from '../fhir/definitions.ts';
import type { Logger } from '../log.ts';
import type { TlsPlateforme } from '../pki/tls.ts';
import type { Account, Accounts } from './accounts.ts';
import { sqlAdapter } from './adapter.ts';
import { patientIdentity, professionalIdentity } from './claims.ts';
import type { Clients, IssuerName } from './clients.ts';
import { signingKeys } from './keys.ts';
import { traceLogin } from './trace.ts';
import { cibaFeature } from './ciba.ts';
import { mtlsFeature } from './mtls.ts';
import { errorPage, layout, logoutPage } from './pages.ts';
import type { Sealer } from './secrets.ts';

export interface AuthContext {
  core: FhirCore;
  db: Database;
  config: Config;
  log: Logger;
  sealer: Sealer;
  masterKey: Buffer;
  clients: Clients;
  accounts: Accounts;
  /** The HTTPS listener, where CPS cards are presented. */
  tls?: TlsPlateforme;
}

/** What each issuer accepts: PSC asks for acr eidas1 only; a patient's password and second factor make eIDAS "substantiel" (eidas2). */
export const ACR: Record<IssuerName, { granted: string; accepted: string[] }> = {
  pro: { granted: 'eidas1', accepted: ['eidas1'] },
  patient: { granted: 'eidas2', accepted: ['eidas1', 'eidas2'] },
};

export const PSC_ROUTES = {
  authorization: '/protocol/openid-connect/auth',
  token: '/protocol/openid-connect/token',
  userinfo: '/protocol/openid-connect/userinfo',
  jwks: '/protocol/openid-connect/certs',
  introspection: '/protocol/openid-connect/token/introspect',
  revocation: '/protocol/openid-connect/revoke',
  end_session: '/protocol/openid-connect/logout',
  pushed_authorization_request: '/protocol/openid-connect/ext/par/request',
  backchannel_authentication: '/protocol/openid-connect/ext/ciba/auth',
};

const PSC_CLAIMS = [
  'SubjectNameID',
  'preferred_username',
  'given_name',
  'family_name',
  'SubjectRefPro',
  'SubjectRole',
  'Secteur_Activite',
  'SubjectOrganization',
  'SubjectOrganizationID',
  'Palier_Authentification',
  'otherIds',
  'UITVersion',
];

const CLAIMS: Record<IssuerName, Record<string, string[]>> = {
  pro: { openid: ['sub'], scope_all: PSC_CLAIMS, profile: ['given_name', 'family_name', 'preferred_username'] },
  patient: { openid: ['sub'], profile: ['given_name', 'family_name', 'birthdate', 'gender'], ins: ['ins', 'ins_oid'] },
};

/**
 * SMART system scopes a client may be registered with for client_credentials (system/Location.write,
 * system/*.rs…): listed, because the provider grants only scopes it knows and the client is allowed.
 */
const smartSystemScopes = () => ['*', ...storedResourceTypes()].flatMap((t) => ['read', 'write', '*', 'rs', 'cruds'].map((p) => `system/${t}.${p}`));

const SCOPES: Record<IssuerName, () => string[]> = {
  // insi: software calling the INSi teleservice without a person (INSI-AUTO). ror-profil-N: the ROR access
  // profile given to a consuming application (src/referentiels/ror/confidentialite.ts).
  pro: () => ['openid', 'offline_access', 'scope_all', 'profile', 'admin', 'insi', ...[0, 1, 2, 3, 4, 5].map((n) => `ror-profil-${n}`), ...smartSystemScopes()],
  patient: () => ['openid', 'offline_access', 'profile', 'ins'],
};

/** Professionals' subjects read like PSC's ("f:<uuid>:<idNat_PS>"); patients' are the account id. */
export const subjectOf = (account: Account) => (account.kind === 'professional' ? `f:${account.id}:${account.login}` : account.id);
export const accountIdOf = (sub: string) => (sub.startsWith('f:') ? sub.split(':')[1] : sub);

export function deriveKey(masterKey: Buffer, purpose: string): string {
  return createHmac('sha256', masterKey).update(purpose).digest('base64url');
}

export class Issuer {
  private current?: { baseUrl: string; provider: Promise<Provider> };

  constructor(
    readonly name: IssuerName,
    private readonly ctx: AuthContext,
  ) {}

  get url(): string {
    return `${this.ctx.config.baseUrl}/auth/${this.name}`;
  }

  provider(): Promise<Provider> {
    if (!this.current || this.current.baseUrl !== this.ctx.config.baseUrl) {
      const provider = this.build();
      provider.catch(() => (this.current = undefined));
      this.current = { baseUrl: this.ctx.config.baseUrl, provider };
    }
    return this.current.provider;
  }

  /** Rebuilds the provider on next use, e.g. with rotated keys. */
  reset(): void {
    this.current = undefined;
  }

  private async build(): Promise<Provider> {
    const { ctx, name } = this;
    const keys = await signingKeys(ctx.db, ctx.sealer, name, ctx.log);
    const secure = ctx.config.baseUrl.startsWith('https:');
    const cookie = { httpOnly: true, sameSite: 'lax' as const, signed: true, secure };
    const configuration: Configuration = {
      adapter: sqlAdapter(ctx.db, name, ctx.clients, { scopes: SCOPES[name](), acr: ACR[name].granted }),
      jwks: { keys: keys as never },
      cookies: {
        keys: [deriveKey(ctx.masterKey, `cookies:${name}`)],
        long: cookie,
        short: cookie,
        names: { session: `socle_${name}_session`, interaction: `socle_${name}_interaction`, resume: `socle_${name}_resume` },
      },
      routes: PSC_ROUTES,
      scopes: SCOPES[name](),
      claims: CLAIMS[name],
      acrValues: ACR[name].accepted,
      responseTypes: ['code'],
      pkce: { methods: ['S256'] },
      clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth'],
      extraClientMetadata: {
        properties: ['socle_loopback_patterns'],
        validator(_ctx, key, value) {
          if (key === 'socle_loopback_patterns' && value !== undefined && !(Array.isArray(value) && value.every((v) => typeof v === 'string'))) {
            throw new Error('socle_loopback_patterns must be strings');
          }
        },
      },
      features: {
        devInteractions: { enabled: false },
        claimsParameter: { enabled: true },
        mTLS: mtlsFeature(ctx.config.authClientCertHeader),
        introspection: { enabled: true },
        revocation: { enabled: true },
        userinfo: { enabled: true },
        jwtUserinfo: { enabled: true },
        clientCredentials: { enabled: name === 'pro' },
        ciba: name === 'pro' ? cibaFeature(ctx) : { enabled: false, deliveryModes: ['poll'] },
        // Opaque access tokens, stored: the platform (and introspection) sees revocations at once.
        resourceIndicators: { enabled: false },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: async (kctx, form) => {
            kctx.body = logoutPage(name, form);
          },
          postLogoutSuccessSource: async (kctx) => {
            kctx.body = layout(name, 'Déconnexion', '    <h1 class="fr-h3">Vous êtes déconnecté.</h1>');
          },
        },
      },
      ttl: {
        AccessToken: ctx.config.authAccessTokenTtl,
        ClientCredentials: ctx.config.authAccessTokenTtl,
        AuthorizationCode: 60,
        IdToken: 3600,
        Interaction: 15 * 60,
        Grant: 12 * 3600,
        Session: 12 * 3600,
        RefreshToken: (_kctx, token) => (token.scopes.has('offline_access') ? 14 * 24 * 3600 : 12 * 3600),
      },
      issueRefreshToken: async (_kctx, client) => client.grantTypeAllowed('refresh_token'),
      rotateRefreshToken: true,
      interactions: { url: (_kctx, interaction) => `/auth/${name}/interaction/${interaction.uid}` },
      // Registered clients are the operator's: no consent screen, as with Pro Santé Connect.
      loadExistingGrant: async (kctx) => {
        const { oidc } = kctx;
        const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(oidc.client!.clientId);
        const grant = (grantId && (await oidc.provider.Grant.find(grantId))) || new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session!.accountId });
        grant.addOIDCScope([...oidc.requestParamScopes].join(' '));
        const claims = Object.keys({ ...oidc.claims?.id_token, ...oidc.claims?.userinfo });
        if (claims.length > 0) grant.addOIDCClaims(claims);
        await grant.save();
        return grant;
      },
      findAccount: async (_kctx, sub) => {
        const account = await ctx.accounts.get(accountIdOf(sub));
        if (!account || account.disabled || subjectOf(account) !== sub) return undefined;
        return {
          accountId: sub,
          claims: async () => ({ sub, ...(await this.identity(account))?.claims }),
        };
      },
      extraTokenClaims: async (kctx, token) => {
        if (token.kind !== 'AccessToken' || !('accountId' in token) || !token.accountId) return undefined;
        const account = await ctx.accounts.get(accountIdOf(token.accountId));
        if (!account) return undefined;
        const entities = kctx.oidc.entities;
        const acr = entities.AuthorizationCode?.acr ?? entities.RefreshToken?.acr ?? kctx.oidc.session?.acr;
        const identity = await this.identity(account);
        return name === 'pro'
          ? {
              acr,
              preferred_username: account.login,
              practitioner_id: identity && 'practitionerId' in identity ? identity.practitionerId : undefined,
              professions: identity && 'professions' in identity ? identity.professions : [],
              specialties: identity && 'specialties' in identity ? identity.specialties : [],
            }
          : { acr, ins: account.login, patient_id: identity && 'patientId' in identity ? identity.patientId : account.resourceId };
      },
      clientBasedCORS: (_kctx, origin, client) => client.redirectUris?.some((u) => URL.canParse(u) && new URL(u).origin === origin) ?? false,
      renderError: async (kctx, out) => {
        kctx.type = 'html';
        kctx.body = errorPage(name, String(out.error), out.error_description ? String(out.error_description) : undefined);
      },
    };
    const provider = new Provider(this.url, configuration);
    provider.proxy = true;
    allowLoopbackPatterns(provider);
    provider.on('server_error', (_kctx: KoaContextWithOIDC, err: Error) => ctx.log.error({ err, issuer: name }, 'identity provider error'));
    // Logouts are traced like logins, once the provider has ended the session (awaited: nothing lost).
    provider.use(async (kctx, next) => {
      await next();
      if (kctx.oidc?.route !== 'end_session_confirm' || kctx.status !== 303) return;
      const sub = kctx.oidc.session?.accountId;
      if (!sub) return;
      const account = await ctx.accounts.get(accountIdOf(sub));
      await traceLogin(ctx, { issuer: name, event: 'logout', ok: true, login: account?.login ?? sub, resourceId: account?.resourceId ?? undefined, ip: kctx.ip });
    });
    return provider;
  }

  private identity(account: Account) {
    return account.kind === 'professional' ? professionalIdentity(this.ctx.core, account.login) : patientIdentity(this.ctx.core, account.login);
  }
}

/** `http://127.0.0.1:*` registered: any port and path on that loopback host (RFC 8252 §7.3 native apps, test relying parties). */
function allowLoopbackPatterns(provider: Provider): void {
  const proto = provider.Client.prototype as unknown as Record<string, (this: { socle_loopback_patterns?: string[] }, uri: string) => boolean>;
  const matches = (patterns: string[] | undefined, uri: string) => {
    if (!patterns?.length || !URL.canParse(uri)) return false;
    const u = new URL(uri);
    return u.protocol === 'http:' && !u.hash && patterns.some((p) => p.startsWith(`http://${u.hostname}:*`) && u.pathname.startsWith(new URL(p.replace(':*', '')).pathname));
  };
  for (const method of ['redirectUriAllowed', 'postLogoutRedirectUriAllowed']) {
    const original = proto[method];
    proto[method] = function (uri) {
      return original.call(this, uri) || matches(this.socle_loopback_patterns, uri);
    };
  }
}
