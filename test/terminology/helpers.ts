// Shared by the terminology tests: canonical URLs of the shipped nomenclatures, a test code system
// with a hierarchy, and readers for Parameters answers.
import assert from 'node:assert/strict';
import type { CodeSystem, Parameters, ParametersParameter } from '@medplum/fhirtypes';

export const NOS = 'https://mos.esante.gouv.fr/NOS';
const nos = (id: string) => `${NOS}/${id.replace('-', '_')}/FHIR/${id}`;
export const G15 = nos('TRE-G15-ProfessionSante');
export const R38 = nos('TRE-R38-SpecialiteOrdinale');
export const G08 = nos('TRE-G08-TypeIdentifiantPersonne');
export const R314 = nos('TRE-R314-TypeCreneau');
export const J106 = nos('JDV-J106-EnsembleProfession-RASS');
export const J107 = nos('JDV-J107-EnsembleSavoirFaire-RASS');
export const J108 = nos('JDV-J108-EnsembleFonction-RASS');
export const J165 = nos('JDV-J165-TypeCreneau-SAS');
export const J17 = nos('JDV-J17-ActiviteOperationnelle-ROR');
export const J07 = nos('JDV-J07-XdsTypeCode-CISIS');
export const COMMUNES = nos('TRE-R13-Commune');
export const SAS_TYPE_CONSULTATION = 'https://interop.esante.gouv.fr/ig/fhir/sas/ValueSet/sas-valueset-typeconsultation';

export const q = (params: Record<string, string | number | boolean>) =>
  Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');

/** The first value of each output parameter (and all values under `all`). */
export function read(p: Parameters): Record<string, unknown> & { all: (name: string) => ParametersParameter[] } {
  assert.equal(p?.resourceType, 'Parameters', `expected Parameters, got ${JSON.stringify(p).slice(0, 300)}`);
  const out: Record<string, unknown> = {};
  for (const param of p.parameter ?? []) {
    if (param.name in out) continue;
    const key = Object.keys(param).find((k) => k.startsWith('value'));
    out[param.name] = key ? (param as unknown as Record<string, unknown>)[key] : param.part;
  }
  return Object.assign(out, { all: (name: string) => (p.parameter ?? []).filter((x) => x.name === name) });
}

/** A property part's value from a $lookup answer. */
export function lookupProperty(p: Parameters, code: string): unknown[] {
  return (p.parameter ?? [])
    .filter((x) => x.name === 'property' && x.part?.some((part) => part.name === 'code' && part.valueCode === code))
    .map((x) => {
      const value = x.part?.find((part) => part.name === 'value') as unknown as Record<string, unknown>;
      return value[Object.keys(value).find((k) => k.startsWith('value')) as string];
    });
}

/** A test code system: body parts with a hierarchy, one retired code, in two versions. */
export function anatomy(url: string, version: string, extra: CodeSystem['concept'] = []): CodeSystem {
  return {
    resourceType: 'CodeSystem',
    url,
    version,
    name: 'TestAnatomy',
    title: 'Anatomie de test',
    status: 'active',
    content: 'complete',
    caseSensitive: true,
    hierarchyMeaning: 'is-a',
    property: [
      { code: 'status', uri: 'http://hl7.org/fhir/concept-properties#status', type: 'code' },
      { code: 'organe', type: 'string' },
    ],
    concept: [
      {
        code: 'corps',
        display: 'Corps humain',
        concept: [
          {
            code: 'coeur',
            display: 'Cœur',
            designation: [{ language: 'fr-FR', value: 'Myocarde' }],
            property: [{ code: 'organe', valueString: 'oui' }],
            concept: [
              { code: 'ventricule-gauche', display: 'Ventricule gauche', property: [{ code: 'organe', valueString: 'non' }] },
              { code: 'ventricule-droit', display: 'Ventricule droit' },
            ],
          },
          { code: 'poumon', display: 'Poumon', property: [{ code: 'organe', valueString: 'oui' }] },
          { code: 'rate-accessoire', display: 'Rate accessoire', property: [{ code: 'status', valueCode: 'retired' }] },
          ...extra,
        ],
      },
    ],
  };
}
