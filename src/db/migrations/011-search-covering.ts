// The value indexes of the search tables carry the resource id (and the other bound of a date), so that
// filters and totals are answered by index-only scans, without visiting the index tables' rows.
import type { Migration } from './index.ts';

const COVERING: [table: string, name: string, key: string, include: string][] = [
  ['sp_string', 'sp_string_value', 'resource_type, param, norm text_pattern_ops', 'resource_id'],
  ['sp_token', 'sp_token_code', 'resource_type, param, code, system', 'resource_id'],
  ['sp_date', 'sp_date_low', 'resource_type, param, low', 'resource_id, high'],
  ['sp_date', 'sp_date_high', 'resource_type, param, high', 'resource_id, low'],
  ['sp_number', 'sp_number_value', 'resource_type, param, value', 'resource_id'],
  ['sp_quantity', 'sp_quantity_canonical', 'resource_type, param, canonical_unit, canonical_value', 'resource_id'],
  ['sp_uri', 'sp_uri_value', 'resource_type, param, value text_pattern_ops', 'resource_id'],
  ['sp_reference', 'sp_reference_source', 'resource_type, param, target_id', 'resource_id, target_type'],
  ['sp_position', 'sp_position_box', 'resource_type, param, latitude, longitude', 'resource_id'],
];

export const searchCovering: Migration = {
  version: 11,
  name: 'covering search indexes (index-only filters and totals)',
  async up(tx) {
    for (const [table, name, key, include] of COVERING) {
      await tx.exec(`DROP INDEX ${name}; CREATE INDEX ${name} ON ${table} (${key}) INCLUDE (${include})`);
    }
  },
};
