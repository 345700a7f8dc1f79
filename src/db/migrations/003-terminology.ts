// The terminology index: one row per CodeSystem version, its concepts and their parent links, written
// by the terminology module in the transaction that writes the CodeSystem resource. Lookups,
// $validate-code and $expand read these tables, never the (possibly huge) CodeSystem JSON.
// Under Citus all three are reference tables (SELECT create_reference_table('terminology_concept') …).
import type { Migration } from './index.ts';

export const terminology: Migration = {
  version: 3,
  name: 'terminology: code system versions, concepts, hierarchy',
  async up(tx) {
    await tx.exec(`
      CREATE TABLE terminology_code_system (
        resource_id text PRIMARY KEY,
        url text NOT NULL,
        version text NOT NULL,
        name text,
        title text,
        status text,
        content text NOT NULL,
        case_sensitive boolean NOT NULL,
        concept_count integer NOT NULL,
        properties jsonb NOT NULL
      );
      CREATE UNIQUE INDEX terminology_code_system_url ON terminology_code_system (url, version);

      CREATE TABLE terminology_concept (
        system text NOT NULL,
        version text NOT NULL,
        code text NOT NULL,
        seq integer NOT NULL,
        display text,
        definition text,
        inactive boolean NOT NULL,
        search text NOT NULL,
        designations jsonb,
        properties jsonb,
        PRIMARY KEY (system, version, code)
      );
      CREATE INDEX terminology_concept_order ON terminology_concept (system, version, seq);
      CREATE INDEX terminology_concept_lower ON terminology_concept (system, version, lower(code));
      CREATE INDEX terminology_concept_search ON terminology_concept USING gin (search gin_trgm_ops);

      CREATE TABLE terminology_concept_parent (
        system text NOT NULL,
        version text NOT NULL,
        code text NOT NULL,
        parent text NOT NULL,
        PRIMARY KEY (system, version, code, parent)
      );
      CREATE INDEX terminology_concept_child ON terminology_concept_parent (system, version, parent);
    `);
  },
};
