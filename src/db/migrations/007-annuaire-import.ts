// Annuaire Santé imports (RPPS, FINESS): each run with the identity of its file and how far it got, so
// that an interrupted import resumes after its last committed batch; and, per business key of each
// source, the resource it became and the hash of its mapped content, so that a re-import writes only
// what changed and a complete import deactivates what vanished.
import type { Migration } from './index.ts';

export const annuaireImport: Migration = {
  version: 7,
  name: 'annuaire import runs and source keys',
  async up(tx) {
    await tx.exec(`
      CREATE TABLE annuaire_import_run (
        id bigserial PRIMARY KEY,
        source text NOT NULL,            -- rpps | finess
        file_name text NOT NULL,
        file_size bigint NOT NULL,
        file_head_hash text NOT NULL,    -- SHA-256 of the first MiB
        status text NOT NULL,            -- running | done
        last_line bigint NOT NULL DEFAULT 0,
        counts text NOT NULL DEFAULT '{}',
        started timestamptz NOT NULL DEFAULT now(),
        finished timestamptz
      );
      CREATE INDEX annuaire_import_run_file ON annuaire_import_run (source, file_name, file_size, file_head_hash, status);

      CREATE TABLE annuaire_source_key (
        source text NOT NULL,            -- rpps-ps | rpps-se | rpps-st | finess-eg | finess-ej
        business_key text NOT NULL,
        resource_type text NOT NULL,
        resource_id text NOT NULL,
        content_hash text NOT NULL,
        active boolean NOT NULL DEFAULT true,
        last_run bigint NOT NULL,
        PRIMARY KEY (source, business_key)
      );
      CREATE INDEX annuaire_source_key_run ON annuaire_source_key (source, last_run) WHERE active;

      -- Savoir-faire and diplomas of the companion files, staged by run and joined per professional.
      CREATE TABLE annuaire_qualification_stage (
        run bigint NOT NULL,
        id_nat text NOT NULL,
        kind text NOT NULL,              -- savoir-faire | diplome
        fields text NOT NULL             -- the parsed line, JSON
      );
      CREATE INDEX annuaire_qualification_stage_key ON annuaire_qualification_stage (run, id_nat);
    `);
  },
};
