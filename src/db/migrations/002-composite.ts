// Composite search parameters (e.g. Observation code-value-quantity): both components of one
// element in one row, so that "code X with value > Y" matches the same element.
import type { Migration } from './index.ts';

export const composite: Migration = {
  version: 2,
  name: 'composite search parameter index',
  async up(tx) {
    await tx.exec(`
      CREATE TABLE sp_composite (
        resource_type text NOT NULL, resource_id text NOT NULL, param text NOT NULL,
        system1 text, code1 text,
        system2 text, code2 text, number2 numeric, low2 timestamptz, high2 timestamptz
      );
      CREATE INDEX sp_composite_code ON sp_composite (resource_type, param, code1, system1);
      CREATE INDEX sp_composite_resource ON sp_composite (resource_type, resource_id);
    `);
  },
};
