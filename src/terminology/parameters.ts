// Reading the coded inputs of terminology operations (code + system, coding, codeableConcept) and
// writing their Parameters outputs.
import type { CodeableConcept, Coding, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { OperationParams } from '../fhir/operations.ts';
import { badRequest } from '../fhir/outcome.ts';

export interface CodeInput {
  system?: string;
  version?: string;
  code: string;
  display?: string;
}

/**
 * The codings an operation is asked about: `code` (+ `system`, `version`, `display`), or `coding`, or
 * every coding of `codeableConcept`. `names` renames the inputs ($subsumes: codeA, codingA).
 */
export function codeInputs(params: OperationParams, names = { code: 'code', coding: 'coding', system: 'system', version: 'version' }): CodeInput[] {
  const code = params.string(names.code);
  const coding = params.object<Coding>(names.coding);
  const concept = params.object<CodeableConcept>('codeableConcept');
  const given = [code !== undefined, coding !== undefined, concept !== undefined].filter(Boolean).length;
  if (given === 0) throw badRequest(`Give "${names.code}" (with "${names.system}"), "${names.coding}" or "codeableConcept"`);
  if (given > 1) throw badRequest(`Give only one of "${names.code}", "${names.coding}" and "codeableConcept"`);
  if (code !== undefined) {
    if (!code) throw badRequest(`The input parameter "${names.code}" is empty`);
    return [{ code, system: params.string(names.system), version: params.string(names.version), display: params.string('display') }];
  }
  const codings = coding ? [coding] : (concept?.coding ?? []);
  const inputs = codings.filter((c) => typeof c.code === 'string' && c.code).map((c) => ({ code: c.code as string, system: c.system, version: c.version, display: c.display }));
  if (!inputs.length) throw badRequest(coding ? `The "${names.coding}" has no code` : 'The "codeableConcept" has no coding with a code');
  return inputs;
}

type Param = ParametersParameter | undefined;

export function parameters(parameter: Param[]): Parameters {
  return { resourceType: 'Parameters', parameter: present(parameter) };
}

/** A parameter made of parts, absent parts dropped. */
export const group = (name: string, parts: Param[]): ParametersParameter => ({ name, part: present(parts) });

const present = (list: Param[]) => list.filter((p): p is ParametersParameter => p !== undefined);

/** One output parameter, or undefined when the value is absent. */
export const out = {
  string: (name: string, value: string | undefined): Param => (value === undefined ? undefined : { name, valueString: value }),
  boolean: (name: string, value: boolean): Param => ({ name, valueBoolean: value }),
  code: (name: string, value: string | undefined): Param => (value === undefined ? undefined : { name, valueCode: value }),
  uri: (name: string, value: string): Param => ({ name, valueUri: value }),
  coding: (name: string, value: Coding | undefined): Param => (value === undefined ? undefined : { name, valueCoding: value }),
};

/** "url|version" (or the url alone), as messages name a code system version. */
export const canonical = (url: string, version?: string) => (version ? `${url}|${version}` : url);

/** Non-negative integer input (offset, count). */
export function intInput(params: OperationParams, name: string): number | undefined {
  const raw = params.string(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`The input parameter "${name}" must be a non-negative integer, got "${raw}"`);
  return n;
}
