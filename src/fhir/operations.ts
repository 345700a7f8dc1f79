// Extended operations ($name) at system, type and instance level. Modules register their operations
// here (terminology, INSi, reindex…) and the REST layer routes /fhir/[Type/[id/]]$name to them.
import type { Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import type { FhirCore } from './core.ts';
import { badRequest, FhirError } from './outcome.ts';
import type { QueryParams } from './search/engine.ts';

export type OperationLevel = 'system' | 'type' | 'instance';

/** Callers a state-changing operation may be opened to: health professionals, software holding the INSi right (scope or certificate). */
export type OperationAudience = 'health-professionals' | 'insi-clients';

export interface OperationRequest {
  core: FhirCore;
  method: string;
  level: OperationLevel;
  type?: string;
  id?: string;
  /** Inputs from the query string (GET) merged with the Parameters body (POST). */
  params: OperationParams;
  /** The POST body as sent (a Parameters, or a resource for operations that take one). */
  body?: unknown;
  tx?: Queryable;
}

export interface OperationResult {
  status?: number;
  resource: Resource;
  headers?: Record<string, string>;
}

export interface OperationDefinitionEntry {
  name: string;
  levels: OperationLevel[];
  /** Resource types the operation applies to at type and instance level (all when absent). */
  types?: string[];
  /** Operations that change state refuse GET. */
  affectsState: boolean;
  /**
   * Who may run an operation that changes state, besides administrators (the policy engine's default).
   * E.g. identity-vigilance transitions are run by the health professionals at the desk.
   */
  permittedTo?: OperationAudience[];
  summary: string;
  handler(req: OperationRequest): Promise<OperationResult | Resource>;
}

export class OperationRegistry {
  private readonly byName = new Map<string, OperationDefinitionEntry[]>();

  register(op: OperationDefinitionEntry): void {
    this.byName.set(op.name, [...(this.byName.get(op.name) ?? []), op]);
  }

  all(): OperationDefinitionEntry[] {
    return [...this.byName.values()].flat();
  }

  find(name: string, level: OperationLevel, type?: string): OperationDefinitionEntry {
    const candidates = this.byName.get(name);
    if (!candidates) throw new FhirError(404, `Unknown operation $${name}`, 'not-supported');
    const op = candidates.find((o) => o.levels.includes(level) && (!type || !o.types || o.types.includes(type)));
    if (!op) {
      const where = level === 'system' ? 'on the server base' : `on ${type}${level === 'instance' ? '/[id]' : ''}`;
      throw new FhirError(404, `The operation $${name} is not available ${where}`, 'not-supported');
    }
    return op;
  }
}

/** Operation inputs by name: primitive values as strings, complex values and resources as objects. */
export class OperationParams {
  private readonly values = new Map<string, unknown[]>();

  static from(query: QueryParams, body: unknown): OperationParams {
    const p = new OperationParams();
    for (const [k, v] of Object.entries(query)) for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) p.add(k, one);
    const parameters = body as Parameters | undefined;
    if (parameters?.resourceType === 'Parameters') {
      for (const param of parameters.parameter ?? []) p.add(param.name as string, valueOf(param));
    }
    return p;
  }

  private add(name: string, value: unknown): void {
    this.values.set(name, [...(this.values.get(name) ?? []), value]);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  all(name: string): unknown[] {
    return this.values.get(name) ?? [];
  }

  /** A single primitive input, as a string. */
  string(name: string, required = false): string | undefined {
    const v = this.values.get(name)?.[0];
    if (v === undefined) {
      if (required) throw badRequest(`The input parameter "${name}" is required`);
      return undefined;
    }
    if (typeof v === 'object') throw badRequest(`The input parameter "${name}" must be a primitive value`);
    return String(v);
  }

  boolean(name: string): boolean | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw badRequest(`The input parameter "${name}" must be true or false`);
    return v === 'true';
  }

  /** A complex input (Coding, CodeableConcept…) or a resource. */
  object<T>(name: string): T | undefined {
    const v = this.values.get(name)?.[0];
    if (v !== undefined && typeof v !== 'object') throw badRequest(`The input parameter "${name}" must be a complex value`);
    return v as T | undefined;
  }
}

function valueOf(param: ParametersParameter): unknown {
  if (param.resource) return param.resource;
  if (param.part) return Object.fromEntries(param.part.map((p) => [p.name, valueOf(p)]));
  const key = Object.keys(param).find((k) => k.startsWith('value'));
  return key ? (param as unknown as Record<string, unknown>)[key] : undefined;
}
