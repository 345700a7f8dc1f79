// Loads CodeSystems, ValueSets and ConceptMaps through the core (so they are validated and indexed
// like any write): from FHIR packages, folders of JSON files, Bundles, and the shipped nomenclatures.
// Idempotent: a resource whose url, version and content are already stored is left alone, so a
// restart costs one indexed search per resource.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { FhirCore } from '../fhir/core.ts';
import { FhirError } from '../fhir/outcome.ts';
import { ID_RE } from '../fhir/repository.ts';
import { readFhirPackage } from '../fhir/validation/package-reader.ts';

const TERMINOLOGY_TYPES = ['CodeSystem', 'ValueSet', 'ConceptMap'];
/** Tag carrying the hash of the loaded content: an unchanged resource is recognised by one search. */
const SOURCE_TAG = 'urn:socle:terminology-source';

export interface LoadReport {
  created: number;
  updated: number;
  unchanged: number;
  /** Resources of other types, or without url, that were not loaded. */
  skipped: number;
  byType: Record<string, number>;
  /** One line per resource that failed validation or indexing; the others are loaded. */
  errors: string[];
}

type TerminologyResource = Resource & { url?: string; version?: string };

/** The resources of a package (.tgz or folder with package.json), a folder of JSON files, a Bundle or a resource file. */
export async function readTerminologySource(path: string): Promise<Resource[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new Error(`No such file or folder: ${path}`);
  if (info.isFile() && /\.(tgz|tar\.gz)$/.test(path)) return (await readFhirPackage(path)).resources;
  if (info.isDirectory()) {
    const isPackage = await stat(join(path, 'package.json')).then(() => true, () => stat(join(path, 'package', 'package.json')).then(() => true, () => false));
    if (isPackage) return (await readFhirPackage(path)).resources;
    const entries = await readdir(path, { withFileTypes: true, recursive: true });
    const files = entries.filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => join(e.parentPath ?? path, e.name)).sort();
    return (await Promise.all(files.map(readJsonResources))).flat();
  }
  return readJsonResources(path);
}

async function readJsonResources(file: string): Promise<Resource[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message})`);
  }
  const resource = json as Resource;
  if (typeof resource?.resourceType !== 'string') return [];
  if (resource.resourceType === 'Bundle') return ((resource as Bundle).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  return [resource];
}

/** Creates or updates each terminology resource; one transaction per resource. */
export async function loadTerminology(core: FhirCore, resources: Resource[], onProgress?: (done: number, total: number) => void): Promise<LoadReport> {
  const report: LoadReport = { created: 0, updated: 0, unchanged: 0, skipped: 0, byType: {}, errors: [] };
  const wanted = resources.filter((r): r is TerminologyResource => TERMINOLOGY_TYPES.includes(r.resourceType) && typeof (r as TerminologyResource).url === 'string');
  report.skipped = resources.length - wanted.length;
  for (const [i, resource] of wanted.entries()) {
    try {
      const outcome = await loadOne(core, resource);
      report[outcome]++;
      report.byType[resource.resourceType] = (report.byType[resource.resourceType] ?? 0) + 1;
    } catch (err) {
      const why = err instanceof FhirError ? err.issues.map((issue) => issue.diagnostics).join('; ') : (err as Error).message;
      report.errors.push(`${resource.resourceType} ${resource.url}${resource.version ? `|${resource.version}` : ''}: ${why}`);
    }
    onProgress?.(i + 1, wanted.length);
  }
  return report;
}

async function loadOne(core: FhirCore, resource: TerminologyResource): Promise<'created' | 'updated' | 'unchanged'> {
  const type = resource.resourceType;
  const { id: fileId, meta, ...content } = resource;
  const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32);
  const identity = { url: resource.url as string, ...(resource.version ? { version: resource.version } : { 'version:missing': 'true' }) };
  if ((await core.matchIds(type, { ...identity, _tag: `${SOURCE_TAG}|${hash}` })).length) return 'unchanged';
  const tagged = {
    ...content,
    meta: { ...meta, tag: [...(meta?.tag ?? []).filter((t) => t.system !== SOURCE_TAG), { system: SOURCE_TAG, code: hash }] },
  } as Resource;
  const [existing] = await core.matchIds(type, identity);
  if (existing) {
    await core.update(type, existing, { ...tagged, id: existing });
    return 'updated';
  }
  await core.create(tagged, { type, assignedId: await freeId(core, type, fileId, resource.version) });
  return 'created';
}

/** The file's id when no resource has it yet (then id-version), so shipped resources have readable ids. */
async function freeId(core: FhirCore, type: string, id: string | undefined, version: string | undefined): Promise<string | undefined> {
  for (const candidate of [id, id && version ? `${id}-${version}` : undefined]) {
    if (!candidate || !ID_RE.test(candidate)) continue;
    const taken = await core.read(type, candidate).then(
      () => true,
      (err: FhirError) => err.status !== 404,
    );
    if (!taken) return candidate;
  }
  return undefined;
}
