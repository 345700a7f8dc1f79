// SearchParameters beyond the R4 base: from loaded implementation-guide packages and from
// SearchParameter resources stored on this server. Both feed @medplum/core's registry, which the
// indexer and the search engine read.
import { readFileSync } from 'node:fs';
import { evalFhirPathTyped, indexSearchParameter, parseFhirPath, toTypedValue } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import { FhirError } from '../outcome.ts';
import { currentTable } from '../schema.ts';

/** Published SearchParameters whose expression does not match their guide's own profiles, with the one used instead (data/ig/errata.json). */
const ERRATA = new Map(
  (JSON.parse(readFileSync(new URL('../../../data/ig/errata.json', import.meta.url), 'utf8')) as { searchParameters: { url: string; expression: string }[] }).searchParameters.map((e) => [e.url, e.expression]),
);

/** A package's SearchParameter as this server applies it: corrected when the errata name it. */
export function corrected(sp: SearchParameter): SearchParameter {
  const expression = sp.url ? ERRATA.get(sp.url) : undefined;
  return expression ? { ...sp, expression } : sp;
}

export function activateSearchParameter(sp: SearchParameter): void {
  if (!sp.code || !sp.base?.length || !sp.type) return;
  if (sp.status === 'retired') return;
  indexSearchParameter(sp);
}

export async function registerStoredSearchParameters(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ content: string }>(`SELECT content FROM ${currentTable('SearchParameter')} WHERE NOT deleted`);
  for (const r of rows) activateSearchParameter(JSON.parse(r.content) as SearchParameter);
  return rows.length;
}

/**
 * A SearchParameter whose expression the FHIRPath engine cannot evaluate would silently match
 * nothing: it is refused (422) when written, naming the cause.
 */
export function assertUsable(sp: SearchParameter): SearchParameter {
  if (!sp.expression || sp.type === 'composite' || sp.type === 'special') return sp;
  for (const base of sp.base ?? []) {
    try {
      evalFhirPathTyped(parseFhirPath(sp.expression), [toTypedValue({ resourceType: base, id: 'probe' })]);
    } catch (err) {
      throw new FhirError(422, [{ severity: 'error', code: 'not-supported', diagnostics: `The expression of SearchParameter ${sp.code} cannot be evaluated on ${base}: ${(err as Error).message}`, expression: ['SearchParameter.expression'] }]);
    }
  }
  return sp;
}
