// One Organization per structure for the Annuaire imports: a FINESS établissement and the RPPS structure of
// the same site share their resource, written as the merge of what each source says. Each source's part of
// such a resource is kept with its key (content), so that either import can merge again without the other's
// file, and a source that drops the structure takes only its own part away.
import type { Migration } from './index.ts';

export const annuaireStructurePartagee: Migration = {
  version: 12,
  name: 'annuaire shared structures',
  async up(tx) {
    await tx.exec(`
      ALTER TABLE annuaire_source_key ADD COLUMN content text;  -- the source's mapped part, JSON (shared resources only)
      CREATE INDEX annuaire_source_key_partagee ON annuaire_source_key (resource_id) WHERE content IS NOT NULL;
      -- The next FINESS import rewrites each établissement once, recording its part.
      UPDATE annuaire_source_key SET content_hash = '' WHERE source = 'finess-eg';
    `);
  },
};
