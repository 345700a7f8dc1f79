// The terminology module: CodeSystem/ValueSet/ConceptMap operations over the store, the concept index
// kept in step with CodeSystem writes, the French nomenclatures loaded on first start, and the
// validator fed with every stored code system and value set so that bindings to them are checked.
import { fileURLToPath } from 'node:url';
import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import type { FhirCore } from '../fhir/core.ts';
import { currentTable } from '../fhir/schema.ts';
import type { Logger } from '../log.ts';
import { COMMUNE_SYSTEM, communeConcepts, COMMUNES_VERSION, communesCodeSystem } from './communes.ts';
import { expandOperation } from './expand.ts';
import { loadTerminology, readTerminologySource } from './loader.ts';
import { lookupOperations } from './lookup.ts';
import { Resolver } from './resolve.ts';
import { codesOf, compareVersions, indexCodeSystem, systemVersions } from './store.ts';
import { translateOperation } from './translate.ts';
import { validateCodeOperations } from './validate-code.ts';

const NOMENCLATURES_DIR = fileURLToPath(new URL('../../data/terminologies', import.meta.url));
const COMMUNES_CSV = fileURLToPath(new URL('../../data/referentiels/communes.csv', import.meta.url));

export async function registerTerminology(core: FhirCore, log?: Logger): Promise<void> {
  const resolver = new Resolver(core);
  const feed = new ValidatorFeed(core);
  core.onWrite(async (tx, stored) => {
    if (stored.resourceType === 'CodeSystem') {
      const cs = JSON.parse(stored.json);
      const codes = await indexCodeSystem(tx, stored.id, stored.deleted ? undefined : cs);
      if (stored.deleted) await feed.refreshCodeSystem(tx, cs.url);
      else if (codes) feed.codeSystem(cs.url, cs.version ?? '', cs.content ?? 'complete', codes);
    } else if (stored.resourceType === 'ValueSet') {
      const vs = JSON.parse(stored.json) as ValueSet;
      if (stored.deleted) await feed.refreshValueSet(tx, vs.url);
      else feed.valueSet(vs);
    }
  });
  for (const op of [...lookupOperations(resolver), ...validateCodeOperations(resolver), expandOperation(resolver), translateOperation(resolver)]) {
    core.operations.register(op);
  }
  resolver.registerExternal(COMMUNE_SYSTEM, COMMUNES_VERSION, { content: 'fragment', concepts: () => communeConcepts(COMMUNES_CSV) });
  // SOCLE_NOMENCLATURES=false starts without them (a store that must hold only what its operator loads).
  if (process.env.SOCLE_NOMENCLATURES !== 'false') await loadNomenclatures(core, log);
  await feed.everything(core.db);
}

/** The shipped nomenclatures; the communes' concepts come from their file when first asked for. */
async function loadNomenclatures(core: FhirCore, log?: Logger): Promise<void> {
  const started = Date.now();
  const resources = [...(await readTerminologySource(NOMENCLATURES_DIR)), await communesCodeSystem(COMMUNES_CSV)];
  const report = await loadTerminology(core, resources);
  for (const error of report.errors) log?.error({ error }, 'nomenclature not loaded');
  log?.info({ created: report.created, updated: report.updated, unchanged: report.unchanged, ms: Date.now() - started }, 'French nomenclatures');
}

/**
 * Keeps the validator's in-memory terminology in step with the store: the newest version of each
 * stored ValueSet, and each stored CodeSystem as a set of codes (a compact index, not the JSON).
 * Fed from inside the writing transaction, before it commits.
 */
class ValidatorFeed {
  /** url → version given to the validator, so that an older version written later does not replace a newer one. */
  private readonly fed = new Map<string, string>();

  constructor(private readonly core: FhirCore) {}

  private newer(key: string, version: string): boolean {
    const current = this.fed.get(key);
    if (current !== undefined && compareVersions(version, current) < 0) return false;
    this.fed.set(key, version);
    return true;
  }

  /** Only complete code systems: the validator checks no binding against a partial one. */
  codeSystem(url: string, version: string, content: string, codes: ReadonlySet<string>): void {
    if (content !== 'complete') {
      if (this.fed.has(`CodeSystem ${url}`)) this.forget('CodeSystem', url);
      return;
    }
    const summary = { resourceType: 'CodeSystem', url, version, content } as CodeSystem;
    if (this.newer(`CodeSystem ${url}`, version)) this.core.validator.terminology.add(summary, codes);
  }

  valueSet(vs: ValueSet): void {
    if (vs.url && this.newer(`ValueSet ${vs.url}`, vs.version ?? '')) this.core.validator.terminology.add(vs);
  }

  /** After a deletion: the newest version left, or nothing. */
  async refreshCodeSystem(q: Queryable, url: string | undefined): Promise<void> {
    if (!url) return;
    this.forget('CodeSystem', url);
    const [newest] = await systemVersions(q, url);
    if (newest) this.codeSystem(url, newest.version, newest.content, await codesOf(q, url, newest.version));
  }

  async refreshValueSet(q: Queryable, url: string | undefined): Promise<void> {
    if (!url) return;
    this.forget('ValueSet', url);
    const { matches } = await this.core.search('ValueSet', { url, _count: '100' }, {}, q);
    for (const m of matches) this.valueSet(JSON.parse(m.json) as ValueSet);
  }

  private forget(type: string, url: string): void {
    this.fed.delete(`${type} ${url}`);
    this.core.validator.terminology.remove(type, url);
  }

  /** At start: every stored code system version and value set. */
  async everything(q: Queryable): Promise<void> {
    const { rows } = await q.query<{ url: string; version: string; content: string }>(
      "SELECT url, version, content FROM terminology_code_system WHERE content = 'complete'",
    );
    for (const s of rows) this.codeSystem(s.url, s.version, s.content, await codesOf(q, s.url, s.version));
    for (const vs of await storedValueSets(q)) this.valueSet(vs);
  }
}

/** Every stored ValueSet, read from its table in one pass (a search would page). */
async function storedValueSets(q: Queryable): Promise<ValueSet[]> {
  const { rows } = await q.query<{ content: string }>(`SELECT content FROM ${currentTable('ValueSet')} WHERE NOT deleted`);
  return rows.map((r) => JSON.parse(r.content) as ValueSet);
}
