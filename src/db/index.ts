// One SQL dialect (PostgreSQL), two drivers: PGlite in process by default, a PostgreSQL server by DATABASE_URL.
import { mkdirSync } from 'node:fs';
import { migrate } from './migrate.ts';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (DDL). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction: committed if fn resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl?: string;
  /** Folder of the embedded database; undefined keeps it in memory (tests). */
  dataDir?: string;
  poolSize?: number;
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  let db: Database;
  if (options.databaseUrl) {
    const { openPostgres } = await import('./postgres.ts');
    db = await openPostgres(options.databaseUrl, options.poolSize ?? 10);
  } else {
    const { openPglite } = await import('./pglite.ts');
    if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
    db = await openPglite(options.dataDir);
  }
  await migrate(db);
  return db;
}
