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

  it('leave functions, casts and choice elements to FHIRPath', () => {
    assert.equal(plainPaths('Patient', "Patient.telecom.where(system='email')"), undefined);
    assert.equal(plainPaths('Observation', '(Observation.value as Quantity)'), undefined);
    assert.equal(plainPaths('Patient', 'Patient.deceased'), undefined, 'a choice element');
    assert.equal(plainPaths('Patient', 'Patient.nothing'), undefined, 'an unknown element');
    assert.deepEqual(plainPaths('Practitioner', 'Patient.name.family | Practitioner.name.family'), [{ steps: ['name', 'family'], type: 'string' }]);
    assert.deepEqual(plainPaths('Practitioner', 'qualification.code'), [{ steps: ['qualification', 'code'], type: 'CodeableConcept' }], 'relative to the resource');
  });
});
