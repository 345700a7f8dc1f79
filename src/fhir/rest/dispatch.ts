// Maps one FHIR interaction (method + path + query + headers) to the core. Used by the HTTP routes
// and by batch/transaction entries, so both behave the same.
import type { Queryable } from '../../db/index.ts';
import type { FhirCore } from '../core.ts';
import { parseQuery } from '../core.ts';
import { history } from '../history.ts';
import { badRequest, FhirError, notAllowed, notFound, outcome } from '../outcome.ts';
import { storedResourceTypes } from '../definitions.ts';
import { assertType, type StoredResource, type WriteResult } from '../repository.ts';
import { OperationParams } from '../operations.ts';
import type { QueryParams } from '../search/engine.ts';
import { currentContext } from '../../access/context.ts';
import { decide, type Decision } from '../../access/policy.ts';
import { historyBundle, projectJson, searchBundle, type Projection } from './bundles.ts';
import { auditInteraction, authorize, interactionOf } from './interceptors.ts';

export interface FhirRequest {
  method: string;
  /** Path below the FHIR base, without leading slash: "Patient/1/_history/2". */
  path: string;
  query: QueryParams;
  body?: unknown;
  ifMatch?: string;
  ifNoneExist?: string;
  ifNoneMatch?: string;
  prefer?: string;
}

export interface FhirResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON text of the body, if any. */
  body?: string;
  /** What a read-type interaction disclosed, for the audit trail. */
  disclosed?: { what?: string[]; patients?: string[] };
}

/** One FHIR interaction under the platform's rules: access decision, then the interaction, then its trace. */
export async function dispatch(core: FhirCore, req: FhirRequest, tx?: Queryable): Promise<FhirResponse> {
  const started = new Date();
  const interaction = interactionOf(core, req);
  try {
    const decision = authorize(core, interaction);
    const res = await route(core, req, decision, tx);
    if (!interaction.write) await auditInteraction(core, interaction, req, started, { status: res.status, ...res.disclosed }, tx);
    return res;
  } catch (err) {
    // Inside a Bundle transaction the failure rolls everything back: the Bundle's own trace records it.
    if (!tx) {
      const status = err instanceof FhirError ? err.status : 500;
      await auditInteraction(core, interaction, req, started, { status, reason: err instanceof FhirError ? err.message : 'internal error' });
    }
    throw err;
  }
}

async function route(core: FhirCore, req: FhirRequest, decision: Decision, tx?: Queryable): Promise<FhirResponse> {
  const segments = req.path.split('/').filter(Boolean);
  const m = req.method.toUpperCase();
  const last = segments[segments.length - 1] ?? '';
  if (last.startsWith('$') && segments.length <= 3) return operationResponse(core, req, segments, tx);
  const [type, id, op, vid, ...extra] = segments;
  if (!type && (m === 'GET' || m === 'HEAD')) return systemSearch(core, req, tx);
  const base = `${core.config.baseUrl}/fhir`;
  if (extra.length > 0 || !type) throw notFound(`No FHIR endpoint at ${m} /fhir/${req.path}`);
  const hasQuery = Object.keys(req.query).length > 0;

  if ((type === '_history' || id === '_history') && decision.compartment) {
    throw new FhirError(403, 'The history of a whole type or of the server is reserved to administrators; read the history of your own resources', 'forbidden');
  }
  if (type === '_history' && !id && m === 'GET') return historyResponse(core, req, {}, tx);
  if (id === '_history' && !op && m === 'GET') return historyResponse(core, req, { type }, tx);
  if (id === '_search' && !op && m === 'POST') return searchResponse(core, type, mergeQuery(req.query, (req.body ?? {}) as QueryParams), req, decision, tx);

  if (!id) {
    switch (m) {
      case 'GET':
      case 'HEAD':
        return searchResponse(core, type, req.query, req, decision, tx);
      case 'POST':
        return written(core, req, await core.create(req.body, { type, ifNoneExist: req.ifNoneExist }, tx));
      case 'PUT':
        if (!hasQuery) throw notAllowed(`PUT /${type} needs an id (PUT /${type}/[id]) or search criteria (conditional update)`, ALLOW.type);
        return written(core, req, await core.conditionalUpdate(type, req.query, req.body, tx));
      case 'DELETE': {
        if (!hasQuery) throw notAllowed(`DELETE /${type} needs an id (DELETE /${type}/[id]) or search criteria (conditional delete)`, ALLOW.type);
        await core.conditionalDelete(type, req.query, tx);
        return { status: 204, headers: {} };
      }
    }
    throw notAllowed(`${m} is not allowed on /${type}`, ALLOW.type);
  }

  if (!op) {
    switch (m) {
      case 'GET':
      case 'HEAD': {
        const stored = inCompartment(await core.read(type, id, tx), decision);
        if (req.ifNoneMatch && etagMatches(req.ifNoneMatch, stored.versionId)) return { status: 304, headers: resourceHeaders(base, stored) };
        return { status: 200, headers: resourceHeaders(base, stored), body: project(core, stored, req.query), disclosed: disclosed([stored]) };
      }
      case 'PUT':
        return written(core, req, await core.update(type, id, req.body, { ifMatch: parseEtag(req.ifMatch) }, tx));
      case 'PATCH':
        return written(core, req, await core.patch(type, id, req.body, { ifMatch: parseEtag(req.ifMatch) }, tx));
      case 'DELETE': {
        const deleted = await core.delete(type, id, { ifMatch: parseEtag(req.ifMatch) }, tx);
        return { status: 204, headers: deleted ? { ETag: `W/"${deleted.versionId}"` } : {} };
      }
    }
    throw notAllowed(`${m} is not allowed on /${type}/${id}`, ALLOW.instance);
  }

  if (op === '_history' && (m === 'GET' || m === 'HEAD')) {
    if (!vid) {
      const current = await core.read(type, id, tx).catch((e: FhirError) => {
        if (e.status !== 410) throw e; // a deleted resource still has a history
        return undefined;
      });
      if (current) inCompartment(current, decision);
      return historyResponse(core, req, { type, id }, tx);
    }
    const stored = inCompartment(await core.vread(type, id, vid, tx), decision);
    return { status: 200, headers: resourceHeaders(base, stored), body: core.present(type, stored.json), disclosed: disclosed([stored]) };
  }
  if (op !== '_history') throw notFound(`No FHIR endpoint at ${m} /fhir/${req.path}`);
  throw notAllowed(`${m} is not allowed on a version (/${req.path})`, ALLOW.history);
}

async function operationResponse(core: FhirCore, req: FhirRequest, segments: string[], tx?: Queryable): Promise<FhirResponse> {
  const name = segments[segments.length - 1].slice(1);
  const level = (['system', 'type', 'instance'] as const)[segments.length - 1];
  const [type, id] = segments;
  if (type && level !== 'system') assertType(type);
  const op = core.operations.find(name, level, level === 'system' ? undefined : type);
  const m = req.method.toUpperCase();
  if (m !== 'POST' && (m !== 'GET' || op.affectsState)) {
    throw notAllowed(`$${name} is invoked with ${op.affectsState ? 'POST' : 'GET or POST'}`, op.affectsState ? ['POST'] : ['GET', 'POST']);
  }
  const result = await op.handler({
    core,
    method: m,
    level,
    type: level === 'system' ? undefined : type,
    id: level === 'instance' ? id : undefined,
    params: OperationParams.from(req.query, req.body),
    body: req.body,
    tx,
  });
  const { status = 200, resource, headers = {} } = 'resourceType' in result ? { resource: result } : result;
  return { status, headers, body: JSON.stringify(resource) };
}

const ALLOW = {
  type: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
  instance: ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE'],
  history: ['GET', 'HEAD'],
};

const etag = (s: { versionId: number }) => `W/"${s.versionId}"`;

/** If-None-Match: a list of entity tags or *, compared weakly (RFC 9110 §13.1.2). */
function etagMatches(header: string, versionId: number): boolean {
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === `"${versionId}"`;
  });
}

/** If-Match: W/"3" (or "3", or 3) → 3. */
export function parseEtag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(value.trim());
  if (!m) throw badRequest(`If-Match must be a version ETag such as W/"3", got ${value}`);
  return Number(m[1]);
}

export function resourceHeaders(base: string, s: StoredResource): Record<string, string> {
  return {
    ETag: etag(s),
    'Last-Modified': new Date(s.lastUpdated).toUTCString(),
    'Content-Location': `${base}/${s.resourceType}/${s.id}/_history/${s.versionId}`,
  };
}

export function written(core: FhirCore, req: Pick<FhirRequest, 'method' | 'prefer'>, result: WriteResult): FhirResponse {
  const { stored, created } = result;
  const base = `${core.config.baseUrl}/fhir`;
  const headers = { ...resourceHeaders(base, stored), Location: `${base}/${stored.resourceType}/${stored.id}/_history/${stored.versionId}` };
  const status = created ? 201 : 200;
  const prefer = /return=(minimal|representation|OperationOutcome)/.exec(req.prefer ?? '')?.[1];
  if (prefer === 'minimal') return { status, headers };
  if (prefer === 'OperationOutcome') {
    const verb = created ? 'created' : req.method === 'POST' ? 'already existed' : 'updated';
    const done = outcome('information', 'informational', `${stored.resourceType}/${stored.id} ${verb} (version ${stored.versionId})`);
    // The validator's notes (a code outside an extensible binding, an unknown profile) reach the client here.
    return { status, headers, body: JSON.stringify({ ...done, issue: [...done.issue, ...(result.warnings ?? [])] }) };
  }
  return { status, headers, body: core.present(stored.resourceType, stored.json) };
}

function project(core: FhirCore, stored: StoredResource, query: QueryParams): string {
  const projection = projectionOf(query);
  const json = core.present(stored.resourceType, stored.json);
  return projection ? projectJson(json, projection) : json;
}

function projectionOf(query: QueryParams): Projection | undefined {
  const elements = query._elements;
  const summary = query._summary;
  if (summary !== undefined && !['true', 'false', 'text', 'data', 'count'].includes(String(summary))) {
    throw badRequest(`_summary must be true, false, text, data or count, got "${summary}"`);
  }
  if (elements) return { elements: String(elements).split(',').map((e) => e.trim()).filter(Boolean) };
  if (summary && summary !== 'false' && summary !== 'count') return { summary: String(summary) as Projection['summary'] };
  return undefined;
}

/** Query string and form body of POST _search: both count, a parameter present in both is AND-ed. */
function mergeQuery(a: QueryParams, b: QueryParams): QueryParams {
  const out: QueryParams = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    const prev = out[k];
    out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), ...(Array.isArray(v) ? v : [v])];
  }
  return out;
}

async function searchResponse(core: FhirCore, type: string, query: QueryParams, req: FhirRequest, decision: Decision, tx?: Queryable): Promise<FhirResponse> {
  const strict = /handling=strict/.test(req.prefer ?? '');
  const result = await core.search(type, query, { strict, compartment: decision.compartment }, tx);
  result.included = result.included.filter(mayInclude);
  const self = selfUrl(core, type, query);
  return { status: 200, headers: {}, body: searchBundle(core, self, result, projectionOf(query)), disclosed: disclosed([...result.matches, ...result.included]) };
}

/** A caller narrowed to one patient's record sees that record only (a Patient is its own compartment). */
function inCompartment(stored: StoredResource, decision: Decision): StoredResource {
  if (decision.compartment === undefined) return stored;
  const owner = stored.resourceType === 'Patient' ? stored.id : stored.compartment;
  if (owner !== decision.compartment) throw new FhirError(403, `${stored.resourceType}/${stored.id} is not part of your record`, 'forbidden');
  return stored;
}

/** An _include or _revinclude adds only what the caller could read on its own. */
function mayInclude(r: StoredResource): boolean {
  const principal = currentContext()?.principal;
  if (!principal) return true;
  const d = decide(principal, { action: 'read', type: r.resourceType });
  const owner = r.resourceType === 'Patient' ? r.id : r.compartment;
  return d.allow && (d.compartment === undefined || owner === d.compartment);
}

function disclosed(resources: StoredResource[]): FhirResponse['disclosed'] {
  const patients = resources.map((r) => (r.resourceType === 'Patient' ? r.id : r.compartment)).filter((p): p is string => !!p);
  return { what: resources.length === 1 ? [`${resources[0].resourceType}/${resources[0].id}`] : undefined, patients };
}

/** GET /fhir?_type=Patient,Practitioner&…: the parameters must apply to every type named. */
async function systemSearch(core: FhirCore, req: FhirRequest, tx?: Queryable): Promise<FhirResponse> {
  const { _type, ...query } = req.query;
  const types = _type === undefined ? [...storedResourceTypes()] : [...new Set((Array.isArray(_type) ? _type : [_type]).flatMap((t) => t.split(',')).map((t) => t.trim()))];
  // Each type is authorised on its own; a caller narrowed to one patient is narrowed in every type.
  const compartment = types.map((type) => authorize(core, { action: 'search', type, subtype: 'search-system', write: false }).compartment).find(Boolean);
  const strict = /handling=strict/.test(req.prefer ?? '');
  const result = await core.search(types, query, { strict, compartment }, tx);
  result.included = result.included.filter(mayInclude);
  return { status: 200, headers: {}, body: searchBundle(core, selfUrl(core, '', req.query), result, projectionOf(query)), disclosed: disclosed([...result.matches, ...result.included]) };
}

async function historyResponse(core: FhirCore, req: FhirRequest, scope: { type?: string; id?: string }, tx?: Queryable): Promise<FhirResponse> {
  const count = req.query._count === undefined ? core.config.searchDefaultCount : Number(req.query._count);
  if (!Number.isInteger(count) || count < 0) throw badRequest(`_count must be a non-negative integer, got "${req.query._count}"`);
  const page = await history(tx ?? core.db, {
    ...scope,
    since: req.query._since as string | undefined,
    count: Math.min(count, core.config.searchMaxCount),
    cursor: req.query._cursor as string | undefined,
  });
  const path = [scope.type, scope.id, '_history'].filter(Boolean).join('/');
  const self = selfUrl(core, path, req.query);
  return { status: 200, headers: {}, body: historyBundle(core, self, page) };
}

function selfUrl(core: FhirCore, path: string, query: QueryParams): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) qs.append(k, one);
  const s = qs.toString();
  return `${core.config.baseUrl}/fhir${path ? `/${path}` : ''}${s ? `?${s}` : ''}`;
}

/** A Bundle entry's request.url: "Patient?identifier=x" → path and query. */
export function splitUrl(url: string): { path: string; query: QueryParams } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: {} } : { path: url.slice(0, q), query: parseQuery(url.slice(q + 1)) };
}
