// Runs a type-level search: filters, sort, keyset paging, totals and _include/_revinclude.
import type { Queryable } from '../../db/index.ts';
import { isStoredResourceType, searchParametersOf } from '../definitions.ts';
import { badRequest } from '../outcome.ts';
import { assertType, type StoredResource } from '../repository.ts';
import { currentTable } from '../schema.ts';
import { distanceSql, resolveNear } from './near.ts';
import { predicate, splitValues, type PredicateContext } from './predicates.ts';
import { Sql } from './sql.ts';

export type QueryParams = Record<string, string | string[] | undefined>;

export interface SearchOptions {
  baseUrl: string;
  defaultCount: number;
  maxCount: number;
  /** Prefer: handling=strict turns unknown parameters into a 400. */
  strict?: boolean;
  /** Only resources of this patient's compartment (a security filter, applied in SQL so paging stays exact). */
  compartment?: string;
  /** The codes of a ValueSet, for _filter's in and ni. */
  valueSet?: PredicateContext['valueSet'];
}

export interface SearchResult {
  /** With, when sorted by a `near` parameter, the distance from its point. */
  matches: (StoredResource & { distanceKm?: number })[];
  included: StoredResource[];
  total?: number;
  /** Opaque cursors of the next and previous pages. */
  next?: string;
  previous?: string;
  warnings: string[];
  /** _summary=count: only the total is wanted. */
  countOnly: boolean;
}

/** Parameters that shape the result rather than filter it. */
const RESULT_PARAMS = new Set(['_sort', '_count', '_total', '_include', '_revinclude', '_elements', '_summary', '_cursor', '_format', '_pretty']);

interface SortKey {
  expr: string;
  desc: boolean;
  /** Stands for a missing value, so that rows without one still sort and page; absent when never null. */
  sentinel?: string;
  /** The key is the distance from a `near` parameter's point. */
  distance?: boolean;
}

/** The key as selected and compared: a bare column lets PostgreSQL walk its index in order. */
const keyExpr = (k: SortKey) => (k.sentinel ? `COALESCE(${k.expr}, ${k.sentinel})` : k.expr);

interface Cursor {
  dir: 'next' | 'prev';
  values: unknown[];
  /** The total counted on the first page, carried along so each page shows it without a recount. */
  total?: number;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Searches one type, or several (system search with _type): each type is one SELECT with its own
 * predicates and sort expressions, the branches are joined with UNION ALL and cut by one keyset.
 */
export async function search(db: Queryable, typeOrTypes: string | string[], query: QueryParams, options: SearchOptions): Promise<SearchResult> {
  const types = Array.isArray(typeOrTypes) ? typeOrTypes : [typeOrTypes];
  types.forEach(assertType);
  const warnings = new Set<string>();
  const sql = new Sql();
  const ctx: PredicateContext = { sql, baseUrl: options.baseUrl, warn: (m) => warnings.add(m), indexed: new Map(), valueSet: options.valueSet };
  const filters = types.map((type) => {
    const where = filterOf(ctx, type, query, options.strict ?? false, warnings);
    if (options.compartment !== undefined) where.push(`${type === 'Patient' ? 'r.id' : 'r.compartment'} = ${sql.p(options.compartment)}`);
    return { type, where };
  });

  const countOnly = first(query._summary) === 'count';
  const count = countOnly ? 0 : pageSize(first(query._count), options);
  // By default the total is counted on the first page only and carried in the page links: counting a
  // large result again on each page would cost more than the page itself.
  const cursor = decodeCursor(first(query._cursor));
  const totalMode = first(query._total) ?? (cursor?.total !== undefined ? 'carried' : 'accurate');
  if (!['none', 'estimate', 'accurate', 'carried'].includes(totalMode)) throw badRequest(`_total must be none, estimate or accurate, got "${totalMode}"`);

  let total: number | undefined = totalMode === 'carried' ? cursor?.total : undefined;
  if ((totalMode !== 'none' && totalMode !== 'carried') || countOnly) {
    const scans = filters.map((f) => `SELECT 1 FROM ${currentTable(f.type)} r WHERE ${f.where.join(' AND ')}`).join(' UNION ALL ');
    const counting = (filters.length === 1 && options.compartment === undefined && countFromIndex(filters[0].where, ctx.indexed!)) || `SELECT count(*)::int AS n FROM (${scans}) x`;
    total = totalMode === 'estimate' && !countOnly ? await estimate(db, scans, sql.params) : (await db.query<{ n: number }>(counting, sql.params)).rows[0].n;
  }
  const result: SearchResult = { matches: [], included: [], total, warnings: [], countOnly };
  if (count > 0) {
    const backwards = cursor?.dir === 'prev';
    let keysOfFirst: SortKey[] = [];
    const branches = filters.map(({ type, where }) => {
      const keys = sortKeys(sql, type, query, warnings, types.length > 1);
      keysOfFirst = keys;
      if (cursor && cursor.values.length !== keys.length) throw badRequest(INVALID_CURSOR);
      const pageWhere = cursor ? [...where, keyset(sql, keys, cursor.values, backwards)] : where;
      return `SELECT r.id, r.version_id, r.last_updated, r.compartment, r.content, ${keys.map((k, i) => `${keyExpr(k)} AS s${i}`).join(', ')}
        FROM ${currentTable(type)} r WHERE ${pageWhere.join(' AND ')}`;
    });
    const order = keysOfFirst.map((k, i) => `s${i} ${k.desc !== backwards ? 'DESC' : 'ASC'}`).join(', ');
    const { rows } = await db.query<{ id: string; version_id: number; last_updated: Date; compartment: string | null; content: string } & Record<string, unknown>>(
      `${branches.length === 1 ? branches[0] : branches.map((b) => `(${b})`).join(' UNION ALL ')} ORDER BY ${order} LIMIT ${count + 1}`,
      sql.params,
    );
    const more = rows.length > count;
    const page = rows.slice(0, count);
    if (backwards) page.reverse();
    const valuesOf = (row: Record<string, unknown>) => keysOfFirst.map((_, i) => serialise(row[`s${i}`]));
    const typeCol = keysOfFirst.length - 2; // in a system search, the type key sits just before the id
    const distanceCol = keysOfFirst.findIndex((k) => k.distance);
    result.matches = page.map((r) => ({
      ...(distanceCol >= 0 && typeof r[`s${distanceCol}`] === 'number' && Number.isFinite(r[`s${distanceCol}`]) ? { distanceKm: r[`s${distanceCol}`] as number } : {}),
      resourceType: types.length > 1 ? (r[`s${typeCol}`] as string) : types[0],
      id: r.id,
      versionId: r.version_id,
      lastUpdated: r.last_updated.toISOString(),
      deleted: false,
      compartment: r.compartment,
      json: r.content,
    }));
    const hasNext = backwards || more;
    const hasPrev = backwards ? more : cursor !== undefined;
    const carried = totalMode === 'estimate' ? undefined : total;
    if (page.length > 0 && hasNext) result.next = encodeCursor({ dir: 'next', values: valuesOf(page[page.length - 1]), total: carried });
    if (page.length > 0 && hasPrev) result.previous = encodeCursor({ dir: 'prev', values: valuesOf(page[0]), total: carried });
    result.included = await includes(db, result.matches, query, warnings);
  }
  result.warnings = [...warnings];
  return result;
}

const NOT_DELETED = 'NOT r.deleted';

/** The WHERE conditions of one type: its filters, AND-ed; unknown parameters warn (or fail when strict). */
function filterOf(ctx: PredicateContext, type: string, query: QueryParams, strict: boolean, warnings: Set<string>): string[] {
  const where = [NOT_DELETED];
  for (const [key, value] of Object.entries(query)) {
    if (RESULT_PARAMS.has(key.split(':')[0]) || value === undefined) continue;
    for (const raw of list(value)) {
      const cond = predicate(ctx, type, 'r.id', key, raw);
      if (cond) where.push(cond);
      else if (strict) throw badRequest(`Unknown search parameter "${key}" for ${type}`);
      else warnings.add(`Unknown search parameter "${key}" for ${type}: it was ignored`);
    }
  }
  return where;
}

/**
 * The count of a search whose every filter reads one index table (the common case: a name prefix, a
 * date range, a code), as the intersection of the index subqueries: an index-only walk instead of a
 * join with the whole resource table. Undefined when another kind of filter is present.
 */
function countFromIndex(where: string[], indexed: Map<string, string>): string | undefined {
  const subqueries = where.filter((w) => w !== NOT_DELETED).map((w) => indexed.get(w));
  if (subqueries.length === 0 || subqueries.some((q) => q === undefined)) return undefined;
  const ids = subqueries.length === 1 ? `SELECT DISTINCT resource_id FROM (${subqueries[0]}) s` : subqueries.map((q) => `(${q})`).join(' INTERSECT ');
  return `SELECT count(*)::int AS n FROM (${ids}) x`;
}

/** _total=estimate: the planner's row estimate, which costs no scan. */
async function estimate(db: Queryable, scans: string, params: unknown[]): Promise<number> {
  const { rows } = await db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${scans}`, params);
  const plan = rows[0]['QUERY PLAN'];
  const parsed = (typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan: { 'Plan Rows': number } }[];
  return Math.round(parsed[0].Plan['Plan Rows']);
}

const first = (v: string | string[] | undefined) => list(v)[0];

function pageSize(raw: string | undefined, options: SearchOptions): number {
  if (raw === undefined) return options.defaultCount;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`_count must be a non-negative integer, got "${raw}"`);
  return Math.min(n, options.maxCount);
}

const SENTINEL_BY_KIND: Record<string, string> = {
  string: `chr(1114111)`,
  token: `chr(1114111)`,
  uri: `chr(1114111)`,
  reference: `chr(1114111)`,
  date: `'infinity'::timestamptz`,
  number: `'Infinity'::numeric`,
  quantity: `'Infinity'::numeric`,
};

/** Sort keys, always ending with the id so the order is total and keyset paging exact. */
function sortKeys(sql: Sql, type: string, query: QueryParams, warnings: Set<string>, multiType: boolean): SortKey[] {
  const raw = first(query._sort);
  const keys: SortKey[] = [];
  for (const item of raw ? raw.split(',') : []) {
    const desc = item.startsWith('-');
    const code = desc ? item.slice(1) : item;
    if (code === '_id') continue;
    if (code === '_lastUpdated') {
      keys.push({ expr: 'r.last_updated', desc });
      continue;
    }
    const sp = searchParametersOf(type)[code];
    if (sp?.type === 'special') {
      // By distance from the point of the same parameter in the query (near, near-insee-code).
      const value = first(query[code]);
      const point = value === undefined ? undefined : resolveNear(sp, splitValues(value)[0]);
      if (!point) {
        warnings.add(`Cannot sort by "${code}" on ${type} without a "${code}" parameter giving the point: it was ignored`);
        continue;
      }
      keys.push({
        expr: `(SELECT min(${distanceSql(sql, point)}) FROM sp_position x WHERE x.resource_type = ${sql.p(type)} AND x.param = 'near' AND x.resource_id = r.id)`,
        desc,
        sentinel: `'Infinity'::float8`,
        distance: true,
      });
      continue;
    }
    const columns: Record<string, string> = { string: 'norm', token: 'code', uri: 'value', reference: 'target_url', date: desc ? 'high' : 'low', number: 'value', quantity: 'value' };
    const column = columns[sp?.type ?? ''];
    if (!sp || !column) {
      warnings.add(`Cannot sort by "${code}" on ${type}: it was ignored`);
      continue;
    }
    keys.push({
      expr: `(SELECT ${desc ? 'max' : 'min'}(${column}) FROM sp_${sp.type} x WHERE x.resource_type = ${sql.p(type)} AND x.param = ${sql.p(code)} AND x.resource_id = r.id)`,
      desc,
      sentinel: SENTINEL_BY_KIND[sp.type as string],
    });
  }
  const idDesc = raw?.split(',').includes('-_id') ?? false;
  // The type, then the id, make the order total across the branches of a system search.
  if (multiType) keys.push({ expr: `${sql.p(type)}::text`, desc: idDesc });
  keys.push({ expr: 'r.id', desc: idDesc });
  return keys;
}

/** Rows strictly after (or before) the cursor's sort values, one key at a time. */
function keyset(sql: Sql, keys: SortKey[], values: unknown[], backwards: boolean): string {
  const ors = keys.map((k, i) => {
    const eqs = keys.slice(0, i).map((kk, j) => `${keyExpr(kk)} = ${sql.p(values[j])}`);
    const after = k.desc !== backwards ? '<' : '>';
    return [...eqs, `${keyExpr(k)} ${after} ${sql.p(values[i])}`].join(' AND ');
  });
  return `(${ors.map((o) => `(${o})`).join(' OR ')})`;
}

const serialise = (v: unknown) => (v instanceof Date ? (Number.isFinite(v.getTime()) ? v.toISOString() : 'infinity') : v);

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

const INVALID_CURSOR = 'The _cursor of this page link is not valid for this search (links must be used as returned)';

function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (!raw) return undefined;
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString()) as Cursor;
    if ((c.dir === 'next' || c.dir === 'prev') && Array.isArray(c.values)) return c;
  } catch {
    // fall through
  }
  throw badRequest(INVALID_CURSOR);
}

/** _include and _revinclude, with :iterate applied until nothing new is found (at most 4 rounds). */
async function includes(db: Queryable, matches: StoredResource[], query: QueryParams, warnings: Set<string>): Promise<StoredResource[]> {
  const specs = Object.entries(query)
    .filter(([k]) => /^_(rev)?include(:iterate)?$/.test(k))
    .flatMap(([k, v]) => list(v).flatMap(splitValues).map((s) => ({ s, rev: k.startsWith('_rev'), iterate: k.endsWith(':iterate') })));
  if (specs.length === 0 || matches.length === 0) return [];
  const seen = new Set(matches.map((m) => `${m.resourceType}/${m.id}`));
  const included: StoredResource[] = [];
  let frontier = matches;
  for (let round = 0; round < 4 && frontier.length > 0; round++) {
    const found: StoredResource[] = [];
    for (const { s, rev, iterate } of specs) {
      if (round > 0 && !iterate) continue;
      const [source, param, target] = s === '*' ? ['*', '*'] : s.split(':');
      const sources = source === '*' ? [...new Set(frontier.map((r) => r.resourceType))] : [source];
      for (const src of sources) {
        const params = param === '*' ? referenceParams(src) : [param];
        if (!src || !param || !isStoredResourceType(src) || params.some((p) => !searchParametersOf(src)[p])) {
          if (round === 0) warnings.add(`Cannot ${rev ? '_revinclude' : '_include'} "${s}": unknown parameter`);
          continue;
        }
        for (const p of params) found.push(...(await includeOnce(db, frontier, src, p, target, rev)));
      }
    }
    frontier = found.filter((r) => {
      const key = `${r.resourceType}/${r.id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    included.push(...frontier);
  }
  return included;
}

/** The resources one _include (targets of source.param) or _revinclude (sources pointing at the frontier) adds. */
async function includeOnce(db: Queryable, frontier: StoredResource[], source: string, param: string, target: string | undefined, rev: boolean): Promise<StoredResource[]> {
  const byType = groupIds(frontier);
  const found: StoredResource[] = [];
  if (rev) {
    for (const [t, ids] of byType) {
      const { rows } = await db.query<{ resource_id: string }>(
        `SELECT DISTINCT resource_id FROM sp_reference WHERE resource_type = $1 AND param = $2 AND target_type = $3 AND target_id = ANY($4::text[])`,
        [source, param, t, ids],
      );
      found.push(...(await fetchAll(db, source, rows.map((r) => r.resource_id))));
    }
    return found;
  }
  const ids = byType.get(source);
  if (!ids) return found;
  const { rows } = await db.query<{ target_type: string; target_id: string }>(
    `SELECT DISTINCT target_type, target_id FROM sp_reference WHERE resource_type = $1 AND param = $2 AND resource_id = ANY($3::text[]) AND target_id IS NOT NULL${target ? ' AND target_type = $4' : ''}`,
    target ? [source, param, ids, target] : [source, param, ids],
  );
  for (const [t, tids] of groupBy(rows.map((r) => [r.target_type, r.target_id] as [string, string]))) {
    found.push(...(await fetchAll(db, t, tids)));
  }
  return found;
}

const referenceParams = (type: string) =>
  Object.entries(searchParametersOf(type))
    .filter(([, sp]) => sp.type === 'reference')
    .map(([code]) => code);

function groupIds(resources: StoredResource[]): Map<string, string[]> {
  return groupBy(resources.map((r) => [r.resourceType, r.id] as [string, string]));
}

function groupBy(pairs: [string, string][]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [k, v] of pairs) map.set(k, [...(map.get(k) ?? []), v]);
  return map;
}

async function fetchAll(db: Queryable, type: string, ids: string[]): Promise<StoredResource[]> {
  if (ids.length === 0 || !isStoredResourceType(type)) return [];
  const { rows } = await db.query<{ id: string; version_id: number; last_updated: Date; compartment: string | null; content: string }>(
    `SELECT id, version_id, last_updated, compartment, content FROM ${currentTable(type)} WHERE id = ANY($1::text[]) AND NOT deleted`,
    [ids],
  );
  return rows.map((r) => ({ resourceType: type, id: r.id, versionId: r.version_id, lastUpdated: r.last_updated.toISOString(), deleted: false, compartment: r.compartment, json: r.content }));
}
