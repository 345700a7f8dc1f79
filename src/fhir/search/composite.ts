// Composite search parameters of two components (R4: code-value-quantity, component-code-value-concept,
// characteristic-value…): the first component is a token, the second a token, string, quantity or date.
import { evalFhirPathTyped, parseFhirPath, toTypedValue, type FhirPathAtom, type TypedValue } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { searchParametersOf, storedResourceTypes } from '../definitions.ts';
import { badRequest } from '../outcome.ts';
import { dateRange, normalizeString } from './normalize.ts';

export interface CompositeRow {
  param: string;
  system1: string | null;
  code1: string | null;
  system2: string | null;
  code2: string | null;
  number2: number | null;
  low2: Date | null;
  high2: Date | null;
}

const SECOND_KINDS = new Set(['token', 'string', 'quantity', 'date', 'number', 'reference', 'uri']);

let byUrl: Map<string, SearchParameter> | undefined;

function componentParam(url: string): SearchParameter | undefined {
  const find = () => byUrl?.get(url);
  if (!find()) {
    byUrl = new Map();
    for (const type of storedResourceTypes()) for (const sp of Object.values(searchParametersOf(type))) if (sp.url) byUrl.set(sp.url, sp);
  }
  return find();
}

/** The two component parameters of a composite this engine supports, or undefined. */
export function compositeComponents(sp: SearchParameter): [SearchParameter, SearchParameter] | undefined {
  if (sp.type !== 'composite' || sp.component?.length !== 2) return undefined;
  const [a, b] = sp.component.map((c) => componentParam(c.definition as string));
  if (!a || !b || a.type !== 'token' || !SECOND_KINDS.has(b.type as string)) return undefined;
  return [a, b];
}

const parsed = new Map<string, FhirPathAtom>();
const fhirPath = (expr: string) => {
  let atom = parsed.get(expr);
  if (!atom) parsed.set(expr, (atom = parseFhirPath(expr)));
  return atom;
};

export function compositeRows(resource: Resource, code: string, sp: SearchParameter): CompositeRow[] {
  const components = compositeComponents(sp);
  if (!components || !sp.expression) return [];
  const [, second] = components;
  const rows: CompositeRow[] = [];
  const elements = evalFhirPathTyped(fhirPath(sp.expression), [toTypedValue(resource)]);
  for (const element of elements) {
    const firsts = evalFhirPathTyped(fhirPath(sp.component![0].expression as string), [element]).flatMap(codings);
    const seconds = evalFhirPathTyped(fhirPath(sp.component![1].expression as string), [element]);
    for (const f of firsts) {
      for (const v of seconds) {
        const row = secondValue(second.type as string, v);
        if (row) rows.push({ param: code, system1: f.system, code1: f.code, ...row });
      }
    }
  }
  return rows;
}

function codings(tv: TypedValue): { system: string | null; code: string | null }[] {
  const v = tv.value as any;
  if (tv.type === 'CodeableConcept') return (v.coding ?? []).map((c: any) => ({ system: c.system ?? null, code: c.code ?? null }));
  if (tv.type === 'Coding') return [{ system: v.system ?? null, code: v.code ?? null }];
  if (typeof v === 'string') return [{ system: null, code: v }];
  return [];
}

type Second = Omit<CompositeRow, 'param' | 'system1' | 'code1'>;
const empty: Second = { system2: null, code2: null, number2: null, low2: null, high2: null };

function secondValue(kind: string, tv: TypedValue): Second | undefined {
  const v = tv.value as any;
  switch (kind) {
    case 'token': {
      const c = codings(tv)[0];
      return c ? { ...empty, system2: c.system, code2: c.code } : undefined;
    }
    case 'string':
      return typeof v === 'string' ? { ...empty, code2: normalizeString(v) } : undefined;
    case 'uri':
    case 'reference':
      return { ...empty, code2: typeof v === 'string' ? v : (v.reference ?? null) };
    case 'number':
      return typeof v === 'number' ? { ...empty, number2: v } : undefined;
    case 'quantity':
      return typeof v?.value === 'number' ? { ...empty, number2: v.value, system2: v.system ?? null, code2: v.code ?? v.unit ?? null } : undefined;
    case 'date': {
      if (typeof v === 'string') {
        const r = dateRange(v);
        return r ? { ...empty, low2: r.low, high2: r.high } : undefined;
      }
      const lo = v?.start ? dateRange(v.start)?.low : undefined;
      const hi = v?.end ? dateRange(v.end)?.high : undefined;
      return lo || hi ? { ...empty, low2: lo ?? new Date(-8.64e15), high2: hi ?? new Date(8.64e15) } : undefined;
    }
  }
  return undefined;
}

/** Splits "system|code$value" into its two component values. */
export function splitComposite(raw: string, code: string): [string, string] {
  const i = raw.indexOf('$');
  if (i <= 0 || i === raw.length - 1) throw badRequest(`The composite parameter "${code}" expects two values joined by $, e.g. http://loinc.org|8480-6$gt100, got "${raw}"`);
  return [raw.slice(0, i), raw.slice(i + 1)];
}
