// ValueSet/$expand: the compose compiled to SQL, then text filter, activeOnly and paging in the
// database. An expansion larger than MAX_EXPANSION is only served page by page.
import { randomUUID } from 'node:crypto';
import type { CodeSystemConceptDesignation, ValueSet, ValueSetExpansionContains, ValueSetExpansionParameter } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import type { OperationDefinitionEntry, OperationRequest } from '../fhir/operations.ts';
import { badRequest, FhirError, notFound } from '../fhir/outcome.ts';
import { likeEscape } from '../fhir/search/sql.ts';
import { ComposeCompiler } from './compose.ts';
import { words } from './concepts.ts';
import { canonical, intInput } from './parameters.ts';
import type { Resolver } from './resolve.ts';

/** Codes an expansion returns at once; a larger one is refused unless paged with count and offset. */
const MAX_EXPANSION = 10_000;

export interface MemberRow {
  system: string;
  version: string;
  code: string;
  display: string | null;
  inactive: boolean;
  designations: CodeSystemConceptDesignation[] | string | null;
}

/** The ValueSet an operation targets: the instance, an inline `valueSet`, or `url` (+ `valueSetVersion`). */
export async function targetValueSet(req: OperationRequest, resolver: Resolver, q: Queryable): Promise<ValueSet> {
  if (req.id) return resolver.read<ValueSet>(q, 'ValueSet', req.id);
  const inline = req.params.object<ValueSet>('valueSet');
  if (inline) {
    if (inline.resourceType !== 'ValueSet') throw badRequest('The input parameter "valueSet" must be a ValueSet resource');
    return inline;
  }
  const url = req.params.string('url') ?? req.params.string('context');
  if (!url) throw badRequest('Give the value set: "url", an inline "valueSet", or call the operation on ValueSet/[id]');
  const [base, pinned] = url.split('|');
  const version = req.params.string('valueSetVersion') ?? pinned;
  const { valueSet, versions } = await resolver.valueSet(q, base, version);
  if (valueSet) return valueSet;
  if (version && versions.length) throw notFound(`ValueSet ${base} has no version ${version} on this server (versions: ${versions.map((v) => v || '(none)').join(', ')})`);
  throw notFound(`ValueSet ${base} is not known to this server`);
}

/** `system-version` inputs ("url|version"): the version of a code system to use when an include names none. */
export function systemVersions(req: OperationRequest): Map<string, string> {
  const map = new Map<string, string>();
  for (const value of req.params.all('system-version')) {
    const [url, version] = String(value).split('|');
    if (!url || !version) throw badRequest(`"system-version" takes a canonical with its version (url|version), got "${value}"`);
    map.set(url, version);
  }
  return map;
}

async function expand(req: OperationRequest, resolver: Resolver): Promise<ValueSet> {
  const q = req.tx ?? req.core.db;
  const vs = await targetValueSet(req, resolver, q);
  const compiler = new ComposeCompiler(q, resolver, { systemVersions: systemVersions(req) });
  const members = await compiler.valueSet(vs);
  const { sql } = compiler;
  const filter = req.params.string('filter');
  const activeOnly = req.params.boolean('activeOnly') === true;
  const terms = filter ? words(filter) : [];
  const where = terms.map((w) => `m.search LIKE ${sql.p(`% ${likeEscape(w)}%`)}`);
  if (activeOnly) where.push('NOT m.inactive');
  const from = `FROM (${members}) m${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  const countAll = async () => (await q.query<{ n: number }>(`SELECT count(*)::int AS n ${from}`, [...sql.params])).rows[0].n;
  const offset = intInput(req.params, 'offset') ?? 0;
  const asked = intInput(req.params, 'count');
  const label = canonical(vs.url ?? `ValueSet/${vs.id ?? '(inline)'}`, vs.version);
  // Counted first when the whole expansion is wanted (refused beyond MAX_EXPANSION), and when unfiltered: paging
  // then reads a few rows in index order, where counting in the same query would read them all. A filtered
  // page carries its count (one scan of the matches instead of two).
  let total = asked === undefined || !where.length ? await countAll() : undefined;
  if (asked === undefined && total !== undefined && total > MAX_EXPANSION) {
    throw new FhirError(422, `ValueSet ${label} has ${total} codes${filter ? ` matching "${filter}"` : ''}, more than the ${MAX_EXPANSION} returned at once: page with count and offset, or narrow with filter`, 'too-costly');
  }
  const count = Math.min(asked ?? MAX_EXPANSION, MAX_EXPANSION);
  // With a filter, the closest matches first: its words whole ("paris" before "pariset"), then the shortest texts
  // ("Paris" before "Le Touquet-Paris-Plage").
  const whole = terms.map((w) => `((m.search || ' ') LIKE ${sql.p(`% ${likeEscape(w)} %`)})::int`);
  const rank = whole.length ? `${whole.join(' + ')} DESC, length(m.search), ` : '';
  const { rows } = await q.query<MemberRow & { total: number }>(
    `SELECT system, version, code, display, inactive, designations${total === undefined ? ', count(*) OVER ()::int AS total' : ''} ${from} ORDER BY ${rank}clause, ord LIMIT ${sql.p(count)} OFFSET ${sql.p(offset)}`,
    sql.params,
  );
  total ??= rows.length ? rows[0].total : await countAll();
  const withDesignations = req.params.boolean('includeDesignations') === true;
  const parameter: ValueSetExpansionParameter[] = [
    ...(filter !== undefined ? [{ name: 'filter', valueString: filter }] : []),
    { name: 'offset', valueInteger: offset },
    ...(asked !== undefined ? [{ name: 'count', valueInteger: count }] : []),
    ...(activeOnly ? [{ name: 'activeOnly', valueBoolean: true }] : []),
    ...[...compiler.used.values()].map((u) => ({ name: 'version', valueUri: canonical(u.url, u.version) })),
  ];
  const { id, url, identifier, version, name, title, status } = vs;
  return {
    resourceType: 'ValueSet',
    id,
    url,
    identifier,
    version,
    name,
    title,
    status: status ?? 'active',
    expansion: {
      identifier: `urn:uuid:${randomUUID()}`,
      timestamp: new Date().toISOString(),
      total,
      offset,
      parameter,
      contains: rows.map((r) => containsOf(r, withDesignations)),
    },
  };
}

function containsOf(r: MemberRow, withDesignations: boolean): ValueSetExpansionContains {
  const designations = typeof r.designations === 'string' ? (JSON.parse(r.designations) as CodeSystemConceptDesignation[]) : r.designations;
  return {
    system: r.system,
    ...(r.version ? { version: r.version } : {}),
    code: r.code,
    ...(r.display !== null ? { display: r.display } : {}),
    ...(r.inactive ? { inactive: true } : {}),
    ...(withDesignations && designations?.length ? { designation: designations } : {}),
  };
}

export function expandOperation(resolver: Resolver): OperationDefinitionEntry {
  return {
    name: 'expand',
    levels: ['type', 'instance'],
    types: ['ValueSet'],
    affectsState: false,
    summary: 'Codes of a value set: text filter, paging (offset, count), activeOnly, versioned code systems',
    handler: (req) => expand(req, resolver),
  };
}
