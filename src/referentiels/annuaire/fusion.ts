// One Organization per structure, whichever file comes first. The national directory has one
// Organization per structure, identified by its idNatStruct: a site with a FINESS établissement number is
// "1" + that number, whether the FINESS extract or an RPPS activity line names it. So both importers write
// the same resource (eg-<FINESS>), and each keeps its own part of it with its key (annuaire_source_key.content).
// The resource is the merge of the active parts:
// - the FINESS part is the base when there is one (name, address, position, category, legal entity): the
//   RPPS never overwrites it; without it, the RPPS part is (the RPPS alone knows the structure);
// - the other parts add what the base lacks: their identifiers (RPPS technical id, SIRET, SIREN; the
//   idNatSt stays the base's) and their Organization.type slices (the RPPS activity sector).
// A source that no longer lists the structure takes its part away; the resource stays active while another
// source still lists it.
import type { CodeableConcept, Organization, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import type { FhirCore } from '../../fhir/core.ts';
import { EXT, SYSTEMES } from './profils.ts';

export interface Part {
  source: string;
  cle: string;
  resource: Organization & { id: string };
}

/** The FINESS part first, then the others in a stable order. */
const ordre = (x: Part, y: Part) => Number(y.source === 'finess-eg') - Number(x.source === 'finess-eg') || x.source.localeCompare(y.source) || x.cle.localeCompare(y.cle);

/** Organization.type slice of a CodeableConcept: the as-ext-organization-types code, or its code system. */
const tranche = (t: CodeableConcept) => t.extension?.find((e) => e.url === EXT.organizationTypes)?.valueCode ?? t.coding?.[0]?.system;

export function fusionner(parts: Part[]): Organization & { id: string } {
  const [base, ...autres] = [...parts].sort(ordre);
  const r = structuredClone(base!.resource);
  for (const p of autres) {
    for (const id of p.resource.identifier ?? []) {
      const ids = (r.identifier ??= []);
      const dejaLa = ids.some((i) => i.system === id.system && (i.value === id.value || id.system === SYSTEMES.idNatSt));
      if (!dejaLa) ids.push(id);
    }
    for (const t of p.resource.type ?? []) {
      const types = (r.type ??= []);
      if (!types.some((x) => tranche(x) === tranche(t))) types.push(t);
    }
  }
  return r;
}

export interface Parts {
  /** Active parts by resource id. */
  parts: Map<string, Map<string, Part>>;
  /** Resources some source has written already (their parts may all be inactive now). */
  existants: Set<string>;
}

/** The stored parts of these shared resources. */
export async function partsStockees(tx: Queryable, ids: string[]): Promise<Parts> {
  const { rows } = await tx.query<{ source: string; business_key: string; resource_id: string; content: string; active: boolean }>(
    'SELECT source, business_key, resource_id, content, active FROM annuaire_source_key WHERE resource_id = ANY($1::text[]) AND content IS NOT NULL',
    [ids],
  );
  const parts = new Map<string, Map<string, Part>>();
  const existants = new Set<string>();
  for (const r of rows) {
    existants.add(r.resource_id);
    if (!r.active) continue;
    const deLaRessource = parts.get(r.resource_id) ?? new Map<string, Part>();
    deLaRessource.set(clePart(r.source, r.business_key), { source: r.source, cle: r.business_key, resource: JSON.parse(r.content) });
    parts.set(r.resource_id, deLaRessource);
  }
  return { parts, existants };
}

export const clePart = (source: string, cle: string) => `${source}\u0001${cle}`;

/** Sorted keys, no meta bookkeeping: two versions with the same content compare equal. */
export function contenu(r: Resource): string {
  const { meta, ...reste } = r;
  const trie = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(trie) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, trie(x)])) : v;
  return JSON.stringify(trie({ ...reste, meta: { profile: meta?.profile, source: meta?.source, extension: meta?.extension } }));
}

/**
 * Writes each shared resource as the merge of its parts: created when no source wrote it yet, updated
 * when the merge differs from what is stored. Returns, per resource id, what happened.
 */
export async function ecrireFusions(
  core: FhirCore,
  tx: Queryable,
  fusions: Map<string, { parts: Part[]; existe: boolean }>,
  nouveaux: Resource[],
): Promise<Map<string, 'cree' | 'modifie' | 'inchange' | 'desactive'>> {
  const issues = new Map<string, 'cree' | 'modifie' | 'inchange' | 'desactive'>();
  for (const [id, { parts, existe }] of fusions) {
    if (parts.length === 0) {
      // No source lists the structure any more.
      const courant = JSON.parse((await core.read('Organization', id, tx)).json) as Organization & { id: string };
      await core.update('Organization', id, { ...courant, meta: sansSuivi(courant.meta), active: false }, {}, tx);
      issues.set(id, 'desactive');
      continue;
    }
    const fusion = fusionner(parts);
    if (!existe) {
      nouveaux.push(fusion);
      issues.set(id, 'cree');
      continue;
    }
    const courant = JSON.parse((await core.read('Organization', id, tx)).json) as Resource;
    if (contenu(courant) === contenu(fusion)) issues.set(id, 'inchange');
    else {
      await core.update('Organization', id, fusion, {}, tx);
      issues.set(id, 'modifie');
    }
  }
  return issues;
}

/** The meta an importer writes (no version, no timestamp). */
export const sansSuivi = (meta: Resource['meta']): Resource['meta'] => ({ profile: meta?.profile, source: meta?.source, extension: meta?.extension });
