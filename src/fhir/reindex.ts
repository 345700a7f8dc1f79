// $reindex and `socle reindex`: rebuilds the search index rows of stored resources, e.g. after a
// SearchParameter was added. Works in batches of ids, one transaction each, so it can be stopped
// and started again without losing anything (a batch is either reindexed or untouched).
import type { Parameters, Resource } from '@medplum/fhirtypes';
import type { Database } from '../db/index.ts';
import { compartmentKey } from './compartment.ts';
import { storedResourceTypes } from './definitions.ts';
import type { OperationDefinitionEntry } from './operations.ts';
import { assertType } from './repository.ts';
import { currentTable } from './schema.ts';
import { deleteIndexSql, insertIndexSql } from './search/index-store.ts';
import { Sql, withSteps } from './search/sql.ts';
import { extractIndexRows } from './search/indexer.ts';

const BATCH = 500;

export async function reindex(db: Database, types: readonly string[], onProgress?: (type: string, done: number) => void): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const type of types) {
    assertType(type);
    let after = '';
    let done = 0;
    for (;;) {
      const n = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: string; content: string }>(
          `SELECT id, content FROM ${currentTable(type)} WHERE NOT deleted AND id > $1 ORDER BY id LIMIT ${BATCH} FOR UPDATE`,
          [after],
        );
        for (const r of rows) {
          const rowsOf = extractIndexRows(JSON.parse(r.content) as Resource);
          const sql = new Sql();
          const steps = [...deleteIndexSql(sql, type, r.id), ...insertIndexSql(sql, type, r.id, rowsOf)];
          const main = `UPDATE ${currentTable(type)} SET compartment = ${sql.p(compartmentKey(type, r.id, rowsOf))} WHERE id = ${sql.p(r.id)}`;
          await tx.query(withSteps(steps, main), sql.params);
        }
        if (rows.length > 0) after = rows[rows.length - 1].id;
        return rows.length;
      });
      done += n;
      if (n > 0) onProgress?.(type, done);
      if (n < BATCH) break;
    }
    counts[type] = done;
  }
  return counts;
}

export const reindexOperation: OperationDefinitionEntry = {
  name: 'reindex',
  levels: ['system', 'type'],
  affectsState: true,
  summary: 'Rebuild the search index of all resources, or of one type',
  async handler({ core, type }) {
    const counts = await reindex(core.db, type ? [type] : storedResourceTypes());
    const result: Parameters = {
      resourceType: 'Parameters',
      parameter: Object.entries(counts)
        .filter(([, n]) => n > 0 || type)
        .map(([t, n]) => ({ name: 'reindexed', part: [{ name: 'type', valueCode: t }, { name: 'count', valueInteger: n }] })),
    };
    return result;
  },
};
