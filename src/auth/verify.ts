// Bearer token verification for the platform's APIs. Local tokens are opaque and stored: looking
// them up checks expiry and revocation at once. Tokens of external issuers (e.g. the real Pro Santé
// Connect), trusted by discovery URL, are JWTs checked against the issuer's JWKS, or opaque tokens
// checked by introspection when the discovery URL carries client credentials.
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import type { Database } from '../db/index.ts';
import type { FhirCore } from '../fhir/core.ts';
import type { Logger } from '../log.ts';
import { patientIdentity, professionalIdentity } from './claims.ts';
import type { IssuerName } from './clients.ts';
import type { Issuer } from './provider.ts';
import { AuthError, type Principal } from './types.ts';

interface External {
  discovery: string;
  credentials?: { id: string; secret: string };
  metadata?: Promise<{ issuer: string; jwks: ReturnType<typeof createRemoteJWKSet>; introspection?: string }>;
}

export class TokenVerifier {
  private readonly externals: External[];

  constructor(
    private readonly db: Database,
    private readonly core: FhirCore,
    private readonly issuers: Record<IssuerName, Issuer>,
    trusted: string[],
    private readonly log: Logger,
  ) {
    this.externals = trusted.map((entry) => {
      const url = new URL(entry);
      const credentials = url.username ? { id: decodeURIComponent(url.username), secret: decodeURIComponent(url.password) } : undefined;
      url.username = '';
      url.password = '';
      return { discovery: url.toString(), credentials };
    });
  }

  async verify(token: string): Promise<Principal> {
    if (!token || token.length > 8192) throw new AuthError(401, 'malformed token');
    const local = await this.local(token);
    if (local) return local;
    if (token.split('.').length === 3) return this.externalJwt(token);
    for (const ext of this.externals) {
      const claims = await this.introspect(ext, token);
      if (claims) return this.externalPrincipal(claims);
    }
    throw new AuthError(401, 'unknown token');
  }

  private async local(token: string): Promise<Principal | undefined> {
    const { rows } = await this.db.query<{ issuer: IssuerName; model: 'AccessToken' | 'ClientCredentials' }>(
      "SELECT issuer, model FROM auth_oidc_payload WHERE id = $1 AND model IN ('AccessToken', 'ClientCredentials')",
      [token],
    );
    if (!rows[0]) return undefined;
    const issuer = this.issuers[rows[0].issuer];
    const provider = await issuer.provider();
    const options = { ignoreExpiration: true };
    const found = rows[0].model === 'AccessToken' ? await provider.AccessToken.find(token, options) : await provider.ClientCredentials.find(token, options);
    if (!found) throw new AuthError(401, 'unknown token');
    if (found.isExpired) throw new AuthError(401, 'token expired');
    const scopes = found.scope ? found.scope.split(' ') : [];
    const base = { issuer: provider.issuer, clientId: found.clientId!, scopes };
    if (rows[0].model === 'ClientCredentials') {
      return { ...base, kind: 'system', subject: found.clientId!, ...(rows[0].issuer === 'pro' && scopes.includes('admin') ? { admin: true } : {}) };
    }
    const at = found as unknown as { accountId: string; grantId?: string; extra?: Record<string, unknown> };
    if (at.grantId && !(await provider.Grant.find(at.grantId))) throw new AuthError(401, 'token revoked');
    const extra = at.extra ?? {};
    const acr = typeof extra.acr === 'string' ? extra.acr : undefined;
    if (rows[0].issuer === 'pro') {
      return {
        ...base,
        kind: 'professional',
        subject: at.accountId,
        acr,
        idNatPs: extra.preferred_username as string,
        professions: (extra.professions as string[]) ?? [],
        specialties: (extra.specialties as string[]) ?? [],
        practitionerId: extra.practitioner_id as string | undefined,
      };
    }
    return { ...base, kind: 'patient', subject: at.accountId, acr, ins: extra.ins as string, patientId: extra.patient_id as string | undefined };
  }

  private async externalJwt(token: string): Promise<Principal> {
    let iss: string | undefined;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw new AuthError(401, 'malformed token');
    }
    for (const ext of this.externals) {
      const meta = await this.metadata(ext);
      if (!meta || meta.issuer !== iss) continue;
      try {
        const { payload } = await jwtVerify(token, meta.jwks, { issuer: meta.issuer, clockTolerance: 30, requiredClaims: ['exp', 'sub'] });
        return this.externalPrincipal(payload);
      } catch (err) {
        throw new AuthError(401, `invalid token: ${(err as Error).message}`);
      }
    }
    throw new AuthError(401, 'token from an untrusted issuer');
  }

  private async introspect(ext: External, token: string): Promise<JWTPayload | undefined> {
    const meta = await this.metadata(ext);
    if (!meta?.introspection || !ext.credentials) return undefined;
    const response = await fetch(meta.introspection, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(ext.credentials.id)}:${encodeURIComponent(ext.credentials.secret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ token }),
      signal: AbortSignal.timeout(5000),
    }).catch(() => undefined);
    if (!response?.ok) return undefined;
    const claims = (await response.json()) as JWTPayload & { active?: boolean };
    return claims.active && claims.iss === meta.issuer ? claims : undefined;
  }

  private async externalPrincipal(claims: JWTPayload & Record<string, unknown>): Promise<Principal> {
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    const clientId = String(claims.client_id ?? claims.azp ?? '');
    const base = { issuer: claims.iss!, subject: claims.sub!, clientId, scopes, acr: typeof claims.acr === 'string' ? claims.acr : undefined };
    const idNat = claims.SubjectNameID ?? claims.preferred_username;
    if (typeof idNat === 'string') {
      const pro = await professionalIdentity(this.core, idNat);
      if (pro) {
        const { practitionerId, professions, specialties } = pro;
        return { ...base, kind: 'professional', idNatPs: idNat, practitionerId, professions, specialties };
      }
    }
    if (typeof claims.ins === 'string') {
      const patient = await patientIdentity(this.core, claims.ins);
      if (patient) return { ...base, kind: 'patient', ins: claims.ins, patientId: patient.patientId };
    }
    if (clientId && claims.sub === clientId) return { ...base, kind: 'system' };
    // Deny by default: a person the platform does not know gets no principal.
    throw new AuthError(401, 'token subject unknown to the platform');
  }

  private metadata(ext: External): Promise<{ issuer: string; jwks: ReturnType<typeof createRemoteJWKSet>; introspection?: string } | undefined> {
    ext.metadata ??= (async () => {
      const response = await fetch(ext.discovery, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`discovery ${ext.discovery}: HTTP ${response.status}`);
      const doc = (await response.json()) as { issuer: string; jwks_uri: string; introspection_endpoint?: string };
      return { issuer: doc.issuer, jwks: createRemoteJWKSet(new URL(doc.jwks_uri)), introspection: doc.introspection_endpoint };
    })();
    return ext.metadata.catch((err) => {
      // Retried on the next token: the issuer may be back.
      ext.metadata = undefined;
      this.log.warn({ discovery: ext.discovery, err: (err as Error).message }, 'trusted issuer unreachable');
      return undefined;
    });
  }
}
