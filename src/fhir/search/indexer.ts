// Extracts the search index rows of a resource from its type's SearchParameter definitions (FHIRPath
// expressions evaluated by @medplum/core). The rows are written in the same transaction as the resource.
import { evalFhirPathTyped, getSearchParameterDetails, parseFhirPath, toTypedValue, type FhirPathAtom, type TypedValue } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { searchParametersOf } from '../definitions.ts';
import { compositeComponents, compositeRows, type CompositeRow } from './composite.ts';
import { isPositionParameter, positionRow, type PositionRow } from './near.ts';
import { dateRange, MAX_INDEXED_LENGTH, normalizeString } from './normalize.ts';
import { plainPaths, walkPaths } from './paths.ts';
import { textRows, type TextRow } from './text.ts';
import { canonicalQuantity, UCUM } from './ucum.ts';

export interface IndexRows {
  string: { param: string; norm: string; exact: string }[];
  token: { param: string; system: string | null; code: string | null; display: string | null }[];
  date: { param: string; low: Date; high: Date }[];
  number: { param: string; value: number }[];
  quantity: { param: string; value: number; system: string | null; code: string | null; unit: string | null; canonical?: { value: number; unit: string } }[];
  uri: { param: string; value: string }[];
  reference: { param: string; targetType: string | null; targetId: string | null; targetUrl: string | null }[];
  composite: CompositeRow[];
  /** Location.position, for the special parameter near. */
  position: PositionRow[];
  /** The words of the resource for _content and _text (one row). */
  text: TextRow[];
}

export type IndexKind = keyof IndexRows;

/** Parameters answered from the resource table itself, or by other means than index rows. */
const NATIVE = new Set(['_id', '_lastUpdated', '_compartment']);

interface IndexedParameter {
  code: string;
  kind: IndexKind;
  param: SearchParameter;
  /** The values of the parameter in a resource (given also as a typed value). */
  evaluate(resource: Resource, input: TypedValue[]): TypedValue[];
}

/** Per type: the definitions they were compiled from (searchable parameters can be added at any time) and the list. */
const compiled = new Map<string, { definitions: Record<string, SearchParameter>; size: number; list: IndexedParameter[] }>();

/** Search parameters of a type that have index rows, with the table that holds them and their evaluator. */
function indexedParameters(type: string): IndexedParameter[] {
  const definitions = searchParametersOf(type);
  const cached = compiled.get(type);
  const fresh = cached && cached.definitions === definitions && cached.size === Object.keys(definitions).length && cached.list.every((p) => definitions[p.code] === p.param);
  if (fresh) return cached.list;
  const list = Object.entries(definitions)
    .filter(([code, sp]) => !NATIVE.has(code) && sp.expression && kindOf(sp) !== undefined)
    .map(([code, sp]) => ({ code, kind: kindOf(sp) as IndexKind, param: sp, evaluate: evaluator(type, sp) }));
  compiled.set(type, { definitions, size: Object.keys(definitions).length, list });
  return list;
}

/** Plain paths walk the JSON; other expressions go through the FHIRPath engine. */
function evaluator(type: string, sp: SearchParameter): IndexedParameter['evaluate'] {
  const paths = plainPaths(type, sp.expression as string);
  if (paths) return (resource) => walkPaths(resource, paths);
  const atom = expressionOf(type, sp);
  return (_resource, input) => evalFhirPathTyped(atom, input);
}

/** The index table of a parameter's values (text rows belong to no SearchParameter). */
export function kindOf(sp: SearchParameter): Exclude<IndexKind, 'text'> | undefined {
  switch (sp.type) {
    case 'string':
      return 'string';
    case 'token':
      return 'token';
    case 'date':
      return 'date';
    case 'number':
      return 'number';
    case 'quantity':
      return 'quantity';
    case 'uri':
      return 'uri';
    case 'reference':
      return 'reference';
    case 'composite':
      return compositeComponents(sp) ? 'composite' : undefined;
    case 'special':
      return isPositionParameter(sp) ? 'position' : undefined; // other special parameters index nothing
    default:
      return undefined;
  }
}

/**
 * The parsed expression of a parameter for a type. Medplum's search details are used when it can
 * compute them; some valid FHIRPath (e.g. extension('url')) defeats that analysis and is parsed as is.
 */
function expressionOf(type: string, sp: SearchParameter): FhirPathAtom {
  try {
    return getSearchParameterDetails(type, sp).parsedExpression;
  } catch {
    return parseFhirPath(sp.expression as string);
  }
}

export function extractIndexRows(resource: Resource): IndexRows {
  const rows: IndexRows = { string: [], token: [], date: [], number: [], quantity: [], uri: [], reference: [], composite: [], position: [], text: [] };
  const input = [toTypedValue(resource)];
  for (const { code, kind, param, evaluate } of indexedParameters(resource.resourceType)) {
    if (kind === 'composite') {
      rows.composite.push(...compositeRows(resource, code, param));
      continue;
    }
    let values: TypedValue[];
    try {
      values = evaluate(resource, input);
    } catch {
      continue; // an expression that does not apply to this resource's shape indexes nothing
    }
    for (const tv of values) addValue(rows, kind, code, tv);
  }
  // After dedupe: one row per resource, not worth comparing.
  return { ...dedupe(rows), text: textRows(resource) };
}

function addValue(rows: IndexRows, kind: IndexKind, param: string, tv: TypedValue): void {
  const v = tv.value as any;
  if (v === undefined || v === null) return;
  switch (kind) {
    case 'string':
      for (const s of stringParts(tv)) rows.string.push({ param, norm: normalizeString(s), exact: s.slice(0, MAX_INDEXED_LENGTH) });
      return;
    case 'token':
      for (const t of tokens(tv)) rows.token.push({ param, ...t });
      return;
    case 'date':
      for (const r of dateRanges(tv)) rows.date.push({ param, ...r });
      return;
    case 'number':
      if (typeof v === 'number') rows.number.push({ param, value: v });
      return;
    case 'quantity':
      if (typeof v === 'object' && typeof v.value === 'number') {
        const canonical = v.system === UCUM ? canonicalQuantity(v.value, v.system, v.code ?? v.unit) : undefined;
        rows.quantity.push({ param, value: v.value, system: v.system ?? null, code: v.code ?? null, unit: v.unit ?? null, canonical });
      } else if (typeof v === 'number') {
        rows.quantity.push({ param, value: v, system: null, code: null, unit: null });
      }
      return;
    case 'uri':
      if (typeof v === 'string') rows.uri.push({ param, value: v.slice(0, MAX_INDEXED_LENGTH) });
      return;
    case 'reference':
      addReference(rows, param, tv);
      return;
    case 'composite':
    case 'text':
      return; // extracted per element by compositeRows, per resource by textRows
    case 'position': {
      const row = positionRow(param, tv);
      if (row) rows.position.push(row);
      return;
    }
  }
}

/** Each part of a name or address is matched on its own (FHIR: "any of the parts"). */
function stringParts(tv: TypedValue): string[] {
  const v = tv.value as any;
  if (typeof v === 'string') return [v];
  if (tv.type === 'HumanName') {
    return [v.text, v.family, ...(v.given ?? []), ...(v.prefix ?? []), ...(v.suffix ?? [])].filter(isString);
  }
  if (tv.type === 'Address') {
    return [v.text, ...(v.line ?? []), v.city, v.district, v.state, v.postalCode, v.country].filter(isString);
  }
  if (typeof v === 'object') return Object.values(v).filter(isString);
  return [String(v)];
}

type Token = { system: string | null; code: string | null; display: string | null };

function tokens(tv: TypedValue): Token[] {
  const v = tv.value as any;
  const cut = (s: unknown) => (typeof s === 'string' ? s.slice(0, MAX_INDEXED_LENGTH) : null);
  switch (tv.type) {
    case 'Identifier': {
      const out: Token[] = [{ system: cut(v.system), code: cut(v.value), display: cut(v.type?.text) }];
      // :of-type matches type coding + value: indexed under the reserved system "of-type|<sys>|<code>".
      for (const c of v.type?.coding ?? []) {
        if (c.code && v.value) out.push({ system: `of-type|${c.system ?? ''}|${c.code}`, code: cut(v.value), display: null });
      }
      return out;
    }
    case 'Coding':
      return [{ system: cut(v.system), code: cut(v.code), display: cut(v.display) }];
    case 'CodeableConcept': {
      const out: Token[] = (v.coding ?? []).map((c: any) => ({ system: cut(c.system), code: cut(c.code), display: cut(c.display ?? v.text) }));
      // :text searches CodeableConcept.text as well as the codings' displays.
      if (v.text && !out.some((t) => t.display === v.text)) out.push({ system: null, code: null, display: cut(v.text) });
      return out;
    }
    case 'ContactPoint':
      return [{ system: cut(v.system), code: cut(v.value), display: null }];
    case 'boolean':
      return [{ system: null, code: String(v), display: null }];
    default:
      return typeof v === 'object' ? [] : [{ system: null, code: cut(String(v)), display: null }];
  }
}

function dateRanges(tv: TypedValue): { low: Date; high: Date }[] {
  const v = tv.value as any;
  if (typeof v === 'string') {
    const r = dateRange(v);
    return r ? [r] : [];
  }
  if (tv.type === 'Period') {
    const start = v.start ? dateRange(v.start) : undefined;
    const end = v.end ? dateRange(v.end) : undefined;
    if (!start && !end) return [];
    return [{ low: start?.low ?? new Date(-8.64e15), high: end?.high ?? new Date(8.64e15) }];
  }
  if (tv.type === 'Timing') return (v.event ?? []).map(dateRange).filter(Boolean);
  return [];
}

function addReference(rows: IndexRows, param: string, tv: TypedValue): void {
  const v = tv.value as any;
  const ref: string | undefined = typeof v === 'string' ? v : v.reference;
  if (typeof v === 'object' && v.identifier?.value) {
    // :identifier matches Reference.identifier: kept with the tokens under "<param>:identifier".
    rows.token.push({ param: `${param}:identifier`, system: v.identifier.system ?? null, code: v.identifier.value, display: null });
  }
  if (!ref) return;
  // Only relative references point into this server; an absolute URL names another server's resource.
  const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
  rows.reference.push({ param, targetType: m?.[1] ?? null, targetId: m?.[2] ?? null, targetUrl: ref.slice(0, MAX_INDEXED_LENGTH) });
}

const isString = (s: unknown): s is string => typeof s === 'string' && s.length > 0;

/** A row's identity; cheaper than JSON.stringify, which dominated the extraction of bulk loads. */
function rowKey(row: object): string {
  let key = '';
  for (const v of Object.values(row)) {
    key += v === null || v === undefined ? '\u0002' : v instanceof Date ? v.getTime() : typeof v === 'object' ? JSON.stringify(v) : v;
    key += '\u0001';
  }
  return key;
}

function dedupe(rows: IndexRows): IndexRows {
  for (const kind of Object.keys(rows) as IndexKind[]) {
    const seen = new Set<string>();
    (rows[kind] as object[]) = (rows[kind] as object[]).filter((r) => {
      const key = rowKey(r);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
  return rows;
}
