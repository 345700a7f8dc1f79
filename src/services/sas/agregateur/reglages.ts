// Settings of the aggregator, from SOCLE_SAS_* environment variables. The SAS waits 7 s at most for a
// vendor (annexes of the guide): a longer deadline is refused, not silently capped.

export interface ReglagesAgregateur {
  /** Per-call deadline, retries included (SOCLE_SAS_DEADLINE_MS, default and maximum 7000). */
  deadlineMs: number;
  /** Lifetime of a cached vendor answer (SOCLE_SAS_CACHE_MS, default 60000; 0 disables the cache). */
  cacheMs: number;
  /** Consecutive failures that open a vendor's circuit (SOCLE_SAS_BREAKER_FAILURES, default 5). */
  disjoncteurSeuil: number;
  /** Time an open circuit waits before one trial call (SOCLE_SAS_BREAKER_COOLDOWN_MS, default 30000). */
  disjoncteurPauseMs: number;
  /** Extra attempts after a connection reset or a 502/503/504, within the deadline (SOCLE_SAS_RETRIES, default 2). */
  tentatives: number;
  /** Simultaneous calls to one vendor when its registry entry does not say (SOCLE_SAS_CONCURRENCY, default 4). */
  concurrence: number;
  /** How often the V1 retry queue is worked through (SOCLE_SAS_V1_RETRY_MS, default 60000; 0: only on demand). */
  v1IntervalleMs: number;
}

export const DEADLINE_MAX_MS = 7000;

export function reglagesAgregateur(env: NodeJS.ProcessEnv): ReglagesAgregateur {
  const deadlineMs = entier(env, 'SOCLE_SAS_DEADLINE_MS', DEADLINE_MAX_MS);
  if (deadlineMs < 1 || deadlineMs > DEADLINE_MAX_MS) throw new Error(`SOCLE_SAS_DEADLINE_MS must be between 1 and ${DEADLINE_MAX_MS} (the SAS time-out), got ${deadlineMs}`);
  return {
    deadlineMs,
    cacheMs: entier(env, 'SOCLE_SAS_CACHE_MS', 60_000),
    disjoncteurSeuil: Math.max(1, entier(env, 'SOCLE_SAS_BREAKER_FAILURES', 5)),
    disjoncteurPauseMs: entier(env, 'SOCLE_SAS_BREAKER_COOLDOWN_MS', 30_000),
    tentatives: entier(env, 'SOCLE_SAS_RETRIES', 2),
    concurrence: Math.max(1, entier(env, 'SOCLE_SAS_CONCURRENCY', 4)),
    v1IntervalleMs: entier(env, 'SOCLE_SAS_V1_RETRY_MS', 60_000),
  };
}

function entier(env: NodeJS.ProcessEnv, nom: string, defaut: number): number {
  const v = env[nom];
  if (v === undefined || v === '') return defaut;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${nom} must be a non-negative integer, got "${v}"`);
  return n;
}
