// History of an instance, a type or the whole system, newest first, read from the change log and
// the per-type history tables. Pages are cut on the change log sequence (opaque cursor).
import type { Queryable } from '../db/index.ts';
import { badRequest } from './outcome.ts';
import { assertType } from './repository.ts';
import { historyTable } from './schema.ts';
import { dateRange } from './search/normalize.ts';

export interface HistoryEntry {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  method: string;
  deleted: boolean;
  json: string;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  /** Cursor of the next (older) page. */
  next?: string;
}

export interface HistoryQuery {
  type?: string;
  id?: string;
  since?: string;
  count: number;
  cursor?: string;
}

export async function history(db: Queryable, q: HistoryQuery): Promise<HistoryPage> {
  if (q.type) assertType(q.type);
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => `$${params.push(v)}`;
  if (q.type) where.push(`resource_type = ${p(q.type)}`);
  if (q.id) where.push(`id = ${p(q.id)}`);
  if (q.since) {
    const r = dateRange(q.since);
    if (!r || !/T/.test(q.since)) throw badRequest(`_since must be an instant (e.g. 2024-01-31T10:00:00Z), got "${q.since}"`);
    where.push(`last_updated >= ${p(r.low.toISOString())}::timestamptz`);
  }
  if (q.cursor) {
    const seq = Number(q.cursor);
    if (!Number.isInteger(seq)) throw badRequest('The _cursor of this history link is not valid');
    where.push(`seq < ${p(seq)}`);
  }
  const { rows } = await db.query<{ seq: number; resource_type: string; id: string; version_id: number }>(
    `SELECT seq, resource_type, id, version_id FROM resource_change ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY seq DESC LIMIT ${q.count + 1}`,
    params,
  );
  const page = rows.slice(0, q.count);
  const byType = new Map<string, { id: string; version_id: number }[]>();
  for (const r of page) byType.set(r.resource_type, [...(byType.get(r.resource_type) ?? []), r]);
  const versions = new Map<string, HistoryEntry>();
  for (const [type, keys] of byType) {
    const { rows: hs } = await db.query<{ id: string; version_id: number; last_updated: Date; deleted: boolean; method: string; content: string }>(
      `SELECT h.id, h.version_id, h.last_updated, h.deleted, h.method, h.content FROM ${historyTable(type)} h
       JOIN unnest($1::text[], $2::int[]) AS k(id, version_id) ON h.id = k.id AND h.version_id = k.version_id`,
      [keys.map((k) => k.id), keys.map((k) => k.version_id)],
    );
    for (const h of hs) {
      versions.set(`${type}/${h.id}/${h.version_id}`, {
        resourceType: type,
        id: h.id,
        versionId: h.version_id,
        lastUpdated: h.last_updated.toISOString(),
        method: h.method,
        deleted: h.deleted,
        json: h.content,
      });
    }
  }
  const entries = page.map((r) => versions.get(`${r.resource_type}/${r.id}/${r.version_id}`)).filter((e): e is HistoryEntry => !!e);
  return { entries, next: rows.length > q.count ? String(page[page.length - 1].seq) : undefined };
}
