// oidc-provider's storage: one SQL table for sessions, grants, codes, tokens and interactions of
// both issuers, so that they survive restarts and are shared by every instance on one database.
// Clients are not stored here: they come from the registry.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Queryable } from '../db/index.ts';
import type { Clients, IssuerName, IssuerPolicy } from './clients.ts';

/** policy: the scopes the issuer supports (a client registered for both keeps, on each, those that apply) and its acr. */
export function sqlAdapter(db: Queryable, issuer: IssuerName, clients: Clients, policy: IssuerPolicy) {
  return class SqlAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      await db.query(
        `INSERT INTO auth_oidc_payload (issuer, model, id, payload, grant_id, uid, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::int IS NULL THEN NULL ELSE now() + make_interval(secs => $7::int) END)
         ON CONFLICT (issuer, model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
           uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at`,
        [issuer, this.model, id, JSON.stringify(payload), payload.grantId ?? null, payload.uid ?? null, expiresIn || null],
      );
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return (await clients.metadata(issuer, id, policy)) as AdapterPayload | undefined;
      return this.one('id = $3', id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.one('uid = $3', uid);
    }

    // The device flow is not enabled: there are no user codes to find.
    async findByUserCode(): Promise<undefined> {
      return undefined;
    }

    async consume(id: string): Promise<void> {
      await db.query('UPDATE auth_oidc_payload SET consumed_at = now() WHERE issuer = $1 AND model = $2 AND id = $3', [issuer, this.model, id]);
    }

    async destroy(id: string): Promise<void> {
      await db.query('DELETE FROM auth_oidc_payload WHERE issuer = $1 AND model = $2 AND id = $3', [issuer, this.model, id]);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.query('DELETE FROM auth_oidc_payload WHERE issuer = $1 AND grant_id = $2', [issuer, grantId]);
    }

    private async one(where: string, value: string): Promise<AdapterPayload | undefined> {
      const { rows } = await db.query<{ payload: string; consumed: number | null }>(
        `SELECT payload, extract(epoch FROM consumed_at)::int AS consumed FROM auth_oidc_payload
         WHERE issuer = $1 AND model = $2 AND ${where} AND (expires_at IS NULL OR expires_at > now())`,
        [issuer, this.model, value],
      );
      if (!rows[0]) return undefined;
      const payload = JSON.parse(rows[0].payload) as AdapterPayload;
      return rows[0].consumed === null ? payload : { ...payload, consumed: rows[0].consumed };
    }
  };
}

/** Expired rows are useless to oidc-provider; a day's grace keeps them for investigations. */
export async function purgeExpired(db: Queryable): Promise<void> {
  await db.query("DELETE FROM auth_oidc_payload WHERE expires_at < now() - interval '1 day'");
  await db.query("DELETE FROM auth_challenge WHERE expires_at < now() - interval '1 day'");
}
