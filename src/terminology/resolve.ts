// Finds the definitions an operation names: stored resources first (CodeSystems through the index
// tables), then the read-only content the validator knows (FHIR R4 base and loaded packages).
import type { CodeSystem, CodeSystemConcept, ConceptMap, ValueSet } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import type { FhirCore } from '../fhir/core.ts';
import { FhirError } from '../fhir/outcome.ts';
import { flattenCodeSystem, type ConceptRow } from './concepts.ts';
import { compareVersions, indexConcepts, resolveSystem, systemByResourceId, type SystemVersion } from './store.ts';

/** A code system version the operations can read: indexed in the store, or in memory (built in). */
export type CodeSystemSource =
  | { kind: 'stored'; system: SystemVersion }
  | { kind: 'builtin'; system: SystemVersion; rows: ConceptRow[]; byCode: Map<string, ConceptRow> };

const builtinRows = new WeakMap<CodeSystem, Extract<CodeSystemSource, { kind: 'builtin' }>>();

/** Concepts kept outside a stored CodeSystem resource ("not-present"), indexed on first use. */
export interface ExternalConcepts {
  content: string;
  concepts(): Promise<CodeSystemConcept[]>;
}

export class Resolver {
  /** "url|version" → where its concepts come from, and the indexing under way. */
  private readonly external = new Map<string, { source: ExternalConcepts; indexing?: Promise<void> }>();

  constructor(private readonly core: FhirCore) {}

  /** Large national tables are indexed when first asked for, not at every first start (seconds of writes). */
  registerExternal(url: string, version: string, source: ExternalConcepts): void {
    this.external.set(`${url}|${version}`, { source });
  }

  /** The version asked (the newest when none); `versions` lists the versions known, for messages. */
  async codeSystem(q: Queryable, url: string, version?: string): Promise<{ source?: CodeSystemSource; versions: string[] }> {
    let stored = await resolveSystem(q, url, version);
    if (stored.system && (await this.indexExternal(q, stored.system))) stored = await resolveSystem(q, url, version);
    if (stored.system) return { source: { kind: 'stored', system: stored.system }, versions: stored.versions };
    const builtin = this.core.validator.terminology.definition('CodeSystem', url) as CodeSystem | undefined;
    const builtinVersion = builtin?.version ?? '';
    const versions = builtin && !stored.versions.includes(builtinVersion) ? [...stored.versions, builtinVersion] : stored.versions;
    if (!builtin || (version && version !== builtinVersion)) return { versions };
    return { source: builtinSource(builtin), versions };
  }

  async codeSystemById(q: Queryable, id: string): Promise<CodeSystemSource> {
    let system = await systemByResourceId(q, id);
    if (system && (await this.indexExternal(q, system))) system = await systemByResourceId(q, id);
    if (system) return { kind: 'stored', system };
    await this.core.read('CodeSystem', id, q); // 404 or 410 with the core's message
    throw new FhirError(422, `CodeSystem/${id} has no url, or is a supplement: it defines no codes to look up`, 'not-supported');
  }

  async valueSet(q: Queryable, url: string, version?: string): Promise<{ valueSet?: ValueSet; versions: string[] }> {
    const stored = await this.stored<ValueSet>(q, 'ValueSet', url);
    const builtin = this.core.validator.terminology.definition('ValueSet', url) as ValueSet | undefined;
    const all = builtin && !stored.some((v) => (v.version ?? '') === (builtin.version ?? '')) ? [...stored, builtin] : stored;
    return {
      valueSet: version ? all.find((v) => (v.version ?? '') === version) : all[0],
      versions: all.map((v) => v.version ?? ''),
    };
  }

  async conceptMaps(q: Queryable, query: Record<string, string>): Promise<ConceptMap[]> {
    const result = await this.core.search('ConceptMap', { ...query, _count: '100' }, {}, q);
    return result.matches.map((m) => JSON.parse(m.json) as ConceptMap);
  }

  async read<T>(q: Queryable, type: string, id: string): Promise<T> {
    return JSON.parse((await this.core.read(type, id, q)).json) as T;
  }

  /** Indexes the external concepts of a system not indexed yet; true when it did. */
  private async indexExternal(q: Queryable, system: SystemVersion): Promise<boolean> {
    const entry = this.external.get(`${system.url}|${system.version}`);
    if (!entry || system.conceptCount > 0) return false;
    const { url, version } = system;
    const index = async (tx: Queryable) => void (await indexConcepts(tx, url, version, entry.source.content, await entry.source.concepts()));
    // Inside a caller's transaction the rows are written there (a second transaction would wait for it).
    entry.indexing ??= (q === this.core.db ? this.core.db.transaction(index) : index(q)).finally(() => (entry.indexing = undefined));
    await entry.indexing;
    return true;
  }

  /** Stored resources with this url, newest version first. */
  private async stored<T extends { version?: string }>(q: Queryable, type: string, url: string): Promise<T[]> {
    const result = await this.core.search(type, { url, _count: '100' }, {}, q);
    return result.matches.map((m) => JSON.parse(m.json) as T).sort((a, b) => compareVersions(b.version ?? '', a.version ?? ''));
  }
}

function builtinSource(cs: CodeSystem): CodeSystemSource {
  let source = builtinRows.get(cs);
  if (!source) {
    const rows = flattenCodeSystem(cs);
    source = {
      kind: 'builtin',
      rows,
      byCode: new Map(rows.map((r) => [r.code, r])),
      system: {
        resourceId: '',
        url: cs.url as string,
        version: cs.version ?? '',
        name: cs.name,
        title: cs.title,
        status: cs.status,
        content: cs.content ?? 'complete',
        caseSensitive: cs.caseSensitive === true,
        conceptCount: rows.length,
        properties: cs.property ?? [],
      },
    };
    builtinRows.set(cs, source);
  }
  return source;
}
