// Signing keys of each issuer: generated at first start, sealed in the database so tokens outlive
// restarts, rotated on demand or by age. A rotated key stays in the JWKS (verification only) so
// that tokens it signed remain valid until they expire.
import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Queryable } from '../db/index.ts';
import type { Logger } from '../log.ts';
import type { IssuerName } from './clients.ts';
import type { Sealer } from './secrets.ts';

const ALGS = ['RS256', 'ES256'] as const;
const MAX_AGE_DAYS = 90;
/** Retired keys kept in the JWKS, per algorithm. */
const KEEP_RETIRED = 1;

interface Row {
  kid: string;
  alg: string;
  sealed_jwk: string;
  retired: boolean;
  old: boolean;
}

/** The private JWKs for oidc-provider, active keys first: it signs with the first key of an algorithm. */
export async function signingKeys(db: Queryable, sealer: Sealer, issuer: IssuerName, log: Logger): Promise<JWK[]> {
  let rows = await load(db, issuer);
  const stale = rows.some((r) => !r.retired && r.old);
  const unreadable = rows.filter((r) => !sealer.open(r.sealed_jwk));
  if (unreadable.length > 0) {
    log.warn({ issuer, keys: unreadable.map((r) => r.kid) }, 'signing keys sealed with another master key (SOCLE_AUTH_MASTER_KEY): new keys generated');
    await db.query('DELETE FROM auth_signing_key WHERE issuer = $1 AND kid = ANY($2)', [issuer, unreadable.map((r) => r.kid)]);
  }
  const missing = ALGS.filter((alg) => !rows.some((r) => r.alg === alg && !r.retired && !unreadable.includes(r)));
  if (stale || missing.length > 0) {
    await rotate(db, sealer, issuer, stale ? [...ALGS] : missing);
    rows = await load(db, issuer);
  }
  const sorted = [...rows.filter((r) => !r.retired), ...rows.filter((r) => r.retired)];
  return sorted.flatMap((r) => {
    const jwk = sealer.open(r.sealed_jwk);
    return jwk ? [JSON.parse(jwk) as JWK] : [];
  });
}

/** Retires the active keys of the algorithms given and creates new ones. */
export async function rotate(db: Queryable, sealer: Sealer, issuer: IssuerName, algs: readonly string[] = ALGS): Promise<void> {
  for (const alg of algs) {
    const jwk = generate(alg);
    jwk.kid = await calculateJwkThumbprint(jwk);
    await db.query('UPDATE auth_signing_key SET retired_at = now() WHERE issuer = $1 AND alg = $2 AND retired_at IS NULL', [issuer, alg]);
    await db.query('INSERT INTO auth_signing_key (issuer, kid, alg, sealed_jwk) VALUES ($1, $2, $3, $4)', [
      issuer,
      jwk.kid,
      alg,
      sealer.seal(JSON.stringify(jwk)),
    ]);
    await db.query(
      `DELETE FROM auth_signing_key WHERE issuer = $1 AND alg = $2 AND retired_at IS NOT NULL AND kid NOT IN (
         SELECT kid FROM auth_signing_key WHERE issuer = $1 AND alg = $2 AND retired_at IS NOT NULL ORDER BY retired_at DESC LIMIT $3)`,
      [issuer, alg, KEEP_RETIRED],
    );
  }
}

function generate(alg: string): JWK {
  const { privateKey } =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...(privateKey.export({ format: 'jwk' }) as JWK), alg, use: 'sig' };
}

async function load(db: Queryable, issuer: IssuerName): Promise<Row[]> {
  const { rows } = await db.query<Row>(
    `SELECT kid, alg, sealed_jwk, retired_at IS NOT NULL AS retired, created_at < now() - make_interval(days => $2) AS old
     FROM auth_signing_key WHERE issuer = $1 ORDER BY created_at DESC`,
    [issuer, MAX_AGE_DAYS],
  );
  return rows;
}
