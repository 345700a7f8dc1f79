// Shared helpers for the black-box FHIR REST tests: a raw HTTP helper (status, headers, body), a
// fhir-kit-client factory, OperationOutcome assertions and realistic French resources.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from 'fhir-kit-client';
import type { Bundle, BundleEntry, Encounter, Observation, OperationOutcome, Patient, Practitioner, Resource } from '@medplum/fhirtypes';

export const INS_SYSTEM = 'urn:oid:1.2.250.1.213.1.4.8';
export const RPPS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';
/** A test-only identifier system, so that identifier searches never collide with other data. */
export const TEST_SYSTEM = 'urn:socle:test';
/** A (fictitious) hospital's IPP namespace. */
export const IPP_SYSTEM = 'https://hopital.example.fr/fhir/ipp';

export const FHIR_JSON = 'application/fhir+json';
export const JSON_PATCH = 'application/json-patch+json';

/** Issue types that report invalid content (the 'invalid' branch of the IssueType hierarchy). */
export const INVALID_CODES = ['invalid', 'structure', 'required', 'value', 'invariant'] as const;

/** A value unique to this process and call, for identifiers and names. */
export function uid(prefix = 'v'): string {
  return `${prefix}-${randomUUID()}`;
}

export function fhirClient(fhirUrl: string): Client {
  return new Client({ baseUrl: fhirUrl });
}

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when the body is empty or not JSON. */
  body: T;
  contentType: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is when a string; otherwise JSON.stringify'd. */
  headers?: Record<string, string>;
  /** Content-Type of the request body (default application/fhir+json when there is a body). */
  contentType?: string | null;
}

/** A raw HTTP request against the server: path is relative to fhirUrl unless it starts with http. */
export async function http<T = any>(fhirUrl: string, method: string, path: string, opts: RequestOptions = {}): Promise<HttpResult<T>> {
  const url = path.startsWith('http') ? path : `${fhirUrl}${path.startsWith('/') || path === '' ? '' : '/'}${path}`;
  const headers: Record<string, string> = { accept: FHIR_JSON, ...(opts.headers ?? {}) };
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    if (opts.contentType !== null) headers['content-type'] = opts.contentType ?? FHIR_JSON;
  }
  const res = await fetch(url, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: any;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status: res.status, headers: res.headers, text, body: parsed, contentType: res.headers.get('content-type') ?? '' };
}

/** Binds http() to one base URL. */
export function httpFor(fhirUrl: string) {
  return {
    get: <T = any>(path: string, headers?: Record<string, string>) => http<T>(fhirUrl, 'GET', path, { headers }),
    post: <T = any>(path: string, body: unknown, headers?: Record<string, string>, contentType?: string | null) =>
      http<T>(fhirUrl, 'POST', path, { body, headers, contentType }),
    put: <T = any>(path: string, body: unknown, headers?: Record<string, string>, contentType?: string | null) =>
      http<T>(fhirUrl, 'PUT', path, { body, headers, contentType }),
    patch: <T = any>(path: string, body: unknown, headers?: Record<string, string>, contentType: string | null = JSON_PATCH) =>
      http<T>(fhirUrl, 'PATCH', path, { body, headers, contentType }),
    delete: <T = any>(path: string, headers?: Record<string, string>) => http<T>(fhirUrl, 'DELETE', path, { headers }),
    request: <T = any>(method: string, path: string, opts?: RequestOptions) => http<T>(fhirUrl, method, path, opts),
  };
}

export type Http = ReturnType<typeof httpFor>;

/** Responses of the FHIR API are application/fhir+json in UTF-8. */
export function assertFhirJson(res: HttpResult, context = ''): void {
  assert.match(res.contentType, /^application\/fhir\+json;\s*charset=utf-8$/i, `${context} content-type was "${res.contentType}" (status ${res.status}, body ${res.text.slice(0, 300)})`);
}

export interface OutcomeExpectation {
  /** Exact status, or a list of acceptable statuses. */
  status: number | number[];
  /** Acceptable issue codes (any issue with severity error/fatal must carry one of them). */
  code?: string | readonly string[];
  /** Some issue's expression (or location) contains this string. */
  expression?: string;
  /** Some issue's diagnostics (or details.text) contains this string (case-insensitive). */
  diagnostics?: string;
}

/**
 * Asserts an error answer: the status, an application/fhir+json OperationOutcome body with at least one
 * error issue, the issue code, and that the issue points at the problem. Returns the outcome.
 */
export function assertOutcome(res: HttpResult, exp: OutcomeExpectation): OperationOutcome {
  const statuses = Array.isArray(exp.status) ? exp.status : [exp.status];
  const show = `status ${res.status}, content-type "${res.contentType}", body ${res.text.slice(0, 600)}`;
  assert.ok(statuses.includes(res.status), `expected status ${statuses.join(' or ')}; got ${show}`);
  assertFhirJson(res, 'error response');
  const oo = res.body as OperationOutcome;
  assert.equal(oo?.resourceType, 'OperationOutcome', `error body is not an OperationOutcome: ${show}`);
  assert.ok(Array.isArray(oo.issue) && oo.issue.length > 0, `OperationOutcome has no issue: ${show}`);
  const errors = oo.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  assert.ok(errors.length > 0, `OperationOutcome has no issue of severity error/fatal: ${show}`);
  for (const i of oo.issue) assert.ok(typeof i.code === 'string' && i.code.length > 0, `issue without code: ${show}`);
  if (exp.code !== undefined) {
    const codes = typeof exp.code === 'string' ? [exp.code] : exp.code;
    assert.ok(errors.some((i) => codes.includes(i.code)), `no error issue with code ${codes.join('|')}: ${show}`);
  }
  if (exp.expression !== undefined) {
    const where = errors.flatMap((i) => [...(i.expression ?? []), ...(i.location ?? [])]);
    assert.ok(where.some((e) => e.includes(exp.expression as string)), `no error issue whose expression contains "${exp.expression}" (expressions: ${JSON.stringify(where)}): ${show}`);
  }
  if (exp.diagnostics !== undefined) {
    const needle = exp.diagnostics.toLowerCase();
    const texts = errors.map((i) => `${i.diagnostics ?? ''} ${i.details?.text ?? ''}`.toLowerCase());
    assert.ok(texts.some((t) => t.includes(needle)), `no error issue whose diagnostics mention "${exp.diagnostics}": ${show}`);
  }
  assert.doesNotMatch(res.text, /\n\s+at .+\(.+:\d+:\d+\)/, 'error body contains a stack trace');
  return oo;
}

/** Issue codes for a code outside its (required) value set: the 'invalid' branch or 'code-invalid'. */
export const CODE_INVALID_CODES = [...INVALID_CODES, 'code-invalid'] as const;

/** RFC 9110 §15.5.6: a 405 response MUST carry an Allow header listing the methods the target supports. */
export function assertAllowOn405(res: HttpResult, methods: string[]): void {
  if (res.status !== 405) return;
  const allow = res.headers.get('allow');
  assert.ok(allow !== null, `405 without an Allow header (RFC 9110 §15.5.6)`);
  const listed = allow.split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);
  for (const m of methods) assert.ok(listed.includes(m), `Allow "${allow}" should list ${m}`);
}

/** Asserts that a fhir-kit-client call rejects with the given HTTP status; returns the response body. */
export async function expectHttpError(promise: Promise<unknown>, status: number | number[]): Promise<any> {
  const statuses = Array.isArray(status) ? status : [status];
  try {
    const value = await promise;
    assert.fail(`expected HTTP ${statuses.join(' or ')}, but the call succeeded with ${JSON.stringify(value).slice(0, 300)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    const e = err as { response?: { status?: number; data?: unknown } };
    assert.ok(e.response, `not an HTTP error: ${String(err)}`);
    assert.ok(statuses.includes(e.response.status as number), `expected HTTP ${statuses.join(' or ')}, got ${e.response.status}: ${JSON.stringify(e.response.data).slice(0, 300)}`);
    return e.response.data;
  }
}

/** Headers of the HTTP response a fhir-kit-client result came from. */
export function responseOf(result: unknown): Response {
  const r = Client.httpFor(result as any).response;
  assert.ok(r, 'fhir-kit-client result carries no HTTP response');
  return r;
}

/** The ETag a server must send for a version. */
export const etag = (version: string | number) => `W/"${version}"`;

/** Asserts the Last-Modified header is an HTTP-date matching meta.lastUpdated to the second. */
export function assertLastModified(header: string | null, lastUpdated: string | undefined): void {
  assert.ok(header, 'Last-Modified header missing');
  assert.match(header, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/, `Last-Modified "${header}" is not an HTTP-date`);
  assert.ok(lastUpdated, 'meta.lastUpdated missing');
  const lm = Date.parse(header);
  const lu = Date.parse(lastUpdated);
  assert.ok(!Number.isNaN(lu), `meta.lastUpdated "${lastUpdated}" is not a date`);
  assert.equal(lm, Math.floor(lu / 1000) * 1000, `Last-Modified ${header} does not match meta.lastUpdated ${lastUpdated}`);
}

/** FHIR instant: a full date-time with seconds and a time zone. */
export const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** FHIR id. */
export const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Realistic French resources

/** A 13-digit NIR-shaped value (sex, year, month, department, commune, order number), unique per call. */
export function fakeNir(): string {
  const n = Math.floor(Math.random() * 1e6).toString().padStart(6, '0');
  return `1${'85'}${'07'}${'75'}${n.slice(0, 3)}${n.slice(3)}`;
}

export interface PatientOptions {
  /** Value of the test identifier (system TEST_SYSTEM); unique by default. */
  key?: string;
  family?: string;
  given?: string;
  birthDate?: string;
  gender?: Patient['gender'];
}

/** A French patient with an INS (NIR) identifier and a unique test identifier. */
export function frPatient(opts: PatientOptions = {}): Patient {
  return {
    resourceType: 'Patient',
    // A local patient identifier (IPP): an INS would be withheld from responses until the identity is
    // qualified (RNIV), which the INS tests cover on their own.
    identifier: [
      {
        use: 'usual',
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PI' }] },
        system: IPP_SYSTEM,
        value: fakeNir().slice(0, 10),
      },
      { system: TEST_SYSTEM, value: opts.key ?? uid('pat') },
    ],
    name: [{ use: 'official', family: opts.family ?? 'Martin', given: [opts.given ?? 'Camille'] }],
    gender: opts.gender ?? 'female',
    birthDate: opts.birthDate ?? '1985-07-14',
    address: [{ line: ['12 rue de la Paix'], city: 'Paris', postalCode: '75002', country: 'FRA' }],
  };
}

export function frPractitioner(rpps = `8100${Math.floor(Math.random() * 1e8).toString().padStart(8, '0')}`): Practitioner {
  return {
    resourceType: 'Practitioner',
    identifier: [
      {
        type: { coding: [{ system: 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203', code: 'IDNPS' }] },
        system: RPPS_SYSTEM,
        value: rpps,
      },
    ],
    name: [{ family: 'Durand', given: ['Louise'], prefix: ['Dr'] }],
  };
}

export function glucoseObservation(subjectRef: string, value = 5.4, encounterRef?: string): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '15074-8', display: 'Glucose [Moles/volume] in Blood' }] },
    subject: { reference: subjectRef },
    ...(encounterRef ? { encounter: { reference: encounterRef } } : {}),
    effectiveDateTime: '2024-03-01T08:30:00+01:00',
    valueQuantity: { value, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
  };
}

export function encounter(subjectRef: string): Encounter {
  return {
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
    subject: { reference: subjectRef },
    period: { start: '2024-03-01T08:00:00+01:00', end: '2024-03-01T08:45:00+01:00' },
  };
}

/** Number of matches of a search (Bundle.total, checked against the entries when all fit on a page). */
export async function countMatches(h: Http, query: string): Promise<number> {
  const res = await h.get(query);
  assert.equal(res.status, 200, `search ${query} failed: ${res.status} ${res.text.slice(0, 300)}`);
  const bundle = res.body as Bundle;
  assert.equal(bundle.resourceType, 'Bundle');
  assert.equal(bundle.type, 'searchset');
  const matches = (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include' && e.search?.mode !== 'outcome');
  assert.equal(typeof bundle.total, 'number', `searchset for ${query} has no total`);
  if ((bundle.total as number) <= 50) assert.equal(matches.length, bundle.total, `searchset ${query}: total ${bundle.total} but ${matches.length} entries`);
  return bundle.total as number;
}

/** Resources of the matches in a searchset. */
export function matchResources<T extends Resource = Resource>(bundle: Bundle): T[] {
  return (bundle.entry ?? []).filter((e: BundleEntry) => e.search?.mode !== 'include' && e.search?.mode !== 'outcome').map((e) => e.resource as T);
}

/** The test identifier search query for a key. */
export const byKey = (key: string) => `identifier=${encodeURIComponent(`${TEST_SYSTEM}|${key}`)}`;
