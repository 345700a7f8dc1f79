// batch and transaction Bundles (FHIR R4 http.html#transaction). A transaction runs in one database
// transaction: all entries commit or none does.
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import type { FhirCore } from '../core.ts';
import { cloneFhirJson } from '../json.ts';
import { isStoredResourceType } from '../definitions.ts';
import { badRequest, FhirError } from '../outcome.ts';
import { ID_RE } from '../repository.ts';
import { currentTable } from '../schema.ts';
import { dispatch, splitUrl, written, type FhirRequest, type FhirResponse } from './dispatch.ts';
import { auditInteraction, authorize, interactionOf } from './interceptors.ts';

/** Processing order required by the spec: DELETE, POST, PUT/PATCH, then reads. */
const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified' };

export async function processBundle(core: FhirCore, body: unknown, prefer?: string): Promise<string> {
  const bundle = body as Bundle;
  if (!bundle || bundle.resourceType !== 'Bundle') throw badRequest('POST to the FHIR base expects a Bundle of type batch or transaction');
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
    throw badRequest(`Bundle.type must be batch or transaction, got "${bundle.type}"`, 'Bundle.type');
  }
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) throw badRequest('Bundle.entry must be an array', 'Bundle.entry');
  const entries = bundle.entry ?? [];
  entries.forEach((e, i) => {
    if (!e || typeof e !== 'object') throw badRequest(`Bundle.entry[${i}] must be an object`, `Bundle.entry[${i}]`);
    if (e.resource !== undefined && (typeof e.resource !== 'object' || Array.isArray(e.resource))) {
      throw badRequest(`Bundle.entry[${i}].resource must be a resource`, `Bundle.entry[${i}].resource`);
    }
    const method = e.request?.method;
    if (!method || !e.request?.url || ORDER[method] === undefined) {
      throw badRequest(`Bundle.entry[${i}].request needs a method (GET, POST, PUT, PATCH, DELETE) and a url`, `Bundle.entry[${i}].request`);
    }
  });
  let responses: FhirResponse[];
  if (bundle.type === 'batch') responses = await batch(core, entries, prefer);
  else {
    const started = new Date();
    try {
      responses = await transaction(core, entries, prefer);
    } catch (err) {
      const status = err instanceof FhirError ? err.status : 500;
      const interaction = { action: 'operation' as const, operation: 'transaction', subtype: 'transaction', write: false };
      await auditInteraction(core, interaction, { method: 'POST', path: '', query: {} }, started, { status, reason: err instanceof FhirError ? err.message : 'internal error' });
      throw err;
    }
  }
  return JSON.stringify({
    resourceType: 'Bundle',
    type: `${bundle.type}-response`,
    entry: responses.map(toEntry),
  });
}

function toEntry(r: FhirResponse): BundleEntry {
  const body = r.body ? (JSON.parse(r.body) as Resource) : undefined;
  const isOutcome = body?.resourceType === 'OperationOutcome' && r.status >= 400;
  return {
    ...(body && !isOutcome ? { resource: body } : {}),
    response: {
      status: `${r.status} ${STATUS_TEXT[r.status] ?? ''}`.trim(),
      ...(r.headers.Location ? { location: r.headers.Location } : {}),
      ...(r.headers.ETag ? { etag: r.headers.ETag } : {}),
      ...(r.headers['Last-Modified'] ? { lastModified: new Date(r.headers['Last-Modified']).toISOString() } : {}),
      ...(isOutcome ? { outcome: body } : {}),
    },
  };
}

async function batch(core: FhirCore, entries: BundleEntry[], prefer?: string): Promise<FhirResponse[]> {
  const out: FhirResponse[] = [];
  for (const e of entries) {
    const started = new Date();
    try {
      out.push(await core.db.transaction((tx) => run(core, e, tx, prefer)));
    } catch (err) {
      if (!(err instanceof FhirError)) throw err;
      // The entry's own transaction rolled back, its trace with it: record the failure now.
      const req = entryRequest(core, e, prefer);
      await auditInteraction(core, interactionOf(core, req), req, started, { status: err.status, reason: err.message });
      out.push({ status: err.status, headers: {}, body: JSON.stringify(err.outcome) });
    }
  }
  return out;
}

async function transaction(core: FhirCore, entries: BundleEntry[], prefer?: string): Promise<FhirResponse[]> {
  return core.db.transaction(async (tx) => {
    assertEachResourceOnce(entries);
    await lockTargets(tx, entries);
    // 1. Every urn:uuid fullUrl of a POST gets its final reference before anything is written.
    const refs = new Map<string, string>();
    const existing = new Map<number, string>(); // conditional creates that matched: entry index → id
    for (const [i, e] of entries.entries()) {
      if (e.request?.method !== 'POST' || !e.resource) continue;
      const type = e.resource.resourceType;
      let id: string = randomUUID();
      if (e.request.ifNoneExist) {
        const ids = await core.matchIds(type, splitUrl(`?${e.request.ifNoneExist}`).query, tx);
        if (ids.length > 1) throw new FhirError(412, `Bundle.entry[${i}]: ifNoneExist matches several ${type} resources`, 'conflict');
        if (ids.length === 1) existing.set(i, (id = ids[0]));
      }
      if (e.fullUrl) refs.set(e.fullUrl, `${type}/${id}`);
      refs.set(`__entry${i}`, id);
    }
    // 2. References to other entries and conditional references ("Patient?identifier=…") are resolved.
    const resources = new Map<number, Resource>();
    for (const [i, e] of entries.entries()) {
      if (e.resource) resources.set(i, await rewrite(core, e.resource, refs, tx, i));
    }
    // 3. Entries run in the spec's order; responses keep the Bundle's order.
    const order = entries.map((_, i) => i).sort((a, b) => ORDER[entries[a].request!.method!] - ORDER[entries[b].request!.method!] || a - b);
    const out: FhirResponse[] = new Array(entries.length);
    for (const i of order) {
      const e = { ...entries[i], resource: resources.get(i) };
      try {
        if (e.request!.method === 'POST' && e.resource) {
          const id = refs.get(`__entry${i}`) as string;
          authorize(core, { action: 'create', type: e.resource.resourceType, subtype: 'create', write: true });
          out[i] = existing.has(i)
            ? written(core, { method: 'POST', prefer }, { stored: await core.read(e.resource.resourceType, id, tx), created: false })
            : written(core, { method: 'POST', prefer }, await core.create(e.resource, { assignedId: id }, tx));
        } else {
          out[i] = await run(core, e, tx, prefer);
        }
      } catch (err) {
        if (err instanceof FhirError) {
          const where = `Bundle.entry[${i}] (${e.request!.method} ${e.request!.url})`;
          throw new FhirError(err.status, err.issues.map((issue) => ({ ...issue, diagnostics: `${where}: ${issue.diagnostics ?? ''}` })));
        }
        throw err;
      }
    }
    return out;
  });
}

/**
 * Locks the resources the transaction will change, in one global order, before touching any:
 * two transactions updating A and B in opposite orders then queue instead of deadlocking.
 */
async function lockTargets(tx: Queryable, entries: BundleEntry[]): Promise<void> {
  const targets = entries
    .filter((e) => ['PUT', 'PATCH', 'DELETE'].includes(e.request!.method!) && !e.request!.url!.includes('?'))
    .map((e) => e.request!.url!.replace(/^\//, '').split('/'))
    .filter(([type, id]) => isStoredResourceType(type) && id && ID_RE.test(id))
    .sort(([t1, i1], [t2, i2]) => t1.localeCompare(t2) || i1.localeCompare(i2));
  for (const [type, id] of targets) await tx.query(`SELECT 1 FROM ${currentTable(type)} WHERE id = $1 FOR UPDATE`, [id]);
}

/** The spec forbids a transaction to touch the same resource twice: its outcome would depend on order. */
function assertEachResourceOnce(entries: BundleEntry[]): void {
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const { method, url } = e.request!;
    if (method === 'POST' || method === 'GET' || method === 'HEAD' || url!.includes('?')) return;
    const key = url!.replace(/^\//, '').split('/').slice(0, 2).join('/');
    const before = seen.get(key);
    if (before !== undefined) throw badRequest(`Bundle.entry[${before}] and Bundle.entry[${i}] both write ${key}: a transaction may touch a resource once`);
    seen.set(key, i);
  });
}

function run(core: FhirCore, e: BundleEntry, tx: Queryable, prefer?: string): Promise<FhirResponse> {
  return dispatch(core, entryRequest(core, e, prefer), tx);
}

function entryRequest(core: FhirCore, e: BundleEntry, prefer?: string): FhirRequest {
  const { path, query } = splitUrl(e.request!.url!.replace(/^\//, '').replace(`${core.config.baseUrl}/fhir/`, ''));
  return {
    method: e.request!.method!,
    path,
    query,
    body: e.request!.method === 'PATCH' ? patchBody(e.resource) : e.resource,
    ifMatch: e.request!.ifMatch,
    ifNoneExist: e.request!.ifNoneExist,
    ifNoneMatch: e.request!.ifNoneMatch,
    prefer,
  };
}

/** In a Bundle, a JSON Patch travels as a Binary whose data is the base64 patch document. */
function patchBody(resource: Resource | undefined): unknown {
  if (resource?.resourceType === 'Binary' && resource.data) return JSON.parse(Buffer.from(resource.data, 'base64').toString('utf8'));
  throw badRequest('A PATCH entry needs a Binary resource holding the JSON Patch (contentType application/json-patch+json)');
}

async function rewrite(core: FhirCore, resource: Resource, refs: Map<string, string>, tx: Queryable, index: number): Promise<Resource> {
  const pending: Promise<void>[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'reference' && typeof v === 'string') {
        if (refs.has(v)) obj[k] = refs.get(v);
        else if (v.startsWith('urn:uuid:') || v.startsWith('urn:oid:')) {
          throw badRequest(`Bundle.entry[${index}]: the reference ${v} names no entry of this Bundle`);
        } else if (/^[A-Z][A-Za-z]+\?/.test(v)) {
          pending.push(resolveConditional(core, v, tx, index).then((r) => void (obj[k] = r)));
        }
      } else walk(v);
    }
  };
  const copy = cloneFhirJson(resource);
  walk(copy);
  await Promise.all(pending);
  return copy;
}

async function resolveConditional(core: FhirCore, ref: string, tx: Queryable, index: number): Promise<string> {
  const { path: type, query } = splitUrl(ref);
  const ids = await core.matchIds(type, query, tx);
  if (ids.length !== 1) {
    throw new FhirError(ids.length === 0 ? 400 : 412, `Bundle.entry[${index}]: the conditional reference ${ref} matches ${ids.length === 0 ? 'no' : 'several'} resources`, ids.length === 0 ? 'not-found' : 'multiple-matches');
  }
  return `${type}/${ids[0]}`;
}
