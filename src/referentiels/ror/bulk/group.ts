// Group-level $export (Bulk Data Access 2.0, GET /fhir/Group/{id}/$export): what the active members
// of a Group (Group.member.entity, members flagged inactive left out) bring into an export. Patient
// members bring themselves and their compartments, as Patient/$export does; members of other types
// (ROR: the EJ and EG of a GHT) bring themselves and the resources that reference them. A member that
// is itself a Group (the GHTs of a region) stands for its own active members.
import type { Group } from '@medplum/fhirtypes';
import { patientCompartmentParams } from '../../../fhir/compartment.ts';
import { isStoredResourceType, searchParametersOf, storedResourceTypes } from '../../../fhir/definitions.ts';
import { FhirError } from '../../../fhir/outcome.ts';
import { ID_RE } from '../../../fhir/repository.ts';
import type { QueryParams } from '../../../fhir/search/engine.ts';

/** Ids of the active members, by resource type. */
export type Members = Map<string, string[]>;

/** Member ids per search: a comma-separated list of references stays well under URL and SQL limits. */
const CHUNK = 100;

/**
 * The Group an export job belongs to, from its kick-off URL (GET [base]/Group/{id}/$export): the
 * job keeps the request it answers, which names the Group.
 */
export function groupOfRequest(request: string): string | undefined {
  return /\/Group\/([^/]+)\/\$export$/.exec(new URL(request).pathname)?.[1];
}

/** Reads a nested Group; undefined when it is gone (deleted), so that it contributes no member. */
export type GroupReader = (id: string) => Promise<Group | undefined>;

/** A GroupReader from a read that throws: a Group unknown or deleted (404, 410) is skipped, a refusal is not. */
export const skippingGone =
  (read: (id: string) => Promise<Group>): GroupReader =>
  (id) =>
    read(id).catch((err: unknown) => (err instanceof FhirError && (err.status === 404 || err.status === 410) ? undefined : Promise.reject(err)));

/**
 * The active members that are resources of this server ("Type/id", or absolute under its base), nested
 * Groups replaced by their own active members, at any depth (each Group read once: a cycle ends).
 */
export async function activeMembers(group: Group, base: string, readGroup: GroupReader): Promise<Members> {
  const members: Members = new Map();
  const seen = new Set<string>(group.id ? [group.id] : []);
  const pending = [group];
  for (let current = pending.pop(); current; current = pending.pop()) {
    for (const member of current.member ?? []) {
      if (member.inactive) continue;
      const reference = member.entity?.reference ?? '';
      const [type, id, ...rest] = (reference.startsWith(`${base}/`) ? reference.slice(base.length + 1) : reference).split('/');
      // Contained (#), logical (identifier only) and foreign references name nothing stored here.
      if (rest.length > 0 || !id || !ID_RE.test(id) || !isStoredResourceType(type)) continue;
      if (type === 'Group') {
        if (seen.has(id)) continue;
        seen.add(id);
        const nested = await readGroup(id);
        if (nested) pending.push(nested);
        continue;
      }
      const ids = members.get(type) ?? [];
      if (!ids.includes(id)) ids.push(id);
      members.set(type, ids);
    }
  }
  return members;
}

/** The search parameters of a type by which its resources point at members of memberType. */
function linkingParams(type: string, memberType: string): string[] {
  if (memberType === 'Patient') return patientCompartmentParams(type).filter((p) => searchParametersOf(type)[p]?.type === 'reference');
  return Object.entries(searchParametersOf(type))
    .filter(([code, sp]) => !code.startsWith('_') && sp.type === 'reference' && ((sp.target ?? []) as string[]).includes(memberType))
    .map(([code]) => code);
}

/** The types a Group export covers: the members' own types and every type that can point at them. */
export function groupScope(members: Members): string[] {
  const memberTypes = [...members.keys()];
  return storedResourceTypes().filter((type) => memberTypes.some((m) => m === type || linkingParams(type, m).length > 0));
}

/** The searches that together find a type's resources in the Group export (their results may overlap). */
export function groupQueries(members: Members, type: string): QueryParams[] {
  const queries: QueryParams[] = [];
  for (const [memberType, ids] of members) {
    const params = linkingParams(type, memberType);
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      if (type === memberType) queries.push({ _id: chunk.join(',') });
      for (const param of params) queries.push({ [param]: chunk.map((id) => `${memberType}/${id}`).join(',') });
    }
  }
  return queries;
}
