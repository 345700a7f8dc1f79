// ConceptMap/$translate: the targets a code maps to, from one ConceptMap (instance or url) or from every
// stored ConceptMap whose groups start from the code's system (reverse: end at it).
import type { ConceptMap, ConceptMapGroup, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { OperationDefinitionEntry, OperationRequest } from '../fhir/operations.ts';
import { badRequest, notFound } from '../fhir/outcome.ts';
import { canonical, codeInputs, group, out, parameters, type CodeInput } from './parameters.ts';
import { compareVersions } from './store.ts';
import type { Resolver } from './resolve.ts';

/** Equivalences that are not a translation. */
const NO_MATCH = new Set(['unmatched', 'disjoint']);

interface Match {
  equivalence: string;
  system?: string;
  code?: string;
  display?: string;
  source: string;
}

async function conceptMaps(req: OperationRequest, resolver: Resolver, input: CodeInput, reverse: boolean): Promise<ConceptMap[]> {
  const q = req.tx ?? req.core.db;
  if (req.id) return [await resolver.read<ConceptMap>(q, 'ConceptMap', req.id)];
  const url = req.params.string('url');
  if (url) {
    const version = req.params.string('conceptMapVersion');
    const maps = (await resolver.conceptMaps(q, { url })).sort((a, b) => compareVersions(b.version ?? '', a.version ?? ''));
    const map = version ? maps.find((m) => m.version === version) : maps[0];
    if (!map) throw notFound(version && maps.length ? `ConceptMap ${url} has no version ${version} (versions: ${maps.map((m) => m.version).join(', ')})` : `ConceptMap ${url} is not known to this server`);
    return [map];
  }
  if (!input.system) throw badRequest('Give "url" (the ConceptMap), or the "system" of the code so the ConceptMaps that start from it are used');
  return resolver.conceptMaps(q, { [reverse ? 'target-system' : 'source-system']: input.system });
}

function matchesIn(map: ConceptMap, grp: ConceptMapGroup, input: CodeInput, reverse: boolean): Match[] {
  const source = canonical(map.url ?? `ConceptMap/${map.id}`, map.version);
  const matches: Match[] = [];
  for (const element of grp.element ?? []) {
    for (const target of element.target ?? []) {
      const [from, to] = reverse ? [target.code, element.code] : [element.code, target.code];
      if (from !== input.code) continue;
      const display = reverse ? element.display : target.display;
      matches.push({ equivalence: target.equivalence ?? 'equivalent', system: reverse ? grp.source : grp.target, code: to, display, source });
    }
  }
  const unmapped = grp.unmapped;
  const listed = (grp.element ?? []).some((e) => (reverse ? e.target?.some((t) => t.code === input.code) : e.code === input.code));
  if (!matches.length && !listed && unmapped && !reverse) {
    if (unmapped.mode === 'provided') matches.push({ equivalence: 'equal', system: grp.target, code: input.code, source });
    if (unmapped.mode === 'fixed' && unmapped.code) matches.push({ equivalence: 'equivalent', system: grp.target, code: unmapped.code, display: unmapped.display, source });
  }
  return matches;
}

async function translate(req: OperationRequest, resolver: Resolver): Promise<Parameters> {
  const reverse = req.params.boolean('reverse') === true;
  const [input] = codeInputs(req.params);
  const targetSystem = req.params.string('targetsystem');
  const matches: Match[] = [];
  for (const map of await conceptMaps(req, resolver, input, reverse)) {
    for (const grp of map.group ?? []) {
      const [from, to] = reverse ? [grp.target, grp.source] : [grp.source, grp.target];
      if (input.system && from && from !== input.system) continue;
      if (targetSystem && to !== targetSystem) continue;
      matches.push(...matchesIn(map, grp, input, reverse));
    }
  }
  const result = matches.some((m) => !NO_MATCH.has(m.equivalence));
  const what = `${input.system ? `${input.system}|` : ''}${input.code}`;
  return parameters([
    out.boolean('result', result),
    out.string('message', result ? undefined : `No translation for ${what}${targetSystem ? ` into ${targetSystem}` : ''}${matches.length ? ' (only unmatched or disjoint entries)' : ''}.`),
    ...matches.map(
      (m): ParametersParameter =>
        group('match', [out.code('equivalence', m.equivalence), m.code ? { name: 'concept', valueCoding: { system: m.system, code: m.code, display: m.display } } : undefined, out.uri('source', m.source)]),
    ),
  ]);
}

export function translateOperation(resolver: Resolver): OperationDefinitionEntry {
  return {
    name: 'translate',
    levels: ['type', 'instance'],
    types: ['ConceptMap'],
    affectsState: false,
    summary: 'Translate a code through a ConceptMap (or every ConceptMap starting from its system)',
    handler: (req) => translate(req, resolver),
  };
}
