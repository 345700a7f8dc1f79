// Quantities indexed in canonical UCUM units as well, so that 5 mg matches 0.005 g.
import type { Migration } from './index.ts';

export const quantityCanonical: Migration = {
  version: 5,
  name: 'canonical UCUM value of indexed quantities',
  async up(tx) {
    await tx.exec(`
      ALTER TABLE sp_quantity ADD COLUMN canonical_value numeric, ADD COLUMN canonical_unit text;
      CREATE INDEX sp_quantity_canonical ON sp_quantity (resource_type, param, canonical_unit, canonical_value);
    `);
  },
};
