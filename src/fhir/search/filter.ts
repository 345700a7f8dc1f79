// The _filter parameter (R4 search_filter.html): an expression of tests `path operator value` joined by
// and/or (left to right, no precedence), not(...) and parentheses. Each test is turned into SQL by the
// condition builders of ordinary parameters, on the same SearchParameter definitions (custom ones
// included), so `birthdate ge 2014-10-10` means what `birthdate=ge2014-10-10` means.
import type { SearchParameter } from '@medplum/fhirtypes';
import { searchParametersOf } from '../definitions.ts';
import { badRequest, FhirError } from '../outcome.ts';
import { kindOf, type IndexKind } from './indexer.ts';
import { dateRange, normalizeString } from './normalize.ts';
import {
  chainPredicate,
  compositeCondition,
  dateCondition,
  inIndex,
  numberCondition,
  quantityCondition,
  referenceCondition,
  stringCondition,
  textPredicate,
  tokenCondition,
  uriCondition,
  type PredicateContext,
} from './predicates.ts';
import { likeEscape } from './sql.ts';
import { UCUM } from './ucum.ts';

const OPERATORS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le', 'ap', 'sa', 'eb', 'pr', 'po', 'ss', 'sb', 'in', 'ni', 're'] as const;
type Operator = (typeof OPERATORS)[number];

type Filter =
  | { op: 'and' | 'or'; left: Filter; right: Filter }
  | { op: 'not'; inner: Filter }
  | { op: 'test'; path: Step[]; operator: Operator; value: string; at: number; source: string };

/** One name of a path; `filter` restricts the resources a reference parameter points to (name[filter].name). */
interface Step {
  name: string;
  filter?: Filter;
}

/** Operators by parameter kind (the spec's table; ss/sb/in/ni on tokens need the terminology). */
const BY_KIND: Partial<Record<IndexKind, readonly Operator[]>> = {
  string: ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le', 'pr'],
  token: ['eq', 'ne', 'ss', 'sb', 'in', 'ni', 'pr'],
  date: ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap', 'po', 'co', 'pr'],
  number: ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap', 'pr'],
  quantity: ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap', 'pr'],
  uri: ['eq', 'ne', 'co', 'sw', 'ew', 'pr'],
  reference: ['re', 'pr'],
  composite: ['eq', 'ne', 'pr'],
};
const PREFIXED = new Set<Operator>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);
/** Names the spec predefines in place of their code system URLs. */
const SYSTEMS: Record<string, string> = {
  loinc: 'http://loinc.org',
  snomed: 'http://snomed.info/sct',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  ucum: UCUM,
};
/** Parameters answered without a SearchParameter definition. */
const NATIVE = new Set(['_id', '_lastUpdated', '_text', '_content']);

/** SQL predicate on `idCol` for one _filter value. */
export function filterPredicate(ctx: PredicateContext, type: string, idCol: string, key: string, raw: string): string {
  if (key !== '_filter') throw badRequest(`_filter takes no modifier (got ${key})`);
  return compile(ctx, type, idCol, new Parser(raw).parse());
}

class Parser {
  private i = 0;
  constructor(private readonly src: string) {}

  parse(): Filter {
    const tree = this.filter();
    this.space();
    if (this.i < this.src.length) this.fail('"and", "or" or the end of the expression');
    return tree;
  }

  private fail(expected: string): never {
    const rest = this.src.slice(this.i);
    const found = rest ? `, found "${/^\S{1,30}/.exec(rest)?.[0] ?? rest.slice(0, 30)}"` : ' (end of the expression)';
    throw badRequest(`_filter: expected ${expected} at character ${this.i + 1}${found}`, '_filter');
  }

  private space(): boolean {
    const start = this.i;
    while (this.i < this.src.length && /\s/.test(this.src[this.i])) this.i++;
    return this.i > start;
  }

  /** A keyword (case-insensitive) followed by a space or a parenthesis, consumed when present. */
  private keyword(word: string): boolean {
    const m = new RegExp(`^${word}(?=[\\s(])`, 'i').exec(this.src.slice(this.i));
    if (m) this.i += word.length;
    return m !== null;
  }

  private filter(): Filter {
    let left = this.term();
    for (;;) {
      const save = this.i;
      this.space();
      const op = this.keyword('and') ? 'and' : this.keyword('or') ? 'or' : undefined;
      if (!op) {
        this.i = save;
        return left;
      }
      left = { op, left, right: this.term() };
    }
  }

  private term(): Filter {
    this.space();
    if (this.src[this.i] === '(') return this.group();
    if (this.keyword('not')) {
      this.space();
      if (this.src[this.i] !== '(') this.fail('( after not');
      return { op: 'not', inner: this.group() };
    }
    return this.test();
  }

  private group(): Filter {
    this.i++;
    const inner = this.filter();
    this.space();
    if (this.src[this.i] !== ')') this.fail('")"');
    this.i++;
    return inner;
  }

  private test(): Filter {
    const at = this.i;
    const path = this.path();
    if (!this.space()) this.fail(this.i < this.src.length ? 'a space after the parameter name' : 'an operator');
    const op = /^[a-z]{2}(?=\s|$)/i.exec(this.src.slice(this.i))?.[0].toLowerCase() as Operator | undefined;
    if (!op || !OPERATORS.includes(op)) this.fail(`an operator (${OPERATORS.join(', ')})`);
    this.i += 2;
    if (!this.space()) this.fail(this.i < this.src.length ? 'a space after the operator' : 'a value');
    const value = this.value();
    return { op: 'test', path, operator: op, value, at, source: this.src.slice(at, this.i) };
  }

  private path(): Step[] {
    const name = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.src.slice(this.i))?.[0];
    if (!name) this.fail('a search parameter name');
    this.i += name.length;
    const step: Step = { name };
    if (this.src[this.i] === '[') {
      this.i++;
      step.filter = this.filter();
      this.space();
      if (this.src[this.i] !== ']') this.fail('"]"');
      this.i++;
      if (this.src[this.i] !== '.') this.fail('"." and a parameter after ]');
    }
    if (this.src[this.i] !== '.') return [step];
    this.i++;
    return [step, ...this.path()];
  }

  /** A JSON string, or a token: non-space characters up to ")" or "]". */
  private value(): string {
    if (this.src[this.i] === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(this.src.slice(this.i));
      if (!m) this.fail('a closing " for the string');
      try {
        const text = JSON.parse(m[0]) as string;
        this.i += m[0].length;
        return text;
      } catch {
        this.fail('a JSON string (escapes \\" \\\\ \\n \\uXXXX)');
      }
    }
    const token = /^[^\s)\]]+/.exec(this.src.slice(this.i))?.[0];
    if (!token) this.fail('a value');
    this.i += token.length;
    return token;
  }
}

function compile(ctx: PredicateContext, type: string, idCol: string, f: Filter): string {
  switch (f.op) {
    case 'and':
    case 'or':
      return `(${compile(ctx, type, idCol, f.left)} ${f.op.toUpperCase()} ${compile(ctx, type, idCol, f.right)})`;
    case 'not':
      return `NOT (${compile(ctx, type, idCol, f.inner)})`;
    case 'test':
      try {
        return test(ctx, type, idCol, f.path, f);
      } catch (err) {
        // Errors of the builders get the place of the test; the parser's already have theirs.
        if (err instanceof FhirError && err.status === 400 && !err.message.startsWith('_filter')) {
          throw badRequest(`_filter, at character ${f.at + 1} (${f.source}): ${err.message}`, '_filter');
        }
        throw err;
      }
  }
}

type Test = Extract<Filter, { op: 'test' }>;

function test(ctx: PredicateContext, type: string, idCol: string, path: Step[], t: Test): string {
  const [head, ...rest] = path;
  if (rest.length === 0) return parameterTest(ctx, type, idCol, head.name, t.operator, t.value);
  const sp = parameter(type, head.name);
  if (sp.type !== 'reference') throw badRequest(`"${head.name}" is a ${sp.type} parameter of ${type}: only a reference parameter is followed by [filter] or a chained name`);
  // A target on which a name is unknown is skipped (subject → Patient has "birthdate", Group has not);
  // checked before any SQL is written, as placeholders cannot be taken back.
  return chainPredicate(ctx, type, idCol, head.name, rest.map((s) => s.name).join('.'), (target, col) => {
    if (!known(target, rest[0].name) || (head.filter && !namesOf(head.filter).every((n) => known(target, n)))) return undefined;
    const conds = head.filter ? [compile(ctx, target, col, head.filter)] : [];
    conds.push(test(ctx, target, col, rest, t));
    return conds.join(' AND ');
  });
}

const known = (type: string, name: string) => NATIVE.has(name) || searchParametersOf(type)[name] !== undefined;

/** The first names of the paths of a filter's tests. */
function namesOf(f: Filter): string[] {
  if (f.op === 'test') return [f.path[0].name];
  if (f.op === 'not') return namesOf(f.inner);
  return [...namesOf(f.left), ...namesOf(f.right)];
}

function parameter(type: string, code: string): SearchParameter {
  const sp = searchParametersOf(type)[code];
  if (!sp) throw badRequest(`Unknown search parameter "${code}" for ${type}`);
  return sp;
}

function unsupported(op: Operator, what: string, allowed: readonly Operator[]): FhirError {
  return badRequest(`The operator ${op} does not apply to ${what} (it takes ${allowed.join(', ')})`);
}

function parameterTest(ctx: PredicateContext, type: string, idCol: string, code: string, op: Operator, value: string): string {
  const { sql } = ctx;
  if (code === '_id') {
    if (op === 'eq' || op === 'ne') return `${idCol} ${op === 'eq' ? '=' : '<>'} ${sql.p(value)}`;
    throw unsupported(op, '_id', ['eq', 'ne']);
  }
  if (code === '_lastUpdated') {
    const col = `${idCol.split('.')[0]}.last_updated`;
    if (PREFIXED.has(op)) return dateCondition(ctx, `${op}${value}`, col);
    // A point in time overlaps, or lies within, the value's period when it falls inside it.
    if (op === 'po' || op === 'co') return dateCondition(ctx, value, col);
    throw unsupported(op, '_lastUpdated', [...PREFIXED, 'po', 'co']);
  }
  if (code === '_text' || code === '_content') {
    if (op === 'eq' || op === 'co') return textPredicate(ctx, type, idCol, code, value);
    throw unsupported(op, code, ['eq', 'co']);
  }
  const sp = parameter(type, code);
  const kind = kindOf(sp);
  const allowed = kind && BY_KIND[kind];
  if (!kind || !allowed) throw badRequest(`The ${sp.type} parameter "${code}" cannot be used in _filter`);
  if (!allowed.includes(op)) throw unsupported(op, `the ${kind} parameter "${code}"`, allowed);
  const rows = (cond?: string) => `SELECT resource_id FROM sp_${kind} WHERE resource_type = ${sql.p(type)} AND param = ${sql.p(code)}${cond ? ` AND ${cond}` : ''}`;
  if (op === 'pr') {
    if (value !== 'true' && value !== 'false') throw badRequest(`pr expects true or false, got "${value}"`);
    return value === 'true' ? inIndex(ctx, idCol, rows()) : `${idCol} NOT IN (${rows()})`;
  }
  // ni: none of the resource's codes is in the set, where ne is "one value differs".
  if (op === 'ni') return `${idCol} NOT IN (${rows(valueSetCondition(ctx, value))})`;
  const cond = op === 'ne' && kind !== 'date' && kind !== 'number' && kind !== 'quantity' ? `(${condition(ctx, sp, kind, 'eq', value)}) IS NOT TRUE` : condition(ctx, sp, kind, op, value);
  return inIndex(ctx, idCol, rows(cond));
}

/** The condition on one index row of `kind` for `op value`. */
function condition(ctx: PredicateContext, sp: SearchParameter, kind: IndexKind, op: Operator, value: string): string {
  const { sql } = ctx;
  switch (kind) {
    case 'string': {
      const norm = normalizeString(value);
      if (op === 'co') return stringCondition(ctx, value, 'contains');
      if (op === 'sw') return stringCondition(ctx, value);
      if (op === 'ew') return `norm LIKE ${sql.p(`%${likeEscape(norm)}`)}`;
      const compare = { eq: '=', gt: '>', lt: '<', ge: '>=', le: '<=' }[op as 'eq'];
      return `norm ${compare} ${sql.p(norm)}`;
    }
    case 'token':
      if (op === 'ss' || op === 'sb') return subsumption(ctx, op, withSystem(value));
      if (op === 'in') return valueSetCondition(ctx, value);
      return tokenCondition(ctx, withSystem(value));
    case 'date':
      if (op === 'po' || op === 'co') return periodCondition(ctx, op, value);
      return dateCondition(ctx, `${op}${value}`, { low: 'low', high: 'high' });
    case 'number':
      return numberCondition(ctx, `${op}${value}`, 'value');
    case 'quantity': {
      const [number, system, ...unit] = value.split('|');
      return quantityCondition(ctx, [`${op}${number}`, ...(system === undefined ? [] : [SYSTEMS[system] ?? system, ...unit])].join('|'));
    }
    case 'uri':
      if (op === 'sw') return uriCondition(ctx, value, 'below');
      if (op === 'co') return `value LIKE ${sql.p(`%${likeEscape(value)}%`)}`;
      if (op === 'ew') return `value LIKE ${sql.p(`%${likeEscape(value)}`)}`;
      return uriCondition(ctx, value);
    case 'reference':
      return referenceCondition(ctx, sp, value);
    default:
      return compositeCondition(ctx, sp, value);
  }
}

/** "loinc|1234-5" → "http://loinc.org|1234-5". */
function withSystem(value: string): string {
  const bar = value.indexOf('|');
  return bar > 0 && SYSTEMS[value.slice(0, bar)] ? `${SYSTEMS[value.slice(0, bar)]}${value.slice(bar)}` : value;
}

/** po: the periods overlap; co: the indexed period contains the value's. */
function periodCondition(ctx: PredicateContext, op: 'po' | 'co', value: string): string {
  const range = dateRange(value);
  if (!range) throw badRequest(`"${value}" is not a valid FHIR date, dateTime or instant`);
  const lo = `${ctx.sql.p(range.low.toISOString())}::timestamptz`;
  const hi = `${ctx.sql.p(range.high.toISOString())}::timestamptz`;
  return op === 'po' ? `(low < ${hi} AND high > ${lo})` : `(low <= ${lo} AND high >= ${hi})`;
}

/**
 * ss: the value subsumes the resource's code (the code is the value or below it); sb: the value is
 * subsumed by it (the code is the value or above it). The hierarchy is the stored code systems' one.
 */
export function subsumption(ctx: PredicateContext, op: 'ss' | 'sb', value: string): string {
  const bar = value.indexOf('|');
  if (bar <= 0 || bar === value.length - 1) throw badRequest(`${op} expects system|code (so does :${op === 'ss' ? 'below' : 'above'}), got "${value}"`);
  const system = ctx.sql.p(value.slice(0, bar));
  const code = ctx.sql.p(value.slice(bar + 1));
  const step = op === 'ss' ? 'SELECT p.code FROM terminology_concept_parent p JOIN h ON p.parent = h.code' : 'SELECT p.parent FROM terminology_concept_parent p JOIN h ON p.code = h.code';
  return `(system = ${system} AND code IN (WITH RECURSIVE h(code) AS (SELECT ${code}::text UNION ${step} WHERE p.system = ${system}) SELECT code FROM h))`;
}

/** in: one of the resource's codes is in the ValueSet (named by its canonical URL), expanded here. */
export function valueSetCondition(ctx: PredicateContext, url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) throw badRequest(`in and ni expect the canonical URL of a ValueSet (so do :in and :not-in), got "${url}"`);
  const expansion = ctx.valueSet?.(url);
  if (!expansion) throw badRequest(`The ValueSet ${url} is unknown here, or cannot be expanded without a terminology server (filters, unknown or partial code systems)`);
  const { sql } = ctx;
  const conds: string[] = [];
  const all = new Set<string>();
  for (const [system, codes] of expansion.entries()) {
    conds.push(`(system = ${sql.p(system)} AND code = ANY(${sql.p([...codes])}::text[]))`);
    for (const c of codes) all.add(c);
  }
  if (conds.length === 0) return 'false';
  // A code without a system (a `code` element) is in the set when any system of the set has it.
  conds.push(`(system IS NULL AND code = ANY(${sql.p([...all])}::text[]))`);
  return `(${conds.join(' OR ')})`;
}
