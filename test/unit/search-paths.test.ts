// Plain-path SearchParameter expressions are walked over the JSON instead of going through FHIRPath:
// on every example resource of the vendored implementation guides, and on a few resources with
// nested arrays, backbone elements and primitive extensions, both give the same typed values.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { evalFhirPathTyped, isPrimitiveType, parseFhirPath, toTypedValue } from '@medplum/core';
import type { Bundle, HumanName, Resource, SearchParameter } from '@medplum/fhirtypes';
import { loadBaseDefinitions, searchParametersOf } from '../../src/fhir/definitions.ts';
import { plainPaths, walkPaths } from '../../src/fhir/search/paths.ts';

loadBaseDefinitions();
const IG = join(import.meta.dirname, '../../data/ig');

/** The JSON files of the vendored packages whose path matches. */
function packaged<T>(path: RegExp): T[] {
  const out: T[] = [];
  for (const file of readdirSync(IG).filter((f) => f.endsWith('.tgz'))) {
    const names = execFileSync('tar', ['-tzf', join(IG, file)], { encoding: 'utf8' }).split('\n').filter((n) => path.test(n));
    for (const name of names) out.push(JSON.parse(execFileSync('tar', ['-xzOf', join(IG, file), name], { encoding: 'utf8' })) as T);
  }
  return out;
}

function examples(): Resource[] {
  return packaged<Resource>(/^package\/examples\/.*\.json$/).flatMap((r) => [r, ...(r.resourceType === 'Bundle' ? ((r as Bundle).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])) : [])]);
}

/** The R4 parameters of a type and those of the vendored guides (e.g. the Annuaire's relative `qualification.code`). */
const PACKAGE_PARAMETERS = packaged<SearchParameter>(/^package\/SearchParameter-.*\.json$/);
const parametersOf = (type: string): [string, SearchParameter][] => [
  ...Object.entries(searchParametersOf(type)),
  ...PACKAGE_PARAMETERS.filter((sp) => (sp.base as string[]).includes(type)).map((sp) => [`${sp.code} (${sp.url})`, sp] as [string, SearchParameter]),
];

const HAND_MADE: Resource[] = [
  {
    resourceType: 'Patient',
    name: [{ family: 'Hélène', _family: { extension: [{ url: 'urn:x', valueString: 'y' }] }, given: ['Anne', 'Marie'] } as HumanName, { given: ['Zoé'] }],
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'fr' }] } }, { language: { text: 'breton' } }],
    address: [{ city: 'Lyon', line: ['1 rue A', '2e étage'] }],
    link: [{ other: { reference: 'Patient/p2' }, type: 'seealso' }],
    gender: 'female',
    active: false,
  },
  {
    resourceType: 'Organization',
    meta: {
      extension: [
        {
          url: 'https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-data-trace',
          extension: [{ url: 'systeme-information', valueCode: 'FINESS' }, { url: 'autorite-enregistrement', valueCodeableConcept: { coding: [{ code: 'ARS-11' }] } }],
        },
      ],
    },
    extension: [
      { url: 'https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-organization-pharmacy-licence', valueString: 'L-1' },
      { url: 'https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-organization-pharmacy-licence', valueString: 'L-2' },
      { url: 'http://hl7.org/fhir/StructureDefinition/organization-period', valuePeriod: { start: '2001-02-03', end: '2030-01-01' } },
      { url: 'https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-organization-drop-zone', valueBoolean: false },
      { url: 'urn:autre', valueString: 'ignorée' },
      { url: 'https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-organization-closing-type', valueCodeableConcept: { coding: [{ code: '1' }] } },
      {
        url: 'https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-organization-price',
        extension: [
          { url: 'priceType', valueCodeableConcept: { coding: [{ code: '01' }] } },
          { url: 'amount', valueMoney: { value: 70.5, currency: 'EUR' } },
          { url: 'startDate', valueDate: '2026-01-01' },
        ],
      },
    ],
    telecom: [
      { system: 'email', value: 'a@b.fr', extension: [{ url: 'https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata', extension: [{ url: 'type', valueCodeableConcept: { coding: [{ code: 'ORG' }] } }] }] },
      { system: 'phone', value: '0102030405' },
      { value: 'sans système' },
    ],
    address: [{ city: 'Caen', extension: [{ url: 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code', valueCoding: { code: '14118' } }] }],
  },
  { resourceType: 'PractitionerRole', period: { start: '2020-01-01' }, specialty: [{ coding: [{ system: 'urn:s', code: 'SM54' }] }], practitioner: { reference: 'Practitioner/1' } },
];

/**
 * FHIRPath also returns primitives that have only extensions (`_line: [{extension…}]`, no value): no
 * index row comes from them, and the walk skips them.
 */
const typed = (values: { type: string; value: unknown }[]) =>
  values.filter((v) => !(isPrimitiveType(v.type) && typeof v.value === 'object')).map((v) => ({ type: v.type, value: v.value }));

describe('plain search parameter paths', () => {
  const corpus = [...examples(), ...HAND_MADE];

  it('reads the vendored examples', () => assert.ok(corpus.length > 60, `${corpus.length} resources`));

  it('give the values and types FHIRPath gives, on every parameter of every example', () => {
    let compared = 0;
    for (const resource of corpus) {
      for (const [code, sp] of parametersOf(resource.resourceType)) {
        const paths = sp.expression ? plainPaths(resource.resourceType, sp.expression) : undefined;
        if (!paths) continue;
        const expected = evalFhirPathTyped(parseFhirPath(sp.expression as string), [toTypedValue(resource)]);
        assert.deepEqual(typed(walkPaths(resource, paths)), typed(expected), `${resource.resourceType}.${code} (${sp.expression})`);
        compared++;
      }
    }
    assert.ok(compared > 1000, `${compared} comparisons`);
  });

  it('walk filters on a fixed value and a choice element at the end', () => {
    assert.deepEqual(plainPaths('Patient', "Patient.telecom.where(system='email')"), [{ steps: ['telecom', { where: 'system', equals: 'email' }], type: 'ContactPoint' }]);
    const [path] = plainPaths('Organization', "extension.where(url = 'urn:x').value")!;
    assert.deepEqual(path!.steps, ['extension', { where: 'url', equals: 'urn:x' }, 'value']);
    assert.equal(path!.choice?.length, 50, 'every type of Extension.value[x]');
    assert.deepEqual(plainPaths('Organization', "extension.where(url='urn:x').value.as(CodeableConcept)"), [
      { steps: ['extension', { where: 'url', equals: 'urn:x' }, 'valueCodeableConcept'], type: 'CodeableConcept' },
    ]);
    assert.deepEqual(plainPaths('Patient', 'Patient.deceased'), [{ steps: ['deceased'], type: '', choice: ['boolean', 'dateTime'] }]);
    assert.deepEqual(plainPaths('Organization', "Organization.extension.where(url='urn:x').valuePeriod.end"), [
      { steps: ['extension', { where: 'url', equals: 'urn:x' }, 'valuePeriod', 'end'], type: 'dateTime' },
    ]);
  });

  it('leave other functions, casts and choice elements before the end to FHIRPath', () => {
    assert.equal(plainPaths('Patient', "Patient.telecom.where(system='email' or use='home')"), undefined);
    assert.equal(plainPaths('Patient', "Patient.name.where(given='Anne')"), undefined, 'given repeats: not a single value');
    assert.equal(plainPaths('Observation', "Observation.extension.where(url='urn:x').value.code"), undefined, 'a choice element before the end');
    assert.equal(plainPaths('AuditEvent', 'AuditEvent.agent.who.where(resolve() is Patient)'), undefined);
    assert.equal(plainPaths('Observation', '(Observation.value as Quantity)'), undefined);
    assert.equal(plainPaths('Patient', 'Patient.nothing'), undefined, 'an unknown element');
    assert.deepEqual(plainPaths('Practitioner', 'Patient.name.family | Practitioner.name.family'), [{ steps: ['name', 'family'], type: 'string' }]);
    assert.deepEqual(plainPaths('Practitioner', 'qualification.code'), [{ steps: ['qualification', 'code'], type: 'CodeableConcept' }], 'relative to the resource');
  });
});
