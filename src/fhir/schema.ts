// Per resource type, a current table and a history table. Created at start for every type the
// definitions know, idempotently, so a package that adds types needs no hand-written migration.
import type { Database } from '../db/index.ts';
import { storedResourceTypes } from './definitions.ts';

export const currentTable = (type: string) => `"${type}"`;
export const historyTable = (type: string) => `"${type}_History"`;

function ddl(type: string): string {
  const t = currentTable(type);
  const h = historyTable(type);
  // compartment: the patient the row belongs to (its distribution key under Citus, see docs/storage.md).
  return `
    CREATE TABLE IF NOT EXISTS ${t} (
      id text PRIMARY KEY,
      version_id integer NOT NULL,
      last_updated timestamptz NOT NULL,
      deleted boolean NOT NULL DEFAULT false,
      compartment text,
      content text NOT NULL
    );
    CREATE INDEX IF NOT EXISTS "${type}_last_updated" ON ${t} (last_updated);
    CREATE INDEX IF NOT EXISTS "${type}_compartment" ON ${t} (compartment);
    CREATE TABLE IF NOT EXISTS ${h} (
      id text NOT NULL,
      version_id integer NOT NULL,
      last_updated timestamptz NOT NULL,
      deleted boolean NOT NULL,
      compartment text,
      method text NOT NULL,
      content text NOT NULL,
      PRIMARY KEY (id, version_id)
    );
    CREATE INDEX IF NOT EXISTS "${type}_History_last_updated" ON ${h} (last_updated);`;
}

export async function ensureResourceTables(db: Database): Promise<void> {
  const existing = new Set(
    (
      await db.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()`,
      )
    ).rows.map((r) => r.name),
  );
  const missing = storedResourceTypes().filter((t) => !existing.has(t) || !existing.has(`${t}_History`));
  if (missing.length === 0) return;
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [4_242_002]);
    await tx.exec(missing.map(ddl).join('\n'));
  });
}
