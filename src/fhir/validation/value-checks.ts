// Checks of element values that @medplum/core 4.5's validateResource does not make:
// - required and extensible bindings: it checks none (its slice matcher even accepts any value for one);
//   a code outside an extensible binding is a warning, outside a required one an error;
// - one value per choice element: it only warns, and validates one of them;
// - the 32-bit range of integers: it checks integer-ness only;
// - empty arrays: it reads them as absent.
// The walk follows the resource's JSON, guided by a per-type plan of the elements that need a check or can
// contain one, so a write costs a few map lookups.
import { capitalize, isPrimitiveType, tryGetDataType } from '@medplum/core';
import type { InternalSchemaElement, InternalTypeSchema } from '@medplum/core';
import type { CodeableConcept, Coding, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Expansion, Terminology } from './terminology.ts';

/** Types whose value a required binding constrains: `code` directly, the others through system + code. */
export const BINDABLE = new Set(['code', 'Coding', 'CodeableConcept', 'Quantity']);
const INTEGER_MIN: Record<string, number> = { integer: -2147483648, unsignedInt: 0, positiveInt: 1 };
const INTEGER_MAX = 2147483647;
/** Allowed codes are listed in the message when there are this few. */
const LISTED_CODES = 12;

interface PlanEntry {
  /** JSON property names leading to the element: `gender`, or `meta`, `security` for a profile's `meta.security`. */
  parents: string[];
  /** FHIRPath name of the element: `gender`, `value` for `value[x]`. */
  name: string;
  /** The JSON names the element takes (several for a choice `value[x]`), with their FHIR type and FHIRPath. */
  forms: { json: string; type: string; fhirPath: string }[];
  /** ValueSet URL of a required or extensible binding (checked when the ValueSet can be expanded here). */
  valueSet?: string;
  extensible?: boolean;
  /** Types of the element worth descending into. */
  descend: Set<string>;
}

type Plan = PlanEntry[];

/** Checks a resource against the base R4 types, or against one profile (its root and inner types only). */
export class ValueChecker {
  private readonly plans = new Map<InternalTypeSchema, Plan>();
  private readonly planning = new Set<InternalTypeSchema>();
  /** A profile's BackboneElement types, which override the base ones. */
  private readonly innerTypes: Map<string, InternalTypeSchema>;

  constructor(
    private readonly terminology: Terminology,
    /** Without it, the base pass. With it, only the profile's own schemas: the base pass has done the rest. */
    private readonly profile?: InternalTypeSchema,
  ) {
    this.innerTypes = new Map((profile?.innerTypes ?? []).map((inner) => [inner.name, inner]));
  }

  check(resource: { resourceType: string }): OperationOutcomeIssue[] {
    const root = this.profile ?? tryGetDataType(resource.resourceType);
    const issues: OperationOutcomeIssue[] = [];
    if (root) this.walk(resource as Record<string, unknown>, this.planOf(root), resource.resourceType, issues);
    if (!this.profile) findEmptyArrays(resource, resource.resourceType, issues);
    return issues;
  }

  private planOf(schema: InternalTypeSchema): Plan {
    let plan = this.plans.get(schema);
    if (plan) return plan;
    plan = [];
    // A recursive type (Extension.extension) meets its own plan unfinished: it is walked, never looped on.
    this.plans.set(schema, plan);
    this.planning.add(schema);
    for (const [key, element] of Object.entries(schema.elements)) {
      const entry = this.planEntry(key, element);
      if (entry) plan.push(entry);
    }
    this.planning.delete(schema);
    return plan;
  }

  private planEntry(key: string, element: InternalSchemaElement): PlanEntry | undefined {
    const parents = key.split('.');
    const last = parents.pop() as string;
    const types = element.type.map((t) => t.code);
    const choice = last.endsWith('[x]');
    const name = choice ? last.slice(0, -3) : last;
    const forms = (choice ? types : types.slice(0, 1)).map((type) => ({
      json: choice ? name + capitalize(type) : name,
      type,
      fhirPath: choice ? `${name}.ofType(${type})` : name,
    }));
    const binding = element.binding;
    // Not filtered on the ValueSets known now: the terminology module adds ValueSets after plans are made.
    const checkedStrength = binding?.strength === 'required' || binding?.strength === 'extensible';
    const valueSet = checkedStrength && binding?.valueSet && types.some((t) => BINDABLE.has(t)) ? binding.valueSet : undefined;
    const extensible = binding?.strength === 'extensible';
    const descend = new Set(types.filter((type) => this.isWorthDescending(type)));
    // Choice and integer rules are the same in a profile: the base pass checks them.
    const checked = valueSet || (!this.profile && (choice || types.some((t) => t in INTEGER_MIN)));
    return checked || descend.size ? { parents, name, forms, valueSet, extensible, descend } : undefined;
  }

  private isWorthDescending(type: string): boolean {
    if (isPrimitiveType(type)) return false;
    if (type === 'Resource' || type === 'DomainResource') return !this.profile; // contained and entry resources
    const schema = this.schemaOf(type);
    return !!schema && (this.planning.has(schema) || this.planOf(schema).length > 0);
  }

  private schemaOf(type: string): InternalTypeSchema | undefined {
    return this.profile ? this.innerTypes.get(type) : tryGetDataType(type);
  }

  private walk(object: Record<string, unknown>, plan: Plan, path: string, issues: OperationOutcomeIssue[]): void {
    for (const entry of plan) {
      let holders: [Record<string, unknown>, string][] = [[object, path]];
      for (const name of entry.parents) holders = holders.flatMap(([holder, at]) => children(holder[name], `${at}.${name}`));
      for (const [holder, at] of holders) {
        const present = entry.forms.filter((form) => holder[form.json] !== undefined);
        if (present.length > 1 && !this.profile) {
          const names = present.map((form) => `"${form.json}"`).join(', ');
          issues.push(error('structure', `${at}.${entry.name}`, `${at}.${entry.name} takes one value, but ${names} are all given`));
        }
        for (const { json, type, fhirPath } of present) {
          for (const [item, itemPath] of values(holder[json], `${at}.${fhirPath}`)) {
            if (entry.valueSet && BINDABLE.has(type)) this.checkCode(item, type, entry.valueSet, !!entry.extensible, itemPath, issues);
            if (!this.profile && type in INTEGER_MIN && typeof item === 'number' && (item < INTEGER_MIN[type] || item > INTEGER_MAX)) {
              issues.push(error('value', itemPath, `${itemPath}: ${item} is out of the range of a FHIR ${type} (${INTEGER_MIN[type]}..${INTEGER_MAX})`));
            }
            if (entry.descend.has(type) && isObject(item)) {
              const schema = type === 'Resource' || type === 'DomainResource' ? tryGetDataType(String(item.resourceType)) : this.schemaOf(type);
              if (schema) this.walk(item, this.planOf(schema), itemPath, issues);
            }
          }
        }
      }
    }
  }

  private checkCode(value: unknown, type: string, valueSet: string, extensible: boolean, path: string, issues: OperationOutcomeIssue[]): void {
    checkCode(this.terminology, value, type, valueSet, extensible, path, issues);
  }
}

/** A coded value (code, Coding, CodeableConcept, Quantity unit) against a bound ValueSet: an error when required, a warning when extensible. */
export function checkCode(terminology: Terminology, value: unknown, type: string, valueSet: string, extensible: boolean, path: string, issues: OperationOutcomeIssue[]): void {
  const expansion = terminology.expand(valueSet);
  if (!expansion) return; // cannot be expanded here: not checked rather than rejecting valid codes
  let problem: string | undefined;
  if (type === 'code') {
    if (typeof value === 'string' && !expansion.has(undefined, value)) problem = `code "${value}"`;
  } else if (type === 'CodeableConcept') {
    const codings = isObject(value) ? ((value as CodeableConcept).coding ?? []) : [];
    if (!codings.some((coding) => inExpansion(expansion, coding))) {
      problem = codings.length ? `none of the codings ${codings.map(formatCoding).join(', ')}` : 'a CodeableConcept without any coding';
    }
  } else if (isObject(value) && !inExpansion(expansion, value as Coding)) {
    problem = `${type === 'Quantity' ? 'unit' : 'coding'} ${formatCoding(value as Coding)}`;
  }
  if (problem) {
    const allowed = allowedCodes(expansion, type !== 'code');
    const label = terminology.label(valueSet);
    if (extensible) issues.push({ ...error('code-invalid', path, `${path}: ${problem} is not in the extensible ValueSet ${label}${allowed}`), severity: 'warning' });
    else issues.push(error('code-invalid', path, `${path}: ${problem} is not in the required ValueSet ${label}${allowed}`));
  }
}

/** FHIR JSON forbids empty arrays; Medplum reads them as absent elements. */
function findEmptyArrays(value: unknown, path: string, issues: OperationOutcomeIssue[]): void {
  if (Array.isArray(value)) value.forEach((item, i) => findEmptyArrays(item, `${path}[${i}]`, issues));
  else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (Array.isArray(child) && child.length === 0) {
        issues.push(error('structure', `${path}.${key}`, `${path}.${key} is an empty array: FHIR JSON forbids them; omit the element instead`));
      } else findEmptyArrays(child, `${path}.${key}`, issues);
    }
  }
}

function error(code: OperationOutcomeIssue['code'], expression: string, diagnostics: string): OperationOutcomeIssue {
  return { severity: 'error', code, diagnostics, expression: [expression] };
}

function inExpansion(expansion: Expansion, coding: Coding): boolean {
  return typeof coding?.code === 'string' && expansion.has(coding.system, coding.code);
}

function formatCoding(coding: Coding): string {
  return `${coding.system ?? '(no system)'}|${coding.code ?? '(no code)'}`;
}

function allowedCodes(expansion: Expansion, withSystem: boolean): string {
  const codes: string[] = [];
  for (const [system, set] of expansion.entries()) {
    for (const code of set) codes.push(withSystem ? `${system}|${code}` : code);
    if (codes.length > LISTED_CODES) return '';
  }
  return codes.length ? ` (allowed: ${codes.join(', ')})` : '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The items of a JSON property with their FHIRPath: `name[0]` when repeated, `name` otherwise. */
function values(value: unknown, path: string): [unknown, string][] {
  return Array.isArray(value) ? value.map((item, i) => [item, `${path}[${i}]`]) : [[value, path]];
}

function children(value: unknown, path: string): [Record<string, unknown>, string][] {
  return values(value, path).filter((pair): pair is [Record<string, unknown>, string] => isObject(pair[0]));
}
