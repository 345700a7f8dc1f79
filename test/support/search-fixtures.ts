// Shared helpers of the black-box search suite (test/search/*.test.ts): loading a file's fixtures in
// one transaction Bundle with readable, client-chosen ids, and reading searchset Bundles back as
// sorted id lists so that each test can compare the EXACT hit set with the one expected.
import assert from 'node:assert/strict';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Http, HttpResult } from './fhir-client.ts';

/** A fixture: a resource with the id it is stored under (PUT, create-on-update). */
export type Fixture = Resource & { id: string };

/**
 * Stores the fixtures with one transaction Bundle of PUT entries, so that ids are the readable ones
 * chosen in the test file and references between fixtures are plain "Type/id".
 */
export async function loadFixtures(h: Http, fixtures: Fixture[]): Promise<void> {
  const ids = new Set<string>();
  for (const f of fixtures) {
    const key = `${f.resourceType}/${f.id}`;
    assert.ok(!ids.has(key), `fixture ${key} is defined twice`);
    ids.add(key);
  }
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: fixtures.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } })),
  };
  const res = await h.post('', bundle);
  assert.equal(res.status, 200, `fixture transaction failed: ${res.status} ${res.text.slice(0, 1500)}`);
  const out = res.body as Bundle;
  assert.equal(out.type, 'transaction-response');
  assert.equal(out.entry?.length, fixtures.length, 'one response entry per fixture');
  for (const [i, e] of (out.entry ?? []).entries()) {
    assert.match(e.response?.status ?? '', /^20[01]/, `fixture ${fixtures[i].resourceType}/${fixtures[i].id}: ${JSON.stringify(e.response)}`);
  }
}

/** Relative path or absolute URL of a search, GET. Asserts a 200 searchset Bundle. */
export async function searchset(h: Http, query: string, headers?: Record<string, string>): Promise<Bundle> {
  const res = await h.get(query, headers);
  return assertSearchset(res, `GET ${query}`);
}

/** POST [type]/_search with a form-encoded body. */
export async function searchsetPost(h: Http, type: string, form: string, headers?: Record<string, string>): Promise<Bundle> {
  const res = await h.post(`${type}/_search`, form, headers, 'application/x-www-form-urlencoded');
  return assertSearchset(res, `POST ${type}/_search ${form}`);
}

export function assertSearchset(res: HttpResult, what: string): Bundle {
  assert.equal(res.status, 200, `${what}: expected 200, got ${res.status} ${res.text.slice(0, 800)}`);
  const b = res.body as Bundle;
  assert.equal(b?.resourceType, 'Bundle', `${what}: not a Bundle: ${res.text.slice(0, 300)}`);
  assert.equal(b.type, 'searchset', `${what}: Bundle.type ${b.type}`);
  return b;
}

export const isMatch = (e: BundleEntry) => e.search?.mode === 'match' || e.search?.mode === undefined;
export const isInclude = (e: BundleEntry) => e.search?.mode === 'include';
export const isOutcome = (e: BundleEntry) => e.search?.mode === 'outcome' || e.resource?.resourceType === 'OperationOutcome';

/** "Type/id" of the entries of a Bundle, in Bundle order. */
export function refsOf(entries: BundleEntry[]): string[] {
  return entries.map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
}

/** Ids of the matches of one page, in Bundle order. */
export function pageIds(b: Bundle): string[] {
  return (b.entry ?? []).filter((e) => isMatch(e) && !isOutcome(e)).map((e) => e.resource?.id as string);
}

/** "Type/id" of the included resources of one page, sorted. */
export function includedRefs(b: Bundle): string[] {
  return refsOf((b.entry ?? []).filter(isInclude)).sort();
}

/** The warning/information OperationOutcome issues of a searchset (entries with search.mode=outcome). */
export function outcomeIssues(b: Bundle): NonNullable<OperationOutcome['issue']> {
  return (b.entry ?? []).filter(isOutcome).flatMap((e) => (e.resource as OperationOutcome).issue ?? []);
}

export function linkOf(b: Bundle, relation: string): string | undefined {
  return b.link?.find((l) => l.relation === relation)?.url;
}

/**
 * Sorted ids of every match of a search, following next links (at most maxPages pages). Asserts
 * that no id is returned twice. The fixtures of each file are small (< 50 per query), so most
 * searches have a single page.
 */
export async function ids(h: Http, query: string, headers?: Record<string, string>, maxPages = 20): Promise<string[]> {
  const all: string[] = [];
  let b = await searchset(h, query, headers);
  for (let page = 1; ; page++) {
    all.push(...pageIds(b));
    const next = linkOf(b, 'next');
    if (!next || page >= maxPages) break;
    b = await searchset(h, next, headers);
  }
  const sorted = [...all].sort();
  for (let i = 1; i < sorted.length; i++) assert.notEqual(sorted[i], sorted[i - 1], `${query}: ${sorted[i]} returned twice`);
  return sorted;
}

/** Same as ids() for POST [type]/_search (single page). */
export async function idsPost(h: Http, type: string, form: string, headers?: Record<string, string>): Promise<string[]> {
  return pageIds(await searchsetPost(h, type, form, headers)).sort();
}

/** Asserts the exact hit set of a search (order ignored). */
export async function expectIds(h: Http, query: string, expected: string[], headers?: Record<string, string>): Promise<void> {
  const got = await ids(h, query, headers);
  assert.deepEqual(got, [...expected].sort(), `${query}\n  expected ${JSON.stringify([...expected].sort())}\n  got      ${JSON.stringify(got)}`);
}

/** URL-encodes a value for a query string (keeps it readable in messages otherwise). */
export const q = (v: string) => encodeURIComponent(v);
