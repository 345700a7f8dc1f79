// A CodeSystem resource as index rows: concepts flattened in definition order, with their parents
// (nesting and the parent/child/subsumedBy properties), inactive flag and search text.
import type { CodeSystem, CodeSystemConcept, CodeSystemConceptDesignation, CodeSystemConceptProperty } from '@medplum/fhirtypes';
import { normalizeString } from '../fhir/search/normalize.ts';

/** A concept property as stored: the FHIR element plus `v`, its value as text, for `=` filters. */
export type StoredProperty = CodeSystemConceptProperty & { v: string };

export interface ConceptRow {
  code: string;
  display?: string;
  definition?: string;
  inactive: boolean;
  /** Normalised words of code, display and designations, each preceded by a space (word-prefix LIKE). */
  search: string;
  designations?: CodeSystemConceptDesignation[];
  properties?: StoredProperty[];
  parents: string[];
}

/** Concept status values (http://hl7.org/fhir/concept-properties) that make a code inactive. */
const INACTIVE_STATUS = new Set(['retired', 'deprecated', 'inactive']);

export function flattenCodeSystem(cs: CodeSystem): ConceptRow[] {
  const rows = new Map<string, ConceptRow>();
  const childLinks: [string, string][] = [];
  const visit = (concepts: CodeSystemConcept[] | undefined, parent?: string): void => {
    for (const c of concepts ?? []) {
      if (typeof c.code !== 'string' || rows.has(c.code)) continue;
      const properties = (c.property ?? []).map(storedProperty);
      const parents = new Set(parent ? [parent] : []);
      for (const p of properties) {
        if (p.code === 'parent' || p.code === 'subsumedBy') parents.add(p.v);
        if (p.code === 'child') childLinks.push([p.v, c.code]);
      }
      rows.set(c.code, {
        code: c.code,
        display: c.display,
        definition: c.definition,
        inactive: properties.some(isInactiveProperty),
        search: searchText([c.code, c.display, ...(c.designation ?? []).map((d) => d.value)]),
        designations: c.designation,
        properties: properties.length ? properties : undefined,
        parents: [...parents],
      });
      visit(c.concept, c.code);
    }
  };
  visit(cs.concept);
  for (const [child, parent] of childLinks) {
    const row = rows.get(child);
    if (row && !row.parents.includes(parent)) row.parents.push(parent);
  }
  return [...rows.values()];
}

function storedProperty(p: CodeSystemConceptProperty): StoredProperty {
  const value =
    p.valueCode ?? p.valueString ?? p.valueCoding?.code ?? p.valueDateTime ?? p.valueBoolean ?? p.valueInteger ?? p.valueDecimal;
  return { ...p, v: value === undefined ? '' : String(value) };
}

function isInactiveProperty(p: StoredProperty): boolean {
  return (p.code === 'status' && INACTIVE_STATUS.has(p.v)) || (p.code === 'inactive' && p.v === 'true');
}

/** " word word…": accents, case and punctuation dropped, so "hémato" finds "Hémato-oncologie". */
export function searchText(values: (string | undefined)[]): string {
  return ` ${words(values.filter(Boolean).join(' ')).join(' ')}`;
}

export function words(text: string): string[] {
  return normalizeString(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}
