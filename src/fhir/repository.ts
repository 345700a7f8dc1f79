// The resource store: current and history rows, search index rows and the change log, always
// written together in the caller's transaction.
import { randomUUID } from 'node:crypto';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import { compartmentKey } from './compartment.ts';
import { stringifyFhir } from './json.ts';
import { isStoredResourceType } from './definitions.ts';
import { badRequest, FhirError, gone, notFound, preconditionFailed } from './outcome.ts';
import { currentTable, historyTable } from './schema.ts';
import { deleteIndexSql, insertIndexSql, insertManyIndexSql } from './search/index-store.ts';
import { Sql, withSteps } from './search/sql.ts';
import { extractIndexRows } from './search/indexer.ts';

export interface StoredResource {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  deleted: boolean;
  /** The patient the resource belongs to (patient compartment), if any. */
  compartment: string | null;
  /** The resource as served, JSON text. */
  json: string;
}

export type WriteMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface WriteResult {
  stored: StoredResource;
  /** True when the write created the resource (201). */
  created: boolean;
  /** What validation noted without refusing (a code outside an extensible binding, an unknown profile). */
  warnings?: OperationOutcomeIssue[];
}

export const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

export function assertType(type: string): void {
  if (!isStoredResourceType(type)) throw notFound(`Unknown resource type "${type}"`);
}

export function assertId(id: string): void {
  if (!ID_RE.test(id)) throw badRequest(`Invalid id "${id}": 1 to 64 characters among A-Z a-z 0-9 - .`);
}

interface Row {
  id: string;
  version_id: number;
  last_updated: Date;
  deleted: boolean;
  compartment: string | null;
  content: string;
}

const toStored = (type: string, r: Row): StoredResource => ({
  resourceType: type,
  id: r.id,
  versionId: r.version_id,
  lastUpdated: r.last_updated.toISOString(),
  deleted: r.deleted,
  compartment: r.compartment,
  json: r.content,
});

export async function readCurrent(tx: Queryable, type: string, id: string, lock = false): Promise<StoredResource | undefined> {
  const { rows } = await tx.query<Row>(
    `SELECT id, version_id, last_updated, deleted, compartment, content FROM ${currentTable(type)} WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] && toStored(type, rows[0]);
}

/** read: 404 when unknown, 410 when deleted. lock: hold the row until the transaction ends. */
export async function readResource(tx: Queryable, type: string, id: string, lock = false): Promise<StoredResource> {
  assertType(type);
  const stored = ID_RE.test(id) ? await readCurrent(tx, type, id, lock) : undefined;
  if (!stored) throw notFound(`${type}/${id} is not known`);
  if (stored.deleted) {
    throw new FhirError(410, `${type}/${id} was deleted`, 'deleted', { ETag: `W/"${stored.versionId}"` });
  }
  return stored;
}

export async function readVersion(tx: Queryable, type: string, id: string, versionId: string): Promise<StoredResource> {
  assertType(type);
  const vid = Number(versionId);
  if (!Number.isInteger(vid) || vid < 1 || vid > 2 ** 31 - 1 || !ID_RE.test(id)) throw notFound(`${type}/${id}/_history/${versionId} is not known`);
  const { rows } = await tx.query<Row>(
    `SELECT id, version_id, last_updated, deleted, compartment, content FROM ${historyTable(type)} WHERE id = $1 AND version_id = $2`,
    [id, vid],
  );
  if (!rows[0]) throw notFound(`${type}/${id}/_history/${versionId} is not known`);
  if (rows[0].deleted) throw gone(`${type}/${id}/_history/${versionId} is the deletion of the resource`);
  return toStored(type, rows[0]);
}

/**
 * Writes a new version of a resource (create when absent). ifMatch is the expected current version.
 * The caller has validated the resource; this stamps meta and writes rows, index and change log.
 */
export async function writeResource(
  tx: Queryable,
  resource: Resource,
  options: {
    method: WriteMethod;
    ifMatch?: number;
    allowCreate?: boolean;
    mustBeNew?: boolean;
    /** false: leave it out of the change log (the platform's own audit trail, which would drown the history). */
    changeLog?: boolean;
  } = { method: 'POST' },
): Promise<WriteResult> {
  const type = resource.resourceType;
  assertType(type);
  const id = resource.id ?? randomUUID();
  assertId(id);
  const current = options.mustBeNew ? undefined : await readCurrent(tx, type, id, true);
  if (options.ifMatch !== undefined && current?.versionId !== options.ifMatch) {
    throw preconditionFailed(
      current
        ? `Version conflict on ${type}/${id}: If-Match expects version ${options.ifMatch}, current version is ${current.versionId}`
        : `Version conflict: ${type}/${id} does not exist, If-Match expects version ${options.ifMatch}`,
    );
  }
  if (!current && options.allowCreate === false) {
    throw new FhirError(405, `${type}/${id} does not exist and this server does not create resources on update (use POST)`, 'not-supported');
  }
  const versionId = (current?.versionId ?? 0) + 1;
  const lastUpdated = new Date();
  const meta = { ...resource.meta, versionId: String(versionId), lastUpdated: lastUpdated.toISOString() };
  const stamped = { ...resource, id, meta } as Resource;
  const json = stringifyFhir(reorder(stamped));
  const rows = extractIndexRows(stamped);
  const compartment = compartmentKey(type, id, rows);

  // One statement: the current row, its index rows, history and change log (data-modifying CTEs).
  const sql = new Sql();
  const [pId, pVersion, pAt, pCompartment, pJson] = [id, versionId, lastUpdated.toISOString(), compartment, json].map((v) => sql.p(v));
  const steps = [
    ...(current ? deleteIndexSql(sql, type, id) : []),
    ...insertIndexSql(sql, type, id, rows),
    ...logSql(sql, type, pId, pVersion, pAt, 'false', pCompartment, options.method, pJson, options.changeLog ?? true),
  ];
  const main = current
    ? `UPDATE ${currentTable(type)} SET version_id = ${pVersion}, last_updated = ${pAt}, deleted = false, compartment = ${pCompartment}, content = ${pJson} WHERE id = ${pId}`
    : `INSERT INTO ${currentTable(type)} (id, version_id, last_updated, deleted, compartment, content) VALUES (${pId}, ${pVersion}, ${pAt}, false, ${pCompartment}, ${pJson})`;
  await tx.query(withSteps(steps, main), sql.params);
  const stored = { resourceType: type, id, versionId, lastUpdated: lastUpdated.toISOString(), deleted: false, compartment, json };
  return { stored, created: !current || current.deleted };
}

/**
 * Bulk loads: new resources of one type (ids chosen by the caller or generated) in one statement, with
 * their index rows, history and change log. Fails as a whole if one id exists already. No validation,
 * no write hooks: for importers and benchmarks that validated their input and trace the load themselves.
 */
export async function createResources(tx: Queryable, resources: Resource[], options: { changeLog?: boolean } = {}): Promise<StoredResource[]> {
  if (resources.length === 0) return [];
  const type = resources[0].resourceType;
  assertType(type);
  const at = new Date().toISOString();
  const stored = resources.map((resource) => {
    if (resource.resourceType !== type) throw badRequest(`A bulk load holds one resource type: ${resource.resourceType} among ${type}`);
    const id = resource.id ?? randomUUID();
    assertId(id);
    const stamped = { ...resource, id, meta: { ...resource.meta, versionId: '1', lastUpdated: at } } as Resource;
    const rows = extractIndexRows(stamped);
    return { id, rows, compartment: compartmentKey(type, id, rows), json: stringifyFhir(reorder(stamped)) };
  });
  const sql = new Sql();
  const [ids, compartments, contents] = [stored.map((r) => r.id), stored.map((r) => r.compartment), stored.map((r) => r.json)].map((v) => sql.p(v));
  const pAt = sql.p(at);
  const rows = `unnest(${ids}::text[], ${compartments}::text[], ${contents}::text[]) AS r(id, compartment, content)`;
  const steps = [
    ...insertManyIndexSql(sql, type, stored),
    `INSERT INTO ${historyTable(type)} (id, version_id, last_updated, deleted, compartment, method, content) SELECT id, 1, ${pAt}, false, compartment, 'POST', content FROM ${rows}`,
    ...(options.changeLog === false ? [] : [`INSERT INTO resource_change (resource_type, id, version_id, last_updated, method) SELECT ${sql.p(type)}, id, 1, ${pAt}, 'POST' FROM ${rows}`]),
  ];
  await tx.query(withSteps(steps, `INSERT INTO ${currentTable(type)} (id, version_id, last_updated, deleted, compartment, content) SELECT id, 1, ${pAt}, false, compartment, content FROM ${rows}`), sql.params);
  return stored.map((r) => ({ resourceType: type, id: r.id, versionId: 1, lastUpdated: at, deleted: false, compartment: r.compartment, json: r.json }));
}

/** Deletes a resource: a new, deleted version; its index rows go, its history stays. */
export async function deleteResource(tx: Queryable, type: string, id: string, ifMatch?: number): Promise<StoredResource | undefined> {
  assertType(type);
  assertId(id);
  const current = await readCurrent(tx, type, id, true);
  if (ifMatch !== undefined && current?.versionId !== ifMatch) {
    throw preconditionFailed(`Version conflict on ${type}/${id}: If-Match expects version ${ifMatch}, current version is ${current?.versionId ?? 'none'}`);
  }
  if (!current || current.deleted) return current;
  const versionId = current.versionId + 1;
  const lastUpdated = new Date();
  const sql = new Sql();
  const [pId, pVersion, pAt, pJson] = [id, versionId, lastUpdated.toISOString(), current.json].map((v) => sql.p(v));
  // The deletion version keeps the last content so that history readers can show what was removed.
  const steps = [...deleteIndexSql(sql, type, id), ...logSql(sql, type, pId, pVersion, pAt, 'true', 'NULL', 'DELETE', pJson)];
  await tx.query(withSteps(steps, `UPDATE ${currentTable(type)} SET version_id = ${pVersion}, last_updated = ${pAt}, deleted = true WHERE id = ${pId}`), sql.params);
  return { ...current, versionId, lastUpdated: lastUpdated.toISOString(), deleted: true };
}

/** The history row and the change-log row of a new version, as CTE bodies. */
function logSql(sql: Sql, type: string, pId: string, pVersion: string, pAt: string, deleted: string, pCompartment: string, method: WriteMethod, pJson: string, changeLog = true): string[] {
  const pMethod = sql.p(method);
  const history = `INSERT INTO ${historyTable(type)} (id, version_id, last_updated, deleted, compartment, method, content) VALUES (${pId}, ${pVersion}, ${pAt}, ${deleted}, ${pCompartment}, ${pMethod}, ${pJson})`;
  if (!changeLog) return [history];
  return [history, `INSERT INTO resource_change (resource_type, id, version_id, last_updated, method) VALUES (${sql.p(type)}, ${pId}, ${pVersion}, ${pAt}, ${pMethod})`];
}

/** resourceType, id and meta first, as FHIR examples are written. */
function reorder(resource: Resource): Resource {
  const { resourceType, id, meta, ...rest } = resource as any;
  return { resourceType, id, meta, ...rest };
}
