// Compiles a ValueSet's compose (include/exclude, concept lists, filters, imported ValueSets) into one
// SQL query over the concept index, so that a 100,000-code system is expanded, filtered, paged and
// tested for membership by the database, not in memory. Every member row has the columns
// (clause, ord, system, version, code, display, inactive, search, designations).
import type { ValueSet, ValueSetComposeInclude, ValueSetComposeIncludeFilter, ValueSetExpansionContains } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import { FhirError } from '../fhir/outcome.ts';
import { Sql } from '../fhir/search/sql.ts';
import { searchText } from './concepts.ts';
import type { CodeSystemSource, Resolver } from './resolve.ts';

export interface ComposeOptions {
  /** system url → version to use when an include names none (the $expand system-version input). */
  systemVersions?: Map<string, string>;
}

/** What an expansion used, for expansion.parameter. */
export interface UsedSystem {
  url: string;
  version: string;
}

export class ComposeCompiler {
  readonly sql = new Sql();
  readonly used = new Map<string, UsedSystem>();
  private readonly expanding: string[] = [];

  constructor(
    private readonly q: Queryable,
    private readonly resolver: Resolver,
    private readonly options: ComposeOptions = {},
  ) {}

  /** SELECT of the ValueSet's members (duplicates across clauses removed, first clause wins). */
  async valueSet(vs: ValueSet): Promise<string> {
    const label = vs.url ?? `ValueSet/${vs.id ?? '(inline)'}`;
    if (this.expanding.includes(label)) throw new FhirError(422, `ValueSet ${label} imports itself (${[...this.expanding, label].join(' → ')})`, 'processing');
    this.expanding.push(label);
    try {
      if (!vs.compose) return this.preExpanded(vs, label);
      const includes = vs.compose.include ?? [];
      if (!includes.length) throw new FhirError(422, `ValueSet ${label} has a compose without include`, 'invalid');
      // One after the other: `expanding` guards against import cycles along the current path.
      const parts: string[] = [];
      for (const [i, inc] of includes.entries()) parts.push(await this.include(inc, i, label));
      let members = parts.length === 1 ? parts[0] : `SELECT DISTINCT ON (system, code) * FROM (${parts.join(' UNION ALL ')}) u ORDER BY system, code, clause, ord`;
      const excludes: string[] = [];
      for (const [i, exc] of (vs.compose.exclude ?? []).entries()) excludes.push(await this.include(exc, i, label));
      const conditions: string[] = [];
      if (excludes.length) conditions.push(`NOT EXISTS (SELECT 1 FROM (${excludes.join(' UNION ALL ')}) x WHERE x.system = m.system AND x.code = m.code)`);
      if (vs.compose.inactive === false) conditions.push('NOT m.inactive');
      if (conditions.length) members = `SELECT * FROM (${members}) m WHERE ${conditions.join(' AND ')}`;
      return members;
    } finally {
      this.expanding.pop();
    }
  }

  private async include(inc: ValueSetComposeInclude, clause: number, label: string): Promise<string> {
    const imports: string[] = [];
    for (const url of inc.valueSet ?? []) imports.push(await this.imported(url, label));
    const inImports = imports.map((imported) => `EXISTS (SELECT 1 FROM (${imported}) v WHERE v.system = r.system AND v.code = r.code)`);
    if (!inc.system) {
      if (!imports.length) throw new FhirError(422, `ValueSet ${label}: an include names neither a system nor a valueSet`, 'invalid');
      const first = `SELECT ${clause} AS clause, r.ord, r.system, r.version, r.code, r.display, r.inactive, r.search, r.designations FROM (${imports[0]}) r`;
      return inImports.length > 1 ? `${first} WHERE ${inImports.slice(1).join(' AND ')}` : first;
    }
    const version = inc.version ?? this.options.systemVersions?.get(inc.system);
    const { source, versions } = await this.resolver.codeSystem(this.q, inc.system, version);
    const usedVersion = source?.system.version ?? version ?? '';
    this.used.set(`${inc.system}|${usedVersion}`, { url: inc.system, version: usedVersion });
    let rows: string;
    if (inc.concept?.length) rows = this.conceptList(inc, clause, usedVersion, source);
    else if (source) {
      const filters = (inc.filter ?? []).map((f) => this.filter(f, source, label));
      rows = `SELECT ${clause} AS clause, c.seq AS ord, ${this.sql.p(inc.system)}::text AS system, ${this.sql.p(usedVersion)}::text AS version, c.code, c.display, c.inactive, c.search, c.designations FROM ${this.concepts(source)} c${filters.length ? ` WHERE ${filters.join(' AND ')}` : ''}`;
    } else throw unknownSystem(label, inc.system, version, versions);
    return inImports.length ? `SELECT * FROM (${rows}) r WHERE ${inImports.join(' AND ')}` : rows;
  }

  private async imported(url: string, label: string): Promise<string> {
    const [base, version] = url.split('|');
    const { valueSet } = await this.resolver.valueSet(this.q, base, version);
    if (!valueSet) throw new FhirError(422, `ValueSet ${label} imports ValueSet ${url}, which this server does not know`, 'not-found');
    return this.valueSet(valueSet);
  }

  /** The include's own list, in its order; displays from the list, status from the code system when known. */
  private conceptList(inc: ValueSetComposeInclude, clause: number, version: string, source: CodeSystemSource | undefined): string {
    const concepts = inc.concept ?? [];
    const codes = this.sql.p(concepts.map((c) => c.code));
    const displays = this.sql.p(concepts.map((c) => c.display ?? null));
    const searches = this.sql.p(concepts.map((c) => searchText([c.code, c.display, ...(c.designation ?? []).map((d) => d.value)])));
    const list = `unnest(${codes}::text[], ${displays}::text[], ${searches}::text[]) WITH ORDINALITY AS l(code, display, search, ord)`;
    const head = `SELECT ${clause} AS clause, l.ord::int AS ord, ${this.sql.p(inc.system)}::text AS system, ${this.sql.p(version)}::text AS version, l.code`;
    if (!source) return `${head}, l.display, false AS inactive, l.search, NULL::jsonb AS designations FROM ${list}`;
    return `${head}, COALESCE(l.display, c.display) AS display, COALESCE(c.inactive, false) AS inactive, COALESCE(c.search, l.search) AS search, c.designations FROM ${list} LEFT JOIN ${this.concepts(source)} c ON c.code = l.code`;
  }

  /** The code system's concepts as a FROM item: the index table, or the in-memory rows of a built-in one. */
  private concepts(source: CodeSystemSource): string {
    if (source.kind === 'stored') {
      return `(SELECT code, seq, display, inactive, search, designations, properties FROM terminology_concept WHERE system = ${this.sql.p(source.system.url)} AND version = ${this.sql.p(source.system.version)})`;
    }
    const rows = source.rows;
    return `(SELECT * FROM unnest(${this.sql.p(rows.map((r) => r.code))}::text[], ${this.sql.p(rows.map((_, i) => i))}::int[], ${this.sql.p(rows.map((r) => r.display ?? null))}::text[], ${this.sql.p(rows.map((r) => r.inactive))}::boolean[], ${this.sql.p(rows.map((r) => r.search))}::text[], ${this.sql.p(rows.map((r) => (r.designations ? JSON.stringify(r.designations) : null)))}::jsonb[], ${this.sql.p(rows.map((r) => (r.properties ? JSON.stringify(r.properties) : null)))}::jsonb[]) AS b(code, seq, display, inactive, search, designations, properties))`;
  }

  /** Parent links as a FROM item (code, parent). */
  private links(source: CodeSystemSource): string {
    if (source.kind === 'stored') {
      return `(SELECT code, parent FROM terminology_concept_parent WHERE system = ${this.sql.p(source.system.url)} AND version = ${this.sql.p(source.system.version)})`;
    }
    const pairs = source.rows.flatMap((r) => r.parents.map((p) => [r.code, p]));
    return `(SELECT * FROM unnest(${this.sql.p(pairs.map((p) => p[0]))}::text[], ${this.sql.p(pairs.map((p) => p[1]))}::text[]) AS l(code, parent))`;
  }

  /** The code and its descendants (or ancestors) as a subquery. */
  private closure(source: CodeSystemSource, code: string, direction: 'down' | 'up'): string {
    const [from, to] = direction === 'down' ? ['parent', 'code'] : ['code', 'parent'];
    return `(WITH RECURSIVE t(code) AS (SELECT ${this.sql.p(code)}::text UNION SELECT e.${to} FROM ${this.links(source)} e JOIN t ON e.${from} = t.code) SELECT code FROM t)`;
  }

  /** A compose filter as a condition on `c`, a concept of the code system. */
  private filter(f: ValueSetComposeIncludeFilter, source: CodeSystemSource, label: string): string {
    const { property, op, value } = f;
    const invalid = (why: string) => new FhirError(422, `ValueSet ${label}: filter "${property} ${op} ${value}" on ${source.system.url}: ${why}`, 'not-supported');
    if (typeof value !== 'string' || !property || !op) throw invalid('a filter needs a property, an op and a value');
    const onCode = property === 'concept' || property === 'code';
    const p = (v: unknown) => this.sql.p(v);
    switch (op) {
      case 'is-a':
      case 'descendent-of':
      case 'is-not-a':
      case 'generalizes': {
        if (!onCode) throw invalid(`op ${op} applies to the property "concept"`);
        const set = this.closure(source, value, op === 'generalizes' ? 'up' : 'down');
        if (op === 'is-not-a') return `c.code NOT IN ${set}`;
        return op === 'descendent-of' ? `c.code IN ${set} AND c.code <> ${p(value)}` : `c.code IN ${set}`;
      }
      case 'in':
      case 'not-in': {
        const list = p(value.split(',').map((v) => v.trim()));
        const column = onCode ? 'c.code' : undefined;
        const test = column ? `${column} = ANY(${list}::text[])` : `EXISTS (SELECT 1 FROM jsonb_array_elements(${this.properties()}) e WHERE e->>'code' = ${p(property)} AND e->>'v' = ANY(${list}::text[]))`;
        return op === 'in' ? test : `NOT (${test})`;
      }
      case 'regex': {
        try {
          new RegExp(value);
        } catch {
          throw invalid('the value is not a valid regular expression');
        }
        const anchored = p(`^(?:${value})$`);
        if (onCode) return `c.code ~ ${anchored}`;
        if (property === 'display') return `c.display ~ ${anchored}`;
        return `EXISTS (SELECT 1 FROM jsonb_array_elements(${this.properties()}) e WHERE e->>'code' = ${p(property)} AND e->>'v' ~ ${anchored})`;
      }
      case '=': {
        if (onCode) return `c.code = ${p(value)}`;
        if (property === 'display') return `c.display = ${p(value)}`;
        if (property === 'inactive') return value === 'true' ? 'c.inactive' : 'NOT c.inactive';
        if (property === 'parent') return `c.code IN (SELECT code FROM ${this.links(source)} l WHERE l.parent = ${p(value)})`;
        if (property === 'child') return `c.code IN (SELECT parent FROM ${this.links(source)} l WHERE l.code = ${p(value)})`;
        return `${this.properties()} @> jsonb_build_array(jsonb_build_object('code', ${p(property)}::text, 'v', ${p(value)}::text))`;
      }
      case 'exists': {
        if (value !== 'true' && value !== 'false') throw invalid('the value of an exists filter is true or false');
        const has = `${this.properties()} @> jsonb_build_array(jsonb_build_object('code', ${p(property)}::text))`;
        return value === 'true' ? has : `NOT ${has}`;
      }
      default:
        throw invalid(`op ${op} is not supported (is-a, descendent-of, is-not-a, generalizes, =, in, not-in, regex, exists)`);
    }
  }

  private properties(): string {
    return `COALESCE(c.properties, '[]'::jsonb)`;
  }

  /** A ValueSet given only as an expansion (no compose): its contains list is its content. */
  private preExpanded(vs: ValueSet, label: string): string {
    const flat: ValueSetExpansionContains[] = [];
    const visit = (items: ValueSetExpansionContains[] | undefined): void => {
      for (const c of items ?? []) {
        if (c.code) flat.push(c);
        visit(c.contains);
      }
    };
    visit(vs.expansion?.contains);
    if (!vs.expansion) throw new FhirError(422, `ValueSet ${label} has neither compose nor expansion: it cannot be expanded`, 'invalid');
    const col = (f: (c: (typeof flat)[number]) => unknown, type: string) => `${this.sql.p(flat.map(f))}::${type}[]`;
    return `SELECT 0 AS clause, e.ord::int AS ord, e.system, e.version, e.code, e.display, e.inactive, e.search, NULL::jsonb AS designations FROM unnest(${col((c) => c.system ?? null, 'text')}, ${col((c) => c.version ?? '', 'text')}, ${col((c) => c.code, 'text')}, ${col((c) => c.display ?? null, 'text')}, ${col((c) => c.inactive === true, 'boolean')}, ${col((c) => searchText([c.code, c.display]), 'text')}) WITH ORDINALITY AS e(system, version, code, display, inactive, search, ord)`;
  }
}

function unknownSystem(label: string, system: string, version: string | undefined, versions: string[]): FhirError {
  if (version && versions.length) {
    return new FhirError(422, `ValueSet ${label} includes CodeSystem ${system} version ${version}, which this server does not have (versions known: ${versions.map((v) => v || '(none)').join(', ')})`, 'not-found');
  }
  return new FhirError(422, `ValueSet ${label} includes all or part of CodeSystem ${system}, which this server does not know: it cannot be expanded`, 'not-found');
}
