// Writes and removes a resource's search index rows: one multi-row INSERT per index table.
import type { IndexKind, IndexRows } from './indexer.ts';
import type { Sql } from './sql.ts';

interface IndexTable {
  table: string;
  columns: [string, string][];
  values: (r: any) => unknown[];
  /** Columns computed in SQL from `columns` (stored instead of them). */
  computed?: Record<string, string>;
}

const TABLES: Record<IndexKind, IndexTable> = {
  string: { table: 'sp_string', columns: [['norm', 'text'], ['exact', 'text']], values: (r) => [r.norm, r.exact] },
  token: { table: 'sp_token', columns: [['system', 'text'], ['code', 'text'], ['display', 'text']], values: (r) => [r.system, r.code, r.display] },
  date: { table: 'sp_date', columns: [['low', 'timestamptz'], ['high', 'timestamptz']], values: (r) => [timestamp(r.low), timestamp(r.high)] },
  number: { table: 'sp_number', columns: [['value', 'numeric']], values: (r) => [r.value] },
  quantity: {
    table: 'sp_quantity',
    columns: [['value', 'numeric'], ['system', 'text'], ['code', 'text'], ['unit', 'text'], ['canonical_value', 'numeric'], ['canonical_unit', 'text']],
    values: (r) => [r.value, r.system, r.code, r.unit, r.canonical?.value ?? null, r.canonical?.unit ?? null],
  },
  uri: { table: 'sp_uri', columns: [['value', 'text']], values: (r) => [r.value] },
  reference: {
    table: 'sp_reference',
    columns: [['target_type', 'text'], ['target_id', 'text'], ['target_url', 'text']],
    values: (r) => [r.targetType, r.targetId, r.targetUrl],
  },
  composite: {
    table: 'sp_composite',
    columns: [['system1', 'text'], ['code1', 'text'], ['system2', 'text'], ['code2', 'text'], ['number2', 'numeric'], ['low2', 'timestamptz'], ['high2', 'timestamptz']],
    values: (r) => [r.system1, r.code1, r.system2, r.code2, r.number2, r.low2 && timestamp(r.low2), r.high2 && timestamp(r.high2)],
  },
  position: { table: 'sp_position', columns: [['latitude', 'float8'], ['longitude', 'float8']], values: (r) => [r.latitude, r.longitude] },
  // The narrative's words weighted A, so that _text is a restriction of _content (text.ts).
  text: {
    table: 'sp_text',
    columns: [['narrative', 'text'], ['content', 'text']],
    values: (r) => [r.narrative, r.content],
    computed: { words: `setweight(to_tsvector('simple', narrative), 'A') || to_tsvector('simple', content)` },
  },
};

/** Open period bounds are the extreme JS dates; PostgreSQL spells them ±infinity. */
const timestamp = (d: Date) => (d.getTime() >= 8.64e15 ? 'infinity' : d.getTime() <= -8.64e15 ? '-infinity' : d.toISOString());

export const INDEX_TABLES = Object.values(TABLES).map((t) => t.table);

/** CTE bodies that delete a resource's index rows (one per index table). */
export function deleteIndexSql(sql: Sql, type: string, id: string): string[] {
  const t = sql.p(type);
  const i = sql.p(id);
  return INDEX_TABLES.map((table) => `DELETE FROM ${table} WHERE resource_type = ${t} AND resource_id = ${i}`);
}

/** CTE bodies that insert a resource's index rows: one multi-row INSERT per non-empty table. */
export function insertIndexSql(sql: Sql, type: string, id: string, rows: IndexRows): string[] {
  return insertManyIndexSql(sql, type, [{ id, rows }]);
}

/** The index rows of several resources of one type, still one INSERT per non-empty table (bulk loads). */
export function insertManyIndexSql(sql: Sql, type: string, resources: { id: string; rows: IndexRows }[]): string[] {
  const out: string[] = [];
  const t = sql.p(type);
  for (const kind of Object.keys(TABLES) as IndexKind[]) {
    const { table, columns, values, computed } = TABLES[kind];
    const arrays: unknown[][] = [[], [], ...columns.map(() => [] as unknown[])];
    for (const { id, rows } of resources) {
      for (const r of rows[kind] as object[]) {
        arrays[0].push(id);
        arrays[1].push((r as { param: string }).param);
        values(r as never).forEach((v, k) => arrays[k + 2].push(v));
      }
    }
    if (arrays[0].length === 0) continue;
    const casts = [['resource_id', 'text'], ['param', 'text'], ...columns].map(([, type], k) => `${sql.p(arrays[k])}::${type}[]`).join(', ');
    const names = columns.map(([c]) => c);
    out.push(
      computed
        ? `INSERT INTO ${table} (resource_type, resource_id, param, ${Object.keys(computed).join(', ')}) SELECT ${t}, resource_id, param, ${Object.values(computed).join(', ')} FROM unnest(${casts}) AS u(resource_id, param, ${names.join(', ')})`
        : `INSERT INTO ${table} (resource_type, resource_id, param, ${names.join(', ')}) SELECT ${t}, * FROM unnest(${casts})`,
    );
  }
  return out;
}
