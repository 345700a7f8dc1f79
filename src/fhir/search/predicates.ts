// Translates one search parameter (with its modifier, chain and comma-separated values) into a SQL
// predicate on a resource id column. Chains and _has recurse into the same function.
import type { SearchParameter } from '@medplum/fhirtypes';
import { badRequest } from '../outcome.ts';
import { currentTable } from '../schema.ts';
import { searchParametersOf } from '../definitions.ts';
import { dateRange, normalizeString } from './normalize.ts';
import { canonicalQuantity, UCUM } from './ucum.ts';
import { compositeComponents, splitComposite } from './composite.ts';
import { kindOf } from './indexer.ts';
import { likeEscape, type Sql } from './sql.ts';
import { nearSubquery, resolveNear } from './near.ts';
import { filterPredicate, subsumption, valueSetCondition } from './filter.ts';
import { isTextIndexed, tsQuery } from './text.ts';
import type { Expansion } from '../validation/terminology.ts';

export interface PredicateContext {
  sql: Sql;
  /** Base URL of this server: absolute references to it are local. */
  baseUrl: string;
  warn(message: string): void;
  /**
   * Predicates of the form `id IN (subquery over one index table of the searched type)`, with their
   * subquery. Index rows exist for current resources only, so such predicates can be counted from the
   * index tables alone, without visiting the resource table.
   */
  indexed?: Map<string, string>;
  /** The codes of a ValueSet (canonical URL), for _filter's in and ni; undefined when it cannot be expanded here. */
  valueSet?(url: string): Expansion | undefined;
}

/** `idCol IN (subquery)`, remembered as counted from the index when the subquery reads the searched type's index rows. */
export function inIndex(ctx: PredicateContext, idCol: string, subquery: string): string {
  const cond = `${idCol} IN (${subquery})`;
  ctx.indexed?.set(cond, subquery);
  return cond;
}

const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
type Prefix = (typeof PREFIXES)[number];

/** Splits a value list on commas not escaped by a backslash. */
export function splitValues(raw: string): string[] {
  return raw.split(/(?<!\\),/).map((v) => v.replace(/\\([,$|\\])/g, '$1'));
}

/**
 * SQL predicate that is true when the resource whose id is `idCol` (of `type`) matches `key=raw`,
 * or undefined when the parameter is unknown (the caller decides: warning or error).
 */
export function predicate(ctx: PredicateContext, type: string, idCol: string, key: string, raw: string): string | undefined {
  if (key.startsWith('_has:')) return hasPredicate(ctx, type, idCol, key, raw);
  const dot = key.indexOf('.');
  if (dot > 0) {
    const rest = key.slice(dot + 1);
    return chainPredicate(ctx, type, idCol, key.slice(0, dot), rest, (target, col) => predicate(ctx, target, col, rest, raw));
  }
  if (key.split(':')[0] === '_filter') return filterPredicate(ctx, type, idCol, key, raw);

  const [code, modifier] = splitModifier(key);
  const { sql } = ctx;
  const values = splitValues(raw);
  if (code === '_id') {
    const ids = sql.p(values);
    return modifier === 'not' ? `NOT (${idCol} = ANY(${ids}::text[]))` : `${idCol} = ANY(${ids}::text[])`;
  }
  if (code === '_lastUpdated') {
    return or(values.map((v) => dateCondition(ctx, v, `${alias(idCol)}.last_updated`)));
  }
  if (code === '_text' || code === '_content') {
    if (modifier) throw badRequest(`The modifier :${modifier} is not supported on ${code}`);
    return or(values.map((v) => textPredicate(ctx, type, idCol, code, v)));
  }
  const sp = searchParametersOf(type)[code];
  if (!sp) return undefined;
  const kind = kindOf(sp);
  if (!kind) {
    const near = resolveNear(sp, raw); // special parameters meaning "near a point" (e.g. ROR near-insee-code)
    if (near) return inIndex(ctx, idCol, nearSubquery(sql, type, near));
    ctx.warn(`The search parameter "${code}" (${sp.type}) is not supported yet; it was ignored`);
    return 'true';
  }
  const table = `sp_${kind}`;
  // A function: its placeholders must exist only when it is used (PostgreSQL refuses untyped unused ones).
  const base = () => `SELECT resource_id FROM ${table} WHERE resource_type = ${sql.p(type)} AND param = ${sql.p(code)}`;

  if (modifier === 'missing') {
    if (raw !== 'true' && raw !== 'false') throw badRequest(`${key} expects true or false, got "${raw}"`);
    return `${idCol} ${raw === 'true' ? 'NOT IN' : 'IN'} (${base()})`;
  }
  if (kind === 'reference' && modifier === 'identifier') {
    return inIndex(ctx, idCol, `SELECT resource_id FROM sp_token WHERE resource_type = ${sql.p(type)} AND param = ${sql.p(`${code}:identifier`)} AND ${or(values.map((v) => tokenCondition(ctx, v)))}`);
  }
  let conds: string[];
  switch (kind) {
    case 'string':
      conds = values.map((v) => stringCondition(ctx, v, modifier));
      break;
    case 'token':
      if (modifier === 'not') return `${idCol} NOT IN (${base()} AND ${or(values.map((v) => tokenCondition(ctx, v)))})`;
      if (modifier === 'not-in') return `${idCol} NOT IN (${base()} AND ${or(values.map((v) => valueSetCondition(ctx, v)))})`;
      // :below and :above are _filter's ss and sb (stored hierarchies), :in its in (ValueSets expanded here).
      conds = values.map((v) =>
        modifier === 'in' ? valueSetCondition(ctx, v) : modifier === 'below' ? subsumption(ctx, 'ss', v) : modifier === 'above' ? subsumption(ctx, 'sb', v) : tokenCondition(ctx, v, modifier),
      );
      break;
    case 'date':
      conds = values.map((v) => dateCondition(ctx, v, { low: 'low', high: 'high' }));
      break;
    case 'number':
      conds = values.map((v) => numberCondition(ctx, v, 'value'));
      break;
    case 'quantity':
      conds = values.map((v) => quantityCondition(ctx, v));
      break;
    case 'uri':
      conds = values.map((v) => uriCondition(ctx, v, modifier));
      break;
    case 'reference':
      conds = values.map((v) => referenceCondition(ctx, sp, v, modifier));
      break;
    case 'composite':
      conds = values.map((v) => compositeCondition(ctx, sp, v));
      break;
    case 'position':
      if (modifier) throw badRequest(`The modifier :${modifier} is not supported on the special parameter "${code}"`);
      return or(values.map((v) => inIndex(ctx, idCol, nearSubquery(sql, type, resolveNear(sp, v)!))));
  }
  const typeModifier = kind === 'reference' && (sp.target ?? []).includes(modifier as never);
  if (modifier && !MODIFIERS[kind].includes(modifier) && !typeModifier) {
    throw badRequest(`The modifier :${modifier} is not supported on the ${kind} parameter "${code}"`);
  }
  return inIndex(ctx, idCol, `${base()} AND ${or(conds)}`);
}

const MODIFIERS: Record<string, string[]> = {
  string: ['exact', 'contains'],
  token: ['text', 'of-type', 'in', 'below', 'above'],
  date: [],
  number: [],
  quantity: [],
  uri: ['below', 'above'],
  reference: ['identifier'],
  composite: [],
  position: [],
};

function splitModifier(key: string): [string, string | undefined] {
  const i = key.indexOf(':');
  return i < 0 ? [key, undefined] : [key.slice(0, i), key.slice(i + 1)];
}

const alias = (idCol: string) => idCol.split('.')[0];
const or = (conds: string[]) => (conds.length === 1 ? conds[0] : `(${conds.join(' OR ')})`);

export function stringCondition(ctx: PredicateContext, v: string, modifier?: string): string {
  // The normalised form first: it is the indexed column, and equal strings have equal normal forms.
  if (modifier === 'exact') return `(norm = ${ctx.sql.p(normalizeString(v))} AND exact = ${ctx.sql.p(v)})`;
  const norm = likeEscape(normalizeString(v));
  if (modifier === 'contains') return `norm LIKE ${ctx.sql.p(`%${norm}%`)}`;
  return `norm LIKE ${ctx.sql.p(`${norm}%`)}`;
}

const TOKEN_COLUMNS = { system: 'system', code: 'code' };

export function tokenCondition(ctx: PredicateContext, v: string, modifier?: string, columns = TOKEN_COLUMNS): string {
  const { sql } = ctx;
  const { system: systemCol, code: codeCol } = columns;
  if (modifier === 'text') return `lower(display) LIKE ${sql.p(`${likeEscape(v.toLowerCase())}%`)}`;
  if (modifier === 'of-type') {
    const parts = v.split('|');
    if (parts.length !== 3) throw badRequest(`:of-type expects system|code|value, got "${v}"`);
    return `(system = ${sql.p(`of-type|${parts[0]}|${parts[1]}`)} AND code = ${sql.p(parts[2])})`;
  }
  const bar = v.indexOf('|');
  if (bar < 0) return `${codeCol} = ${sql.p(v)}`;
  const system = v.slice(0, bar);
  const code = v.slice(bar + 1);
  if (system === '') return `(${codeCol} = ${sql.p(code)} AND ${systemCol} IS NULL)`;
  if (code === '') return `${systemCol} = ${sql.p(system)}`;
  return `(${codeCol} = ${sql.p(code)} AND ${systemCol} = ${sql.p(system)})`;
}

/** code-value-quantity=http://loinc.org|8480-6$gt100: both components on the same element. */
export function compositeCondition(ctx: PredicateContext, sp: SearchParameter, raw: string): string {
  const [first, second] = splitComposite(raw, sp.code as string);
  const [, secondParam] = compositeComponents(sp)!;
  const head = tokenCondition(ctx, first, undefined, { system: 'system1', code: 'code1' });
  let tail: string;
  switch (secondParam.type) {
    case 'token':
      tail = tokenCondition(ctx, second, undefined, { system: 'system2', code: 'code2' });
      break;
    case 'string':
      tail = `code2 LIKE ${ctx.sql.p(`${likeEscape(normalizeString(second))}%`)}`;
      break;
    case 'quantity': {
      const [num, system, code] = second.split('|');
      tail = [numberCondition(ctx, num, 'number2'), ...(system ? [`system2 = ${ctx.sql.p(system)}`] : []), ...(code ? [`code2 = ${ctx.sql.p(code)}`] : [])].join(' AND ');
      break;
    }
    case 'number':
      tail = numberCondition(ctx, second, 'number2');
      break;
    case 'date':
      tail = dateCondition(ctx, second, { low: 'low2', high: 'high2' });
      break;
    default:
      tail = `code2 = ${ctx.sql.p(second)}`;
  }
  return `(${head} AND ${tail})`;
}

function parsePrefix(v: string): [Prefix, string] {
  const p = v.slice(0, 2);
  return (PREFIXES as readonly string[]).includes(p) && /^[a-z]{2}[-\d]/.test(v) ? [p as Prefix, v.slice(2)] : ['eq', v];
}

/**
 * R4 date semantics: the target range [L, H) against the search value's range [lo, hi). A point in
 * time (the row's lastUpdated) is the target [t, t].
 */
export function dateCondition(ctx: PredicateContext, raw: string, col: string | { low: string; high: string }): string {
  const [prefix, value] = parsePrefix(raw);
  const range = dateRange(value);
  if (!range) throw badRequest(`"${value}" is not a valid FHIR date, dateTime or instant`);
  const at = (d: Date) => `${ctx.sql.p(d.toISOString())}::timestamptz`;
  // Placeholders are added only when used: an unused parameter has no type and PostgreSQL refuses it.
  const lo = () => at(range.low);
  const hi = () => at(range.high);
  const point = typeof col === 'string';
  const L = point ? col : col.low;
  const H = point ? col : col.high;
  switch (prefix) {
    case 'eq':
      return point ? `(${L} >= ${lo()} AND ${L} < ${hi()})` : `(${L} >= ${lo()} AND ${H} <= ${hi()})`;
    case 'ne':
      return point ? `NOT (${L} >= ${lo()} AND ${L} < ${hi()})` : `NOT (${L} >= ${lo()} AND ${H} <= ${hi()})`;
    case 'gt':
      return point ? `${L} >= ${hi()}` : `${H} > ${hi()}`;
    case 'lt':
    case 'eb':
      return point || prefix === 'lt' ? `${L} < ${lo()}` : `${H} <= ${lo()}`;
    // ge = gt ∪ eq and le = lt ∪ eq: a range straddling the bound is neither (R4 search#date).
    case 'ge':
      return point ? `${L} >= ${lo()}` : `(${H} > ${hi()} OR (${L} >= ${lo()} AND ${H} <= ${hi()}))`;
    case 'le':
      return point ? `${L} < ${hi()}` : `(${L} < ${lo()} OR (${L} >= ${lo()} AND ${H} <= ${hi()}))`;
    case 'sa':
      return `${L} >= ${hi()}`;
    case 'ap': {
      // Approximately: the search range widened by 10% of its distance to now (at least one day).
      const margin = Math.max(86_400_000, Math.abs(Date.now() - range.low.getTime()) * 0.1);
      const alo = at(new Date(range.low.getTime() - margin));
      const ahi = at(new Date(range.high.getTime() + margin));
      return point ? `(${L} >= ${alo} AND ${L} < ${ahi})` : `(${L} < ${ahi} AND ${H} > ${alo})`;
    }
  }
}

/** A number's implicit precision: "100" means [99.5, 100.5), "1e2" likewise. */
export function numberCondition(ctx: PredicateContext, raw: string, col: string, scale = 1): string {
  const [prefix, value] = parsePrefix(raw);
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw badRequest(`"${value}" is not a number`);
  // The precision written is the range searched (R4 search#number): 100 → [99.5, 100.5), 1e2 → [95, 105).
  const [mantissa, exponent = '0'] = value.toLowerCase().split('e');
  const decimals = (mantissa.split('.')[1] ?? '').length - Number(exponent) + (value.toLowerCase().includes('e') ? 1 : 0);
  const half = 0.5 * 10 ** -decimals * scale;
  // Decimal rounding keeps binary floats from moving a bound (0.2 - 0.05 must be 0.15).
  const exact = (x: number) => Number(x.toPrecision(15));
  const scaled = exact(n * scale);
  const v = () => ctx.sql.p(scaled);
  const range = () => `${col} >= ${ctx.sql.p(exact(scaled - half))} AND ${col} < ${ctx.sql.p(exact(scaled + half))}`;
  switch (prefix) {
    case 'eq':
      return `(${range()})`;
    case 'ne':
      return `NOT (${range()})`;
    case 'gt':
    case 'sa':
      return `${col} > ${v()}`;
    case 'lt':
    case 'eb':
      return `${col} < ${v()}`;
    case 'ge':
      return `${col} >= ${v()}`;
    case 'le':
      return `${col} <= ${v()}`;
    case 'ap':
      return `(${col} >= ${ctx.sql.p(exact(scaled * 0.9))} AND ${col} <= ${ctx.sql.p(exact(scaled * 1.1))})`;
  }
}

/** [prefix]value|system|code; a UCUM unit is compared in canonical form (5 mg = 0.005 g). */
export function quantityCondition(ctx: PredicateContext, raw: string): string {
  const [num, system, code] = raw.split('|');
  const [prefix, value] = parsePrefix(num);
  // Canonical comparison only between UCUM quantities: a unit written as free text is not UCUM.
  const canonical = code && system === UCUM && Number.isFinite(Number(value)) ? canonicalQuantity(Number(value), system, code) : undefined;
  if (canonical) {
    const factor = canonical.value / Number(value);
    return `(canonical_unit = ${ctx.sql.p(canonical.unit)} AND ${numberCondition(ctx, `${prefix}${value}`, 'canonical_value', factor)})`;
  }
  const conds = [numberCondition(ctx, num, 'value')];
  if (system) conds.push(`system = ${ctx.sql.p(system)}`);
  if (code) conds.push(`(code = ${ctx.sql.p(code)} OR unit = ${ctx.sql.p(code)})`);
  return `(${conds.join(' AND ')})`;
}

export function uriCondition(ctx: PredicateContext, v: string, modifier?: string): string {
  if (modifier === 'below') return `value LIKE ${ctx.sql.p(`${likeEscape(v)}%`)}`;
  if (modifier === 'above') return `${ctx.sql.p(v)} LIKE (replace(replace(value, '%', '\\%'), '_', '\\_') || '%')`;
  return `value = ${ctx.sql.p(v)}`;
}

export function referenceCondition(ctx: PredicateContext, sp: SearchParameter, v: string, modifier?: string): string {
  const { sql } = ctx;
  let ref = v;
  if (ref.startsWith(`${ctx.baseUrl}/fhir/`)) ref = ref.slice(ctx.baseUrl.length + 6);
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return `target_url = ${sql.p(ref)}`;
  const parts = ref.split('/');
  if (parts.length >= 2) return `(target_type = ${sql.p(parts[0])} AND target_id = ${sql.p(parts[1])})`;
  if (modifier) {
    if (!(sp.target ?? []).includes(modifier as never)) throw badRequest(`:${modifier} is not a target type of the reference parameter "${sp.code}"`);
    return `(target_type = ${sql.p(modifier)} AND target_id = ${sql.p(ref)})`;
  }
  return `target_id = ${sql.p(ref)}`;
}

/**
 * subject:Patient.name=x → references from this resource to Patients whose name matches x: `inner` is the
 * condition on each target type (undefined where it does not apply), `rest` names it in messages.
 */
export function chainPredicate(ctx: PredicateContext, type: string, idCol: string, head: string, rest: string, inner: (target: string, col: string) => string | undefined): string {
  const [code, typeModifier] = splitModifier(head);
  const sp = searchParametersOf(type)[code];
  if (!sp || sp.type !== 'reference') throw badRequest(`Cannot chain on "${code}": it is not a reference parameter of ${type}`);
  const targets = typeModifier ? [typeModifier] : (sp.target ?? []);
  const { sql } = ctx;
  const branches = targets
    .map((t) => {
      const cond = inner(t, 'c.id');
      return cond ? `(target_type = ${sql.p(t)} AND target_id IN (SELECT c.id FROM ${currentTable(t)} c WHERE NOT c.deleted AND ${cond}))` : undefined;
    })
    .filter(Boolean) as string[];
  if (branches.length === 0) throw badRequest(`Unknown chained parameter "${rest}" on the targets of ${type}.${code} (${targets.join(', ')})`);
  return inIndex(ctx, idCol, `SELECT resource_id FROM sp_reference WHERE resource_type = ${sql.p(type)} AND param = ${sql.p(code)} AND ${or(branches)}`);
}

/** _content and _text: a full-text query (text.ts) on the resource's words, or on its narrative's. */
export function textPredicate(ctx: PredicateContext, type: string, idCol: string, code: '_text' | '_content', query: string): string {
  const { sql } = ctx;
  if (!isTextIndexed(type)) throw badRequest(`${code} is not available on ${type}: its words are not indexed`);
  const tsquery = tsQuery(query, code, code === '_text' ? ':A' : '');
  return inIndex(ctx, idCol, `SELECT resource_id FROM sp_text WHERE resource_type = ${sql.p(type)} AND words @@ to_tsquery('simple', ${sql.p(tsquery)})`);
}

/** _has:Observation:patient:code=x → resources referenced by an Observation.patient whose code is x. */
function hasPredicate(ctx: PredicateContext, type: string, idCol: string, key: string, raw: string): string {
  const m = /^_has:([A-Za-z]+):([A-Za-z0-9_-]+):(.+)$/.exec(key);
  if (!m) throw badRequest(`"${key}" is not a valid _has parameter (expected _has:Type:reference:parameter)`);
  const [, source, refParam, rest] = m;
  const sp = searchParametersOf(source)[refParam];
  if (!sp || sp.type !== 'reference') throw badRequest(`"${refParam}" is not a reference parameter of ${source}`);
  const inner = predicate(ctx, source, 'h.id', rest, raw);
  if (!inner) throw badRequest(`Unknown parameter "${rest}" on ${source} in ${key}`);
  const { sql } = ctx;
  return `${idCol} IN (SELECT target_id FROM sp_reference WHERE resource_type = ${sql.p(source)} AND param = ${sql.p(refParam)} AND target_type = ${sql.p(type)} AND resource_id IN (SELECT h.id FROM ${currentTable(source)} h WHERE NOT h.deleted AND ${inner}))`;
}
