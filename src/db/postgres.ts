import pg from 'pg';
import type { Database, Queryable, QueryResult } from './index.ts';

// Counts and numerics come back as JS numbers, as PGlite returns them.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

const MAX_ATTEMPTS = 5;

export async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on('error', () => undefined); // an idle client dropped by the server is replaced on next use
  await pool.query('SELECT 1');
  const wrap = (q: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const r = await q.query(sql, params);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
    },
    async exec(sql: string) {
      await q.query(sql);
    },
  });
  return {
    kind: 'postgres',
    ...wrap(pool),
    async transaction(fn) {
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await fn(wrap(client));
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          // A deadlock or serialization failure is the server choosing a victim: the whole
          // transaction is rolled back and may simply run again.
          const code = (err as { code?: string }).code;
          if ((code !== '40P01' && code !== '40001') || attempt >= MAX_ATTEMPTS) throw err;
        } finally {
          client.release();
        }
        await new Promise((r) => setTimeout(r, Math.random() * 50 * attempt));
      }
    },
    close: () => pool.end(),
  };
}

/** One short-lived connection, e.g. to create or drop a database (tests and benchmarks). */
export async function withPgClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
