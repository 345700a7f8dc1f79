// CodeSystem/$lookup and CodeSystem/$subsumes, and the concept access they share with $validate-code.
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import type { OperationDefinitionEntry, OperationRequest } from '../fhir/operations.ts';
import { badRequest, notFound } from '../fhir/outcome.ts';
import { canonical, codeInputs, group, out, parameters } from './parameters.ts';
import type { CodeSystemSource, Resolver } from './resolve.ts';
import { childrenOf, findConcept, isAncestor, parentsOf, type StoredConcept } from './store.ts';

export async function conceptOf(q: Queryable, source: CodeSystemSource, code: string): Promise<StoredConcept | undefined> {
  if (source.kind === 'stored') return findConcept(q, source.system, code);
  const row = source.byCode.get(code) ?? (source.system.caseSensitive ? undefined : source.rows.find((r) => r.code.toLowerCase() === code.toLowerCase()));
  return row && { code: row.code, display: row.display, definition: row.definition, inactive: row.inactive, designations: row.designations, properties: row.properties };
}

async function hierarchy(q: Queryable, source: CodeSystemSource, code: string): Promise<{ parents: string[]; children: string[] }> {
  if (source.kind === 'stored') return { parents: await parentsOf(q, source.system, code), children: await childrenOf(q, source.system, code) };
  return {
    parents: source.byCode.get(code)?.parents ?? [],
    children: source.rows.filter((r) => r.parents.includes(code)).map((r) => r.code),
  };
}

async function ancestorOf(q: Queryable, source: CodeSystemSource, ancestor: string, code: string): Promise<boolean> {
  if (source.kind === 'stored') return isAncestor(q, source.system, ancestor, code);
  const seen = new Set<string>();
  const up = [...(source.byCode.get(code)?.parents ?? [])];
  while (up.length) {
    const p = up.pop() as string;
    if (p === ancestor) return true;
    if (!seen.has(p)) {
      seen.add(p);
      up.push(...(source.byCode.get(p)?.parents ?? []));
    }
  }
  return false;
}

/** The code system an operation targets: the instance, or `system`/`url` (+ version). 404 with the reason otherwise. */
async function targetSystem(req: OperationRequest, resolver: Resolver, q: Queryable, system: string | undefined, version: string | undefined): Promise<CodeSystemSource> {
  if (req.id) return resolver.codeSystemById(q, req.id);
  if (!system) throw badRequest('Give the code system: "system" (or "url"), or call the operation on CodeSystem/[id]');
  const { source, versions } = await resolver.codeSystem(q, system, version);
  if (source) return source;
  throw notFound(unknownSystemMessage(system, version, versions));
}

export function unknownSystemMessage(system: string, version: string | undefined, versions: string[]): string {
  if (version && versions.length) return `CodeSystem ${system} has no version ${version} on this server (versions: ${versions.map((v) => v || '(none)').join(', ')})`;
  return `CodeSystem ${system} is not known to this server`;
}

function propertyParts(concept: StoredConcept, links: { parents: string[]; children: string[] }, wanted: Set<string>): ParametersParameter[] {
  const property = (code: string, value: ParametersParameter) => group('property', [out.code('code', code), { ...value, name: 'value' }]);
  const all: [string, ParametersParameter][] = [
    ['inactive', property('inactive', { name: 'value', valueBoolean: concept.inactive })],
    ...links.parents.map((p): [string, ParametersParameter] => ['parent', property('parent', { name: 'value', valueCode: p })]),
    ...links.children.map((c): [string, ParametersParameter] => ['child', property('child', { name: 'value', valueCode: c })]),
    ...(concept.properties ?? []).map(({ v: _text, code, ...value }): [string, ParametersParameter] => [code, property(code, { name: 'value', ...value })]),
  ];
  return all.filter(([code]) => !wanted.size || wanted.has(code)).map(([, part]) => part);
}

async function lookup(req: OperationRequest, resolver: Resolver): Promise<Parameters> {
  const q = req.tx ?? req.core.db;
  const [input] = codeInputs(req.params);
  const source = await targetSystem(req, resolver, q, input.system, input.version ?? req.params.string('version'));
  const concept = await conceptOf(q, source, input.code);
  const name = canonical(source.system.url, source.system.version);
  if (!concept) throw notFound(`Code "${input.code}" is not in CodeSystem ${name}`);
  const wanted = new Set(req.params.all('property').map(String));
  return parameters([
    out.string('name', source.system.title ?? source.system.name ?? source.system.url),
    out.string('version', source.system.version || undefined),
    out.string('display', concept.display),
    out.string('definition', concept.definition),
    ...(concept.designations ?? []).map((d) => group('designation', [out.code('language', d.language), out.coding('use', d.use), out.string('value', d.value)])),
    ...propertyParts(concept, await hierarchy(q, source, concept.code), wanted),
  ]);
}

async function subsumes(req: OperationRequest, resolver: Resolver): Promise<Parameters> {
  const q = req.tx ?? req.core.db;
  const [a] = codeInputs(req.params, { code: 'codeA', coding: 'codingA', system: 'system', version: 'version' });
  const [b] = codeInputs(req.params, { code: 'codeB', coding: 'codingB', system: 'system', version: 'version' });
  if (a.system && b.system && a.system !== b.system) throw badRequest(`codingA and codingB are in different code systems (${a.system}, ${b.system}): subsumption is tested within one`);
  const source = await targetSystem(req, resolver, q, a.system ?? b.system ?? req.params.string('system'), req.params.string('version') ?? a.version ?? b.version);
  const [conceptA, conceptB] = [await conceptOf(q, source, a.code), await conceptOf(q, source, b.code)];
  const name = canonical(source.system.url, source.system.version);
  for (const [input, concept] of [[a, conceptA], [b, conceptB]] as const) {
    if (!concept) throw notFound(`Code "${input.code}" is not in CodeSystem ${name}`);
  }
  const [codeA, codeB] = [conceptA!.code, conceptB!.code];
  let outcome = 'not-subsumed';
  if (codeA === codeB) outcome = 'equivalent';
  else if (await ancestorOf(q, source, codeA, codeB)) outcome = 'subsumes';
  else if (await ancestorOf(q, source, codeB, codeA)) outcome = 'subsumed-by';
  return parameters([out.code('outcome', outcome)]);
}

export function lookupOperations(resolver: Resolver): OperationDefinitionEntry[] {
  return [
    { name: 'lookup', levels: ['type', 'instance'], types: ['CodeSystem'], affectsState: false, summary: 'Details of a code: display, designations, properties, parents and children', handler: (req) => lookup(req, resolver) },
    { name: 'subsumes', levels: ['type', 'instance'], types: ['CodeSystem'], affectsState: false, summary: 'Whether codeA subsumes codeB in a code system hierarchy', handler: (req) => subsumes(req, resolver) },
  ];
}
