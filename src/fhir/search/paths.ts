// Most SearchParameter expressions are a union of plain paths (`Practitioner.name | Patient.name`), often
// with a filter on a fixed value (`extension.where(url='…').value`). Those are evaluated here by walking the
// JSON, with the element types of the definitions: the same typed values as the FHIRPath engine returns for
// them, at a fraction of its cost on bulk loads. Anything else (other functions, casts, unknown elements, a
// choice element before the last step) is left to FHIRPath.
import { capitalize, getElementDefinition, isPrimitiveType, type TypedValue } from '@medplum/core';

/** An element name, or `where(field='literal')` keeping the nodes whose single primitive `field` equals it. */
export type Step = string | { where: string; equals: string };

export interface PlainPath {
  steps: Step[];
  /** The type of the values the path ends on ('' when it ends on a choice element). */
  type: string;
  /** The path ends on a choice element (`Extension.value`): its types, each value typed by the key it sits under. */
  choice?: string[];
}

/** `Type.` or nothing, then the first step; the other steps follow, each after a dot. */
const ROOT = /^(?:([A-Z][A-Za-z]*)\.)?/y;
const NAME = /([a-z][A-Za-z0-9]*)/y;
const WHERE = /where\(\s*([a-z][A-Za-z0-9]*)\s*=\s*'([^'\\]*)'\s*\)/y;
/** `.as(Type)` after a choice element: its value of that type, i.e. the concrete element (`valueCodeableConcept`). */
const AS = /\.as\(([A-Za-z]+)\)/y;

/** The plain paths of the expression that apply to `type`, or undefined when it is not made of plain paths only. */
export function plainPaths(type: string, expression: string): PlainPath[] | undefined {
  const paths: PlainPath[] = [];
  for (const branch of expression.split('|').map((b) => b.trim())) {
    ROOT.lastIndex = 0;
    const root = ROOT.exec(branch)?.[1];
    if (root === 'Resource' || root === 'DomainResource') return undefined;
    if (root && root !== type) continue; // another type's branch of a shared parameter
    const path = parseBranch(type, branch, ROOT.lastIndex);
    if (!path) return undefined;
    paths.push(path);
  }
  return paths;
}

function parseBranch(type: string, branch: string, start: number): PlainPath | undefined {
  const steps: Step[] = [];
  let current = type;
  let at = start;
  for (;;) {
    WHERE.lastIndex = at;
    NAME.lastIndex = at;
    const filter = steps.length > 0 ? WHERE.exec(branch) : null;
    if (filter) {
      const field = getElementDefinition(current, filter[1]!);
      if (!field || field.max !== 1 || field.type.length !== 1 || !isPrimitiveType(field.type[0]!.code)) return undefined;
      steps.push({ where: filter[1]!, equals: filter[2]! });
      at = WHERE.lastIndex;
    } else {
      const name = NAME.exec(branch)?.[1];
      const element = name && getElementDefinition(current, name);
      if (!name || !element) return undefined;
      at = NAME.lastIndex;
      let step = name;
      if (element.type.length === 1) current = element.type[0]!.code;
      else {
        // A choice element: named with its type (`valuePeriod`), cast at the end (`value.as(Period)`), or last.
        const base = element.path.split('.').pop()!.replace('[x]', '');
        AS.lastIndex = at;
        const cast = name === base ? AS.exec(branch)?.[1] : undefined;
        const typed = element.type.find((t) => (cast ? t.code === cast : name === base + capitalize(t.code)));
        if (typed) {
          if (cast) at = AS.lastIndex;
          step = base + capitalize(typed.code);
          current = typed.code;
        } else if (name === base && at === branch.length) return { steps: [...steps, name], type: '', choice: element.type.map((t) => t.code) };
        else return undefined;
      }
      steps.push(step);
    }
    if (at === branch.length) return { steps, type: current };
    if (branch[at] !== '.') return undefined;
    at++;
  }
}

/** The values at the end of the paths, arrays flattened at every step, in document order. */
export function walkPaths(resource: object, paths: PlainPath[]): TypedValue[] {
  const out: TypedValue[] = [];
  for (const { steps, type, choice } of paths) {
    let level: unknown[] = [resource];
    const last = choice ? steps.length - 1 : steps.length;
    for (let i = 0; i < last && level.length > 0; i++) {
      const step = steps[i]!;
      if (typeof step !== 'string') {
        level = level.filter((node) => (node as Record<string, unknown>)[step.where] === step.equals);
        continue;
      }
      const next: unknown[] = [];
      for (const node of level) {
        const v = (node as Record<string, unknown>)[step];
        if (Array.isArray(v)) {
          for (const item of v) if (item !== undefined && item !== null) next.push(item);
        } else if (v !== undefined && v !== null) next.push(v);
      }
      level = next;
    }
    if (!choice) {
      for (const value of level) out.push({ type, value });
      continue;
    }
    const base = steps[last] as string;
    for (const node of level) {
      for (const t of choice) {
        const value = (node as Record<string, unknown>)[base + capitalize(t)];
        if (value !== undefined && value !== null) out.push({ type: t, value });
      }
    }
  }
  return out;
}
