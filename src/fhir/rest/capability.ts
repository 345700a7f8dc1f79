// The CapabilityStatement states exactly what this server does: it is generated from the same
// definitions the store and the search engine use.
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import type { FhirCore } from '../core.ts';
import { searchParametersOf, storedResourceTypes } from '../definitions.ts';
import { kindOf } from '../search/indexer.ts';
import { isTextIndexed } from '../search/text.ts';

const cache = new WeakMap<FhirCore, string>();

export function capabilityStatement(core: FhirCore): string {
  let json = cache.get(core);
  if (!json) {
    json = JSON.stringify(build(core));
    cache.set(core, json);
  }
  return json;
}

function build(core: FhirCore): CapabilityStatement {
  const profiles = core.validator.knownProfiles();
  const profileTypes = core.validator.profileTypes();
  const resources = storedResourceTypes().map((type) => ({
    type,
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    supportedProfile: profiles.filter((p) => profileTypes.get(p) === type),
    interaction: ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'].map((code) => ({ code })) as CapabilityStatementRestResource['interaction'],
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: core.config.allowCreateOnUpdate,
    conditionalCreate: true,
    conditionalRead: 'not-match',
    conditionalUpdate: true,
    conditionalDelete: 'single',
    searchInclude: ['*'],
    searchRevInclude: ['*'],
    searchParam: [
      { name: '_id', type: 'token' },
      { name: '_lastUpdated', type: 'date' },
      ...(isTextIndexed(type)
        ? [
            { name: '_content', definition: 'http://hl7.org/fhir/SearchParameter/Resource-content', type: 'string' },
            { name: '_text', definition: 'http://hl7.org/fhir/SearchParameter/DomainResource-text', type: 'string' },
          ]
        : []),
      { name: '_filter', type: 'special' },
      ...Object.entries(searchParametersOf(type))
        .filter(([code, sp]) => code !== '_id' && code !== '_lastUpdated' && code !== '_compartment' && kindOf(sp))
        .map(([code, sp]) => ({ name: code, definition: sp.url, type: sp.type })),
    ],
  })) as CapabilityStatementRestResource[];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Socle', version: '0.1.0' },
    implementation: { description: 'Socle FHIR R4 server', url: `${core.config.baseUrl}/fhir` },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        resource: resources,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        searchParam: [
          { name: '_count', type: 'number' },
          { name: '_sort', type: 'string' },
          { name: '_total', type: 'token' },
          { name: '_elements', type: 'string' },
          { name: '_summary', type: 'token' },
          { name: '_include', type: 'special' },
          { name: '_revinclude', type: 'special' },
        ],
      },
    ],
  };
}
