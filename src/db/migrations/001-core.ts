// The FHIR store's shared tables. Per-type resource tables are created by fhir/schema.ts from the
// definitions, because the set of types grows with the loaded packages.
import type { Migration } from './index.ts';

export const core: Migration = {
  version: 1,
  name: 'fhir core: change log and search index tables',
  async up(tx) {
    await tx.query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
    await tx.exec(`
      CREATE TABLE resource_change (
        seq bigserial PRIMARY KEY,
        resource_type text NOT NULL,
        id text NOT NULL,
        version_id integer NOT NULL,
        last_updated timestamptz NOT NULL,
        method text NOT NULL
      );
      CREATE INDEX resource_change_last_updated ON resource_change (last_updated);
      CREATE INDEX resource_change_type ON resource_change (resource_type, seq);
      CREATE INDEX resource_change_resource ON resource_change (resource_type, id, seq);

      CREATE TABLE sp_string (
        resource_type text NOT NULL, resource_id text NOT NULL, param text NOT NULL,
        norm text NOT NULL, exact text NOT NULL
      );
      CREATE INDEX sp_string_value ON sp_string (resource_type, param, norm text_pattern_ops);
      CREATE INDEX sp_string_resource ON sp_string (resource_type, resource_id);

      CREATE TABLE sp_token (
        resource_type text NOT NULL, resource_id text NOT NULL, param text NOT NULL,
        system text, code text, display text
      );
      CREATE INDEX sp_token_code ON sp_token (resource_type, param, code, system);
      CREATE INDEX sp_token_resource ON sp_token (resource_type, resource_id);

      CREATE TABLE sp_date (
        resource_type text NOT NULL, resource_id text NOT NULL, param text NOT NULL,
        low timestamptz NOT NULL, high timestamptz NOT NULL
      );
      CREATE INDEX sp_date_low ON sp_date (resource_type, param, low);
      CREATE INDEX sp_date_high ON sp_date (resource_type, param, high);
      CREATE INDEX sp_date_resource ON sp_date (resource_type, resource_id);

      CREATE TABLE sp_number (
        resource_type text NOT NULL, resource_id text NOT NULL, param text NOT NULL,
        value numeric NOT NULL
      );
      CREATE INDEX sp_number_value ON sp_number (resource_type, param, value);
      CREATE INDEX sp_number_resource ON sp_number (resource_type, resource_id);

      CREATE TABLE sp_quantity (
        resource_type text NOT NULL, resource_id text NOT NULL, param text NOT NULL,
        value numeric NOT NULL, system text, code text, unit text
      );
      CREATE INDEX sp_quantity_value ON sp_quantity (resource_type, param, value);
      CREATE INDEX sp_quantity_resource ON sp_quantity (resource_type, resource_id);

      CREATE TABLE sp_uri (
        resource_type text NOT NULL, resource_id text NOT NULL, param text NOT NULL,
        value text NOT NULL
      );
      CREATE INDEX sp_uri_value ON sp_uri (resource_type, param, value text_pattern_ops);
      CREATE INDEX sp_uri_resource ON sp_uri (resource_type, resource_id);

      CREATE TABLE sp_reference (
        resource_type text NOT NULL, resource_id text NOT NULL, param text NOT NULL,
        target_type text, target_id text, target_url text
      );
      CREATE INDEX sp_reference_target ON sp_reference (target_type, target_id, param);
      CREATE INDEX sp_reference_source ON sp_reference (resource_type, param, target_id);
      CREATE INDEX sp_reference_resource ON sp_reference (resource_type, resource_id);
    `);
  },
};
