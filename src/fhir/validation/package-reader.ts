// Reads an npm-style FHIR package (a `.tgz`, its unpacked `package/` folder, or that folder's parent) with Node
// built-ins only. Only the resources at the package root count: `example/`, `other/`, `openapi/`... are not
// conformance resources.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { ImplementationGuide, Resource } from '@medplum/fhirtypes';

export interface PackageContents {
  name: string;
  version: string;
  /** The resources of the package root, in file name order. */
  resources: Resource[];
}

export async function readFhirPackage(path: string): Promise<PackageContents> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new Error(`FHIR package not found: ${path}`);
  const files = info.isDirectory() ? await readFolder(path) : await readTgz(path);
  try {
    return parsePackage(files);
  } catch (err) {
    throw new Error(`Invalid FHIR package ${path}: ${(err as Error).message}`);
  }
}

/** Root-level files of the package, by name relative to `package/`. */
type PackageFiles = Map<string, Buffer>;

async function readFolder(dir: string): Promise<PackageFiles> {
  const nested = join(dir, 'package');
  const root = (await stat(nested).catch(() => undefined))?.isDirectory() ? nested : dir;
  const files: PackageFiles = new Map();
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.json')) files.set(entry.name, await readFile(join(root, entry.name)));
  }
  return files;
}

async function readTgz(path: string): Promise<PackageFiles> {
  let tar: Buffer;
  try {
    tar = await promisify(gunzip)(await readFile(path));
  } catch (err) {
    throw new Error(`Invalid FHIR package ${path}: not a gzipped tar (${(err as Error).message})`);
  }
  const files: PackageFiles = new Map();
  for (const [name, data] of untar(tar, path)) {
    const match = /^(?:\.\/)?package\/([^/]+\.json)$/.exec(name);
    if (match) files.set(match[1], data);
  }
  return files;
}

/** Regular files of a ustar archive; long names come from PAX (`x`) or GNU (`L`) headers. */
function* untar(tar: Buffer, path: string): Generator<[string, Buffer]> {
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) return; // end-of-archive marker
    const size = readSize(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] || 48); // NUL means a regular file, like '0'
    const dataStart = offset + 512;
    if (Number.isNaN(size) || dataStart + size > tar.length) throw new Error(`Invalid FHIR package ${path}: truncated tar archive`);
    const data = tar.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / 512) * 512;

    if (type === 'x') longName = paxPath(data) ?? longName;
    else if (type === 'L') longName = cString(data);
    else if (type === '0' || type === '7') {
      const prefix = cString(header.subarray(345, 500));
      const name = cString(header.subarray(0, 100));
      yield [longName ?? (prefix ? `${prefix}/${name}` : name), data];
      longName = undefined;
    } else if (type !== 'g' && type !== 'K') longName = undefined; // a skipped entry (directory, link) used it
  }
}

function readSize(field: Buffer): number {
  // Sizes over 8 GiB use GNU base-256: high bit set, big-endian binary.
  if (field[0] & 0x80) return field.subarray(1).reduce((n, b) => n * 256 + b, field[0] & 0x7f);
  return parseInt(cString(field).trim() || '0', 8);
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8');
}

/** PAX records are `<length> <key>=<value>\n`. */
function paxPath(data: Buffer): string | undefined {
  let path: string | undefined;
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    const length = parseInt(data.subarray(offset, space).toString('ascii'), 10);
    if (space < 0 || !(length > 0)) break;
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    if (record.startsWith('path=')) path = record.slice(5);
    offset += length;
  }
  return path;
}

function parsePackage(files: PackageFiles): PackageContents {
  const resources: Resource[] = [];
  for (const name of [...files.keys()].sort()) {
    if (name === 'package.json' || name.startsWith('.')) continue;
    const json = parseJson(files, name);
    if (json && typeof json === 'object' && typeof (json as Resource).resourceType === 'string') resources.push(json as Resource);
  }
  const manifest = (files.has('package.json') ? parseJson(files, 'package.json') : {}) as { name?: string; version?: string };
  // Some published IG outputs ship no manifest; their ImplementationGuide carries the same identity.
  const guide = resources.find((r): r is ImplementationGuide => r.resourceType === 'ImplementationGuide');
  const name = manifest.name ?? guide?.packageId;
  const version = manifest.version ?? guide?.version;
  if (!name || !version) throw new Error('no package.json (name, version) nor ImplementationGuide (packageId, version)');
  if (resources.length === 0) throw new Error('no FHIR resources at the package root');
  return { name, version, resources };
}

function parseJson(files: PackageFiles, name: string): unknown {
  try {
    return JSON.parse(files.get(name)!.toString('utf8'));
  } catch (err) {
    throw new Error(`${name} is not valid JSON (${(err as Error).message})`);
  }
}
