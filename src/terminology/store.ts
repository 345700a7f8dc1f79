// The terminology index tables (migration 003): written from CodeSystem resources in their writing
// transaction, read by the operations. A code system version is the pair (url, version); a CodeSystem
// without version is stored with version ''.
import type { CodeSystem, CodeSystemConcept, CodeSystemConceptDesignation, CodeSystemProperty } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import { FhirError } from '../fhir/outcome.ts';
import { flattenCodeSystem, type ConceptRow, type StoredProperty } from './concepts.ts';

export interface SystemVersion {
  resourceId: string;
  url: string;
  version: string;
  name?: string;
  title?: string;
  status?: string;
  content: string;
  caseSensitive: boolean;
  conceptCount: number;
  properties: CodeSystemProperty[];
}

export interface StoredConcept {
  code: string;
  display?: string;
  definition?: string;
  inactive: boolean;
  designations?: CodeSystemConceptDesignation[];
  properties?: StoredProperty[];
}

/** Rows per INSERT: arrays keep it to a handful of parameters whatever the size. */
const BATCH = 5000;
const ANALYZE_AFTER = 1000;

/**
 * Replaces the index rows of CodeSystem/{resourceId} with those of `cs` (none when deleted, without url
 * or a supplement); returns the codes indexed. A CodeSystem whose content is "not-present" keeps the
 * concepts indexed for its url and version from another source (see indexConcepts).
 */
export async function indexCodeSystem(tx: Queryable, resourceId: string, cs: CodeSystem | undefined): Promise<Set<string> | undefined> {
  const { rows: previous } = await tx.query<{ url: string; version: string }>(
    'DELETE FROM terminology_code_system WHERE resource_id = $1 RETURNING url, version',
    [resourceId],
  );
  const version = cs?.version ?? '';
  const keep = cs?.content === 'not-present' && previous.some((p) => p.url === cs.url && p.version === version);
  if (!keep) for (const p of previous) await removeConcepts(tx, p.url, p.version);
  if (!cs?.url || cs.content === 'supplement') return undefined;
  const { rows: taken } = await tx.query<{ resource_id: string }>(
    'SELECT resource_id FROM terminology_code_system WHERE url = $1 AND version = $2',
    [cs.url, version],
  );
  if (taken.length) {
    const label = version ? `${cs.url}|${version}` : `${cs.url} (without version)`;
    throw new FhirError(422, `CodeSystem/${taken[0].resource_id} already defines ${label}: give this one another version, or update that resource`, 'duplicate');
  }
  await tx.query(
    `INSERT INTO terminology_code_system (resource_id, url, version, name, title, status, content, case_sensitive, concept_count, properties)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)`,
    [resourceId, cs.url, version, cs.name ?? null, cs.title ?? null, cs.status ?? null, cs.content ?? 'complete', cs.caseSensitive === true, JSON.stringify(cs.property ?? [])],
  );
  if (keep) return codesOf(tx, cs.url, version);
  return insertConcepts(tx, cs.url, version, flattenCodeSystem(cs));
}

/**
 * Indexes concepts kept outside the CodeSystem resource (whose content is "not-present"), e.g. a
 * national table generated from a file: replaces the concepts of url|version, records `content`.
 */
export async function indexConcepts(tx: Queryable, url: string, version: string, content: string, concepts: CodeSystemConcept[]): Promise<Set<string>> {
  await removeConcepts(tx, url, version);
  await tx.query('UPDATE terminology_code_system SET content = $3 WHERE url = $1 AND version = $2', [url, version, content]);
  return insertConcepts(tx, url, version, flattenCodeSystem({ resourceType: 'CodeSystem', status: 'active', content: 'complete', concept: concepts }));
}

async function insertConcepts(tx: Queryable, url: string, version: string, concepts: ConceptRow[]): Promise<Set<string>> {
  for (let i = 0; i < concepts.length; i += BATCH) {
    const batch = concepts.slice(i, i + BATCH);
    await tx.query(
      `INSERT INTO terminology_concept (system, version, code, seq, display, definition, inactive, search, designations, properties)
       SELECT $1, $2, * FROM unnest($3::text[], $4::int[], $5::text[], $6::text[], $7::boolean[], $8::text[], $9::jsonb[], $10::jsonb[])`,
      [
        url,
        version,
        batch.map((c) => c.code),
        batch.map((_, j) => i + j),
        batch.map((c) => c.display ?? null),
        batch.map((c) => c.definition ?? null),
        batch.map((c) => c.inactive),
        batch.map((c) => c.search),
        batch.map((c) => (c.designations ? JSON.stringify(c.designations) : null)),
        batch.map((c) => (c.properties ? JSON.stringify(c.properties) : null)),
      ],
    );
    const links = batch.flatMap((c) => c.parents.map((p) => [c.code, p]));
    if (links.length) {
      await tx.query(
        `INSERT INTO terminology_concept_parent (system, version, code, parent)
         SELECT $1, $2, * FROM unnest($3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
        [url, version, links.map((l) => l[0]), links.map((l) => l[1])],
      );
    }
  }
  await tx.query('UPDATE terminology_code_system SET concept_count = $3 WHERE url = $1 AND version = $2', [url, version, concepts.length]);
  // Fresh statistics after a large load, or the planner keeps the plans of an almost empty table (an index on
  // (system, version) scanned in full to find one code). PGlite has no autovacuum to do it later.
  if (concepts.length >= ANALYZE_AFTER) await tx.query('ANALYZE terminology_concept');
  return new Set(concepts.map((c) => c.code));
}

async function removeConcepts(tx: Queryable, url: string, version: string): Promise<void> {
  await tx.query('DELETE FROM terminology_concept WHERE system = $1 AND version = $2', [url, version]);
  await tx.query('DELETE FROM terminology_concept_parent WHERE system = $1 AND version = $2', [url, version]);
}

export async function codesOf(q: Queryable, url: string, version: string): Promise<Set<string>> {
  const { rows } = await q.query<{ code: string }>('SELECT code FROM terminology_concept WHERE system = $1 AND version = $2', [url, version]);
  return new Set(rows.map((r) => r.code));
}

interface SystemRow {
  resource_id: string;
  url: string;
  version: string;
  name: string | null;
  title: string | null;
  status: string | null;
  content: string;
  case_sensitive: boolean;
  concept_count: number;
  properties: CodeSystemProperty[] | string;
}

const toSystem = (r: SystemRow): SystemVersion => ({
  resourceId: r.resource_id,
  url: r.url,
  version: r.version,
  name: r.name ?? undefined,
  title: r.title ?? undefined,
  status: r.status ?? undefined,
  content: r.content,
  caseSensitive: r.case_sensitive,
  conceptCount: r.concept_count,
  properties: typeof r.properties === 'string' ? JSON.parse(r.properties) : r.properties,
});

/** Every stored version of a code system, newest first. */
export async function systemVersions(q: Queryable, url: string): Promise<SystemVersion[]> {
  const { rows } = await q.query<SystemRow>('SELECT * FROM terminology_code_system WHERE url = $1', [url]);
  return rows.map(toSystem).sort((a, b) => compareVersions(b.version, a.version));
}

export async function systemByResourceId(q: Queryable, resourceId: string): Promise<SystemVersion | undefined> {
  const { rows } = await q.query<SystemRow>('SELECT * FROM terminology_code_system WHERE resource_id = $1', [resourceId]);
  return rows[0] && toSystem(rows[0]);
}

/** The requested version, or the newest when none is asked; `versions` lists what exists, for messages. */
export async function resolveSystem(q: Queryable, url: string, version?: string): Promise<{ system?: SystemVersion; versions: string[] }> {
  const all = await systemVersions(q, url);
  const versions = all.map((s) => s.version);
  return { system: version ? all.find((s) => s.version === version) : all[0], versions };
}

interface ConceptDbRow {
  code: string;
  display: string | null;
  definition: string | null;
  inactive: boolean;
  designations: CodeSystemConceptDesignation[] | string | null;
  properties: StoredProperty[] | string | null;
}

const json = <T>(v: T | string | null): T | undefined => (v === null ? undefined : typeof v === 'string' ? (JSON.parse(v) as T) : v);

/** The concept, matched exactly, or ignoring case when the code system is not case-sensitive. */
export async function findConcept(q: Queryable, system: SystemVersion, code: string): Promise<StoredConcept | undefined> {
  const select = 'SELECT code, display, definition, inactive, designations, properties FROM terminology_concept WHERE system = $1 AND version = $2';
  let { rows } = await q.query<ConceptDbRow>(`${select} AND code = $3`, [system.url, system.version, code]);
  if (!rows.length && !system.caseSensitive) {
    ({ rows } = await q.query<ConceptDbRow>(`${select} AND lower(code) = lower($3) LIMIT 1`, [system.url, system.version, code]));
  }
  const r = rows[0];
  return (
    r && {
      code: r.code,
      display: r.display ?? undefined,
      definition: r.definition ?? undefined,
      inactive: r.inactive,
      designations: json(r.designations),
      properties: json(r.properties),
    }
  );
}

export async function parentsOf(q: Queryable, system: SystemVersion, code: string): Promise<string[]> {
  const { rows } = await q.query<{ parent: string }>(
    'SELECT parent FROM terminology_concept_parent WHERE system = $1 AND version = $2 AND code = $3 ORDER BY parent',
    [system.url, system.version, code],
  );
  return rows.map((r) => r.parent);
}

export async function childrenOf(q: Queryable, system: SystemVersion, code: string): Promise<string[]> {
  const { rows } = await q.query<{ code: string }>(
    'SELECT code FROM terminology_concept_parent WHERE system = $1 AND version = $2 AND parent = $3 ORDER BY code',
    [system.url, system.version, code],
  );
  return rows.map((r) => r.code);
}

/** Whether `ancestor` is a proper ancestor of `code` (walks up the hierarchy, cycles tolerated). */
export async function isAncestor(q: Queryable, system: SystemVersion, ancestor: string, code: string): Promise<boolean> {
  const { rows } = await q.query(
    `WITH RECURSIVE up(code) AS (
       SELECT parent FROM terminology_concept_parent WHERE system = $1 AND version = $2 AND code = $3
       UNION
       SELECT p.parent FROM terminology_concept_parent p JOIN up ON p.code = up.code WHERE p.system = $1 AND p.version = $2
     ) SELECT 1 FROM up WHERE code = $4 LIMIT 1`,
    [system.url, system.version, code, ancestor],
  );
  return rows.length > 0;
}

/** Orders versions numerically where they are numbers ("1.10.0" after "1.9.0"), as text otherwise. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.\-+]/);
  const pb = b.split(/[.\-+]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const [x, y] = [pa[i] ?? '', pb[i] ?? ''];
    const diff = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x.localeCompare(y);
    if (diff) return diff;
  }
  return 0;
}
