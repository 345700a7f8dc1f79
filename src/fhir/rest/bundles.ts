// searchset and history Bundles, written as JSON text around the stored resources' own text so a
// page of results is never parsed and re-serialised unless _elements or _summary asks for it.
import { getDataType } from '@medplum/core';
import type { FhirCore } from '../core.ts';
import type { HistoryPage } from '../history.ts';
import { parseFhirJson, stringifyFhir } from '../json.ts';
import type { SearchResult } from '../search/engine.ts';

export interface Projection {
  elements?: string[];
  summary?: 'true' | 'text' | 'data';
}

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

/** Applies _elements or _summary to a resource, marking it SUBSETTED as the spec asks. */
export function projectJson(json: string, projection: Projection): string {
  const resource = parseFhirJson(json) as Record<string, any>;
  const type = resource.resourceType as string;
  let keep: (key: string) => boolean;
  const mandatory = getDataType(type)?.mandatoryProperties ?? new Set<string>();
  if (projection.elements) {
    const wanted = new Set(projection.elements.map((e) => e.replace(new RegExp(`^${type}\\.`), '')));
    keep = (k) => wanted.has(k) || wanted.has(k.replace(/\[x\]$/, '')) || mandatory.has(k);
  } else if (projection.summary === 'text') {
    // text, id, meta and the top-level mandatory elements (R4 search#summary)
    keep = (k) => k === 'text' || mandatory.has(k);
  } else if (projection.summary === 'data') {
    keep = (k) => k !== 'text';
  } else {
    const summary = getDataType(type)?.summaryProperties ?? new Set<string>();
    keep = (k) => summary.has(k) || summary.has(k.replace(/\[x\]$/, ''));
  }
  const out: Record<string, any> = { resourceType: type };
  for (const [k, v] of Object.entries(resource)) {
    if (k === 'resourceType') continue;
    if (k === 'id' || k === 'meta' || keep(k) || keep(choiceBase(k, type))) out[k] = v;
  }
  out.meta = { ...(out.meta ?? {}), tag: [...(out.meta?.tag ?? []), SUBSETTED] };
  return stringifyFhir(out);
}

/** valueQuantity → value[x], the name the definitions use for choice elements. */
function choiceBase(key: string, type: string): string {
  const elements = getDataType(type)?.elements ?? {};
  for (const name of Object.keys(elements)) {
    if (name.endsWith('[x]') && key.startsWith(name.slice(0, -3))) return name;
  }
  return key;
}

/** R4's location-distance extension on a match of a search sorted by distance. */
const distance = (km: number | undefined) =>
  km === undefined
    ? ''
    : `,"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/location-distance","valueDistance":${JSON.stringify({ value: Math.round(km * 1000) / 1000, unit: 'km', system: 'http://unitsofmeasure.org', code: 'km' })}}]`;

export function searchBundle(core: FhirCore, self: string, result: SearchResult, projection?: Projection): string {
  const baseUrl = core.config.baseUrl;
  const links = [link('self', self)];
  if (result.next) links.push(link('next', withCursor(self, result.next)));
  if (result.previous) links.push(link('previous', withCursor(self, result.previous)));
  const entries: string[] = [];
  const body = (type: string, json: string) => {
    const presented = core.present(type, json);
    return projection ? projectJson(presented, projection) : presented;
  };
  for (const m of result.matches) entries.push(entry(baseUrl, m.resourceType, m.id, body(m.resourceType, m.json), `"search":{"mode":"match"${distance(m.distanceKm)}}`));
  for (const i of result.included) entries.push(entry(baseUrl, i.resourceType, i.id, core.present(i.resourceType, i.json), '"search":{"mode":"include"}'));
  if (result.warnings.length > 0) {
    const oo = { resourceType: 'OperationOutcome', issue: result.warnings.map((diagnostics) => ({ severity: 'warning', code: 'not-supported', diagnostics })) };
    entries.push(`{"resource":${JSON.stringify(oo)},"search":{"mode":"outcome"}}`);
  }
  const total = result.total === undefined ? '' : `,"total":${result.total}`;
  return `{"resourceType":"Bundle","type":"searchset"${total},"link":[${links.join(',')}]${entries.length ? `,"entry":[${entries.join(',')}]` : ''}}`;
}

export function historyBundle(core: FhirCore, self: string, page: HistoryPage): string {
  const baseUrl = core.config.baseUrl;
  const links = [link('self', self)];
  if (page.next) links.push(link('next', withCursor(self, page.next)));
  const entries = page.entries.map((e) => {
    const fullUrl = `${baseUrl}/fhir/${e.resourceType}/${e.id}`;
    const status = e.deleted ? '204 No Content' : e.versionId === 1 ? '201 Created' : '200 OK';
    const url = e.method === 'POST' ? e.resourceType : `${e.resourceType}/${e.id}`;
    const request = JSON.stringify({ method: e.deleted ? 'DELETE' : e.method === 'PATCH' ? 'PATCH' : e.method, url });
    const response = JSON.stringify({ status, etag: `W/"${e.versionId}"`, lastModified: e.lastUpdated });
    return `{"fullUrl":${JSON.stringify(fullUrl)}${e.deleted ? '' : `,"resource":${core.present(e.resourceType, e.json)}`},"request":${request},"response":${response}}`;
  });
  return `{"resourceType":"Bundle","type":"history","link":[${links.join(',')}]${entries.length ? `,"entry":[${entries.join(',')}]` : ''}}`;
}

const link = (relation: string, url: string) => JSON.stringify({ relation, url });

function entry(baseUrl: string, type: string, id: string, json: string, extra: string): string {
  return `{"fullUrl":${JSON.stringify(`${baseUrl}/fhir/${type}/${id}`)},"resource":${json},${extra}}`;
}

function withCursor(self: string, cursor: string): string {
  const url = new URL(self);
  url.searchParams.set('_cursor', cursor);
  return url.toString();
}
