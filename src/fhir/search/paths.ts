// Most SearchParameter expressions are a union of plain paths (`Practitioner.name | Patient.name`).
// Those are evaluated here by walking the JSON, with the element types of the definitions: the same
// typed values as the FHIRPath engine returns for them, at a fraction of its cost on bulk loads.
// Anything else (functions, casts, choice elements, unknown elements) is left to FHIRPath.
import { getElementDefinition, type TypedValue } from '@medplum/core';

export interface PlainPath {
  steps: string[];
  /** The type of the values the path ends on. */
  type: string;
}

/** `Type.a.b`, or `a.b` relative to the resource. */
const PLAIN_BRANCH = /^([A-Z][A-Za-z]*\.)?[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)*$/;

/** The plain paths of the expression that apply to `type`, or undefined when it is not made of plain paths only. */
export function plainPaths(type: string, expression: string): PlainPath[] | undefined {
  const paths: PlainPath[] = [];
  for (const branch of expression.split('|').map((b) => b.trim())) {
    const root = /^\(?([A-Za-z]+)/.exec(branch)?.[1] ?? '';
    if (root === 'Resource' || root === 'DomainResource') return undefined;
    const relative = /^[a-z]/.test(root);
    if (!relative && root !== type) continue; // another type's branch of a shared parameter
    if (!PLAIN_BRANCH.test(branch)) return undefined;
    const steps = branch.split('.').slice(relative ? 0 : 1);
    let current = type;
    for (const step of steps) {
      const element = getElementDefinition(current, step);
      if (!element || element.type.length !== 1) return undefined;
      current = element.type[0].code;
    }
    paths.push({ steps, type: current });
  }
  return paths;
}

/** The values at the end of the paths, arrays flattened at every step, in document order. */
export function walkPaths(resource: object, paths: PlainPath[]): TypedValue[] {
  const out: TypedValue[] = [];
  for (const { steps, type } of paths) {
    let level: unknown[] = [resource];
    for (const step of steps) {
      const next: unknown[] = [];
      for (const node of level) {
        const v = (node as Record<string, unknown>)[step];
        if (Array.isArray(v)) {
          for (const item of v) if (item !== undefined && item !== null) next.push(item);
        } else if (v !== undefined && v !== null) next.push(v);
      }
      level = next;
      if (level.length === 0) break;
    }
    for (const value of level) out.push({ type, value });
  }
  return out;
}
