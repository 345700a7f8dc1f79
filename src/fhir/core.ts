// The FHIR core: every interaction of the REST API as a function over the store, so that the REST
// routes, Bundle processing and the national modules share one implementation of the rules.
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import jsonpatch, { type Operation } from 'fast-json-patch';
import type { Config } from '../config.ts';
import type { Database, Queryable } from '../db/index.ts';
import type { Logger } from '../log.ts';
import { loadBaseDefinitions } from './definitions.ts';
import { parseFhirJson, stringifyFhir } from './json.ts';
import { badRequest, FhirError, preconditionFailed } from './outcome.ts';
import {
  assertId,
  assertType,
  createResources,
  deleteResource,
  readResource,
  readVersion,
  writeResource,
  type StoredResource,
  type WriteResult,
} from './repository.ts';
import { OperationRegistry } from './operations.ts';
import { reindexOperation } from './reindex.ts';
import { ensureResourceTables } from './schema.ts';
import { activateSearchParameter, assertUsable, corrected, registerStoredSearchParameters } from './search/custom.ts';
import { search, type QueryParams, type SearchResult } from './search/engine.ts';
import { Validator, type StructuralPasses } from './validation/index.ts';
import { ValidationPool } from './validation/pool.ts';

/** Called in the writing transaction: a failure rolls the write back. Deletions come with deleted = true. */
export type WriteHook = (tx: Queryable, stored: StoredResource) => Promise<void>;
/** A hook's way with a bulk load (createMany): once for the batch, e.g. one AuditEvent naming every resource. */
export type BatchWriteHook = (tx: Queryable, stored: StoredResource[]) => Promise<void>;

/** Rewrites a resource leaving the platform, e.g. to withhold an identifier the client may not see. */
export type OutputFilter = (resource: Resource) => Resource;

export interface FhirCore {
  readonly db: Database;
  readonly config: Config;
  readonly validator: Validator;
  readonly operations: OperationRegistry;
  /** Runs hook inside the transaction of every write (create, update, patch, delete) after the rows are written. */
  onWrite(hook: WriteHook, batch?: BatchWriteHook): void;
  /**
   * Adds a filter applied to every resource of a type on its way out (read, search, history, write responses).
   * `applies`, a cheap test of the stored text, spares the parsing of the resources the filter leaves alone.
   */
  addOutputFilter(type: string, filter: OutputFilter, applies?: (json: string) => boolean): void;
  /** The JSON a client receives for a stored resource, output filters applied. */
  present(type: string, json: string): string;
  read(type: string, id: string, tx?: Queryable): Promise<StoredResource>;
  vread(type: string, id: string, versionId: string, tx?: Queryable): Promise<StoredResource>;
  /** assignedId: the id a transaction chose for a urn:uuid entry (clients' ids are ignored). */
  create(resource: unknown, options?: { ifNoneExist?: string; type?: string; assignedId?: string }, tx?: Queryable): Promise<WriteResult>;
  /** Bulk load: new resources of one type (their ids kept), each validated, written in one statement, hooks run per batch when they can. */
  createMany(resources: Resource[], tx: Queryable): Promise<StoredResource[]>;
  /**
   * Starts the structural validation of resources a later createMany will write, on the validation threads:
   * an importer maps and checks its next batch while the current one is written. The resources must not
   * change in between (createMany finds them by identity).
   */
  prevalidate(resources: Resource[]): void;
  /** Stops the validation threads. */
  close(): Promise<void>;
  update(type: string, id: string, resource: unknown, options?: { ifMatch?: number }, tx?: Queryable): Promise<WriteResult>;
  conditionalUpdate(type: string, query: QueryParams, resource: unknown, tx?: Queryable): Promise<WriteResult>;
  patch(type: string, id: string, operations: unknown, options?: { ifMatch?: number }, tx?: Queryable): Promise<WriteResult>;
  delete(type: string, id: string, options?: { ifMatch?: number }, tx?: Queryable): Promise<StoredResource | undefined>;
  conditionalDelete(type: string, query: QueryParams, tx?: Queryable): Promise<number>;
  /** Several types: a system search (_type). */
  search(type: string | string[], query: QueryParams, options?: { strict?: boolean; compartment?: string }, tx?: Queryable): Promise<SearchResult>;
  /** Ids of the resources matching a conditional query ("identifier=x|y"). */
  matchIds(type: string, query: QueryParams, tx?: Queryable): Promise<string[]>;
  /** Refuses an invalid resource (400, or 422 against a profile); returns what it noted without refusing. */
  validate(resource: Resource): OperationOutcomeIssue[];
}

export async function createFhirCore(db: Database, config: Config, log: Logger): Promise<FhirCore> {
  loadBaseDefinitions();
  const validator = await Validator.create(config.fhirPackages);
  const pool = config.validationThreads > 0 ? new ValidationPool(config.fhirPackages, config.validationThreads) : undefined;
  /** Passes started by prevalidate, until createMany takes them. */
  const pending = new WeakMap<Resource, Promise<StructuralPasses>>();
  for (const p of validator.packages) {
    for (const sp of p.searchParameters) activateSearchParameter(corrected(sp));
    log.info({ package: p.name, version: p.version, profiles: p.profiles.length, searchParameters: p.searchParameters.length }, 'FHIR package loaded');
  }
  for (const note of validator.notes) log.debug({ note }, 'FHIR package note');
  await ensureResourceTables(db);

  const inTx = <T>(tx: Queryable | undefined, fn: (q: Queryable) => Promise<T>) => (tx ? fn(tx) : db.transaction(fn));
  const searchOptions = (strict = false) => ({
    baseUrl: config.baseUrl,
    defaultCount: config.searchDefaultCount,
    maxCount: config.searchMaxCount,
    strict,
    valueSet: (url: string) => validator.terminology.expand(url),
  });

  /** Refuses an invalid resource; returns the warnings of a valid one. */
  function validate(resource: Resource, passes?: StructuralPasses): OperationOutcomeIssue[] {
    const result = validator.validate(resource, passes);
    if (result.base.length > 0) throw new FhirError(400, result.base);
    if (result.profile.length > 0) throw new FhirError(422, result.profile);
    return result.warnings;
  }

  /** Below this, a batch costs less to validate here than to hand to a thread. */
  const POOL_MIN = 16;

  function prevalidate(resources: Resource[]): void {
    if (!pool || resources.length < POOL_MIN) return;
    const all = pool.passes(resources);
    resources.forEach((r, i) => {
      const one = all.then((p) => p[i]!);
      one.catch(() => undefined); // a batch prevalidated but never written must not fail the process
      pending.set(r, one);
    });
  }

  /** The passes computed on the threads; undefined (computed here) where none were, or where a thread failed. */
  async function structuralPasses(resources: Resource[]): Promise<(StructuralPasses | undefined)[]> {
    prevalidate(resources.filter((r) => !pending.has(r)));
    const passes = await Promise.all(resources.map((r) => pending.get(r))).catch((err: Error) => {
      log.warn({ err: err.message }, 'validation thread failed: the batch is validated on the main thread');
      return resources.map(() => undefined);
    });
    for (const r of resources) pending.delete(r);
    return passes;
  }

  function asResource(body: unknown, type?: string): Resource {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The body must be a FHIR resource (a JSON object)');
    const resource = body as Resource;
    if (typeof resource.resourceType !== 'string') throw badRequest('The resource has no resourceType', 'resourceType');
    if (type && resource.resourceType !== type) {
      throw badRequest(`The resource is a ${resource.resourceType} but the URL names ${type}`, 'resourceType');
    }
    assertType(resource.resourceType);
    return resource;
  }

  async function matchIds(type: string, query: QueryParams, tx?: Queryable): Promise<string[]> {
    if (Object.keys(query).length === 0) throw badRequest('A conditional operation needs search criteria');
    const result = await search(tx ?? db, type, { ...query, _count: '2', _total: 'none', _sort: undefined }, searchOptions(true));
    return result.matches.map((m) => m.id);
  }

  const writeHooks: WriteHook[] = [
    // A SearchParameter written through the API becomes searchable at once (existing data: $reindex).
    async (_tx, stored) => {
      if (stored.resourceType === 'SearchParameter' && !stored.deleted) activateSearchParameter(assertUsable(JSON.parse(stored.json)));
    },
  ];
  const batchHooks = new Map<WriteHook, BatchWriteHook>();
  const afterWrite = async (tx: Queryable, stored: StoredResource) => {
    for (const hook of writeHooks) await hook(tx, stored);
  };
  const afterBatch = async (tx: Queryable, stored: StoredResource[]) => {
    for (const hook of writeHooks) {
      const batch = batchHooks.get(hook);
      if (batch) await batch(tx, stored);
      else for (const one of stored) await hook(tx, one);
    }
  };
  const written = async (tx: Queryable, result: WriteResult, warnings: OperationOutcomeIssue[]) => {
    await afterWrite(tx, result.stored);
    return warnings.length > 0 ? { ...result, warnings } : result;
  };
  const operations = new OperationRegistry();
  const outputFilters = new Map<string, { filter: OutputFilter; applies?: (json: string) => boolean }[]>();
  operations.register(reindexOperation);
  await registerStoredSearchParameters(db);

  /**
   * Conditional writes on the same criteria run one at a time (a transaction-scoped advisory lock on
   * the criteria), so two concurrent conditional creates cannot both find nothing and both create.
   */
  async function matchIdsLocked(type: string, query: QueryParams, tx: Queryable): Promise<string[]> {
    const key = `${type}?${Object.entries(query).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${String(v)}`).join('&')}`;
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
    return matchIds(type, query, tx);
  }

  const core: FhirCore = {
    db,
    config,
    validator,
    operations,
    onWrite(hook, batch) {
      writeHooks.push(hook);
      if (batch) batchHooks.set(hook, batch);
    },
    addOutputFilter: (type, filter, applies) => void outputFilters.set(type, [...(outputFilters.get(type) ?? []), { filter, applies }]),
    present(type, json) {
      const filters = outputFilters.get(type)?.filter((f) => !f.applies || f.applies(json));
      if (!filters?.length) return json; // the common case: the stored text as it is
      return stringifyFhir(filters.reduce((r, f) => f.filter(r), parseFhirJson(json) as Resource));
    },
    read: (type, id, tx) => readResource(tx ?? db, type, id),
    vread: (type, id, versionId, tx) => readVersion(tx ?? db, type, id, versionId),

    async create(body, options = {}, tx) {
      const resource = asResource(body, options.type);
      const { id: _ignored, ...rest } = resource;
      const fresh = (options.assignedId ? { ...rest, id: options.assignedId } : rest) as Resource;
      const warnings = validate(fresh);
      return inTx(tx, async (q) => {
        if (options.ifNoneExist) {
          const ids = await matchIdsLocked(fresh.resourceType, parseQuery(options.ifNoneExist), q);
          if (ids.length > 1) throw preconditionFailed(`If-None-Exist matches ${ids.length}+ ${fresh.resourceType} resources: the criteria must be more selective`);
          if (ids.length === 1) return { stored: await readResource(q, fresh.resourceType, ids[0]), created: false };
        }
        return written(q, await writeResource(q, fresh, { method: 'POST', mustBeNew: true }), warnings);
      });
    },

    async createMany(resources, tx) {
      const passes = await structuralPasses(resources);
      resources.forEach((r, i) => validate(r, passes[i]));
      const stored = await createResources(tx, resources);
      await afterBatch(tx, stored);
      return stored;
    },

    async update(type, id, body, options = {}, tx) {
      assertType(type);
      const resource = asResource(body, type);
      if (resource.id !== id) {
        throw badRequest(resource.id ? `The id in the body (${resource.id}) differs from the id in the URL (${id})` : `The resource must carry the id of the URL (${id})`, 'id');
      }
      assertId(id);
      const warnings = validate(resource);
      return inTx(tx, async (q) => written(q, await writeResource(q, resource, { method: 'PUT', ifMatch: options.ifMatch, allowCreate: config.allowCreateOnUpdate }), warnings));
    },

    async conditionalUpdate(type, query, body, tx) {
      assertType(type);
      const resource = asResource(body, type);
      return inTx(tx, async (q) => {
        const ids = await matchIdsLocked(type, query, q);
        if (ids.length > 1) throw preconditionFailed(`The conditional update criteria match several ${type} resources`);
        if (ids.length === 1) {
          if (resource.id && resource.id !== ids[0]) throw badRequest(`The id in the body (${resource.id}) differs from the matching resource ${type}/${ids[0]}`, 'id');
          const target = { ...resource, id: ids[0] };
          const warnings = validate(target);
          return written(q, await writeResource(q, target, { method: 'PUT' }), warnings);
        }
        const warnings = validate(resource);
        return written(q, await writeResource(q, resource, { method: resource.id ? 'PUT' : 'POST', allowCreate: true }), warnings);
      });
    },

    async patch(type, id, operations, options = {}, tx) {
      if (!Array.isArray(operations)) throw badRequest('A JSON Patch body is an array of operations');
      return inTx(tx, async (q) => {
        // Locked: concurrent patches apply one after the other instead of failing on the version check.
        const current = await readResource(q, type, id, true);
        const resource = parseFhirJson(current.json) as Resource;
        let patched: Resource;
        try {
          patched = jsonpatch.applyPatch(resource, operations as Operation[], true, true).newDocument;
        } catch (err) {
          const e = err as { name?: string; message: string };
          if (e.name === 'TEST_OPERATION_FAILED') throw new FhirError(412, `JSON Patch test failed: ${firstLine(e.message)}`, 'conflict');
          throw new FhirError(422, `Invalid JSON Patch: ${firstLine(e.message)}`, 'invalid');
        }
        if (patched.resourceType !== type || patched.id !== id) throw new FhirError(422, 'A patch cannot change resourceType or id', 'invalid');
        const warnings = validate(patched);
        return written(q, await writeResource(q, patched, { method: 'PATCH', ifMatch: options.ifMatch ?? current.versionId }), warnings);
      });
    },

    delete: (type, id, options = {}, tx) =>
      inTx(tx, async (q) => {
        const deleted = await deleteResource(q, type, id, options.ifMatch);
        if (deleted) await afterWrite(q, deleted);
        return deleted;
      }),

    async conditionalDelete(type, query, tx) {
      assertType(type);
      return inTx(tx, async (q) => {
        const ids = await matchIds(type, query, q);
        if (ids.length > 1) throw preconditionFailed(`The conditional delete criteria match several ${type} resources; this server deletes one at a time`);
        for (const id of ids) {
          const deleted = await deleteResource(q, type, id);
          if (deleted) await afterWrite(q, deleted);
        }
        return ids.length;
      });
    },

    search: (type, query, options = {}, tx) => search(tx ?? db, type, query, { ...searchOptions(options.strict), compartment: options.compartment }),
    matchIds,
    validate,
    prevalidate,
    close: async () => pool?.close(),
  };
  return core;
}

/** "identifier=a|b&name=x" → query params, repeated keys as arrays. */
export function parseQuery(qs: string): QueryParams {
  const out: QueryParams = {};
  for (const [k, v] of new URLSearchParams(qs.replace(/^\?/, ''))) {
    const prev = out[k];
    out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  return out;
}

const firstLine = (s: string) => s.split('\n')[0];
