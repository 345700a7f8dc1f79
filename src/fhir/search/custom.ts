// SearchParameters beyond the R4 base: from loaded implementation-guide packages and from
// SearchParameter resources stored on this server. Both feed @medplum/core's registry, which the
// indexer and the search engine read.
import { indexSearchParameter } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import { currentTable } from '../schema.ts';

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
