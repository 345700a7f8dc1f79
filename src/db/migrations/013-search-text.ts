// Full-text index of _content and _text: one tsvector per resource (the narrative's words weighted A),
// built with the `simple` configuration over text folded in JS, so PGlite and PostgreSQL agree. Rows of
// resources stored before this migration are written by `socle reindex` (or $reindex).
import type { Migration } from './index.ts';

export const searchText: Migration = {
  version: 13,
  name: 'full-text search index (_content, _text)',
  async up(tx) {
    await tx.exec(`
      CREATE TABLE sp_text (
        resource_type text NOT NULL, resource_id text NOT NULL, param text NOT NULL,
        words tsvector NOT NULL
      );
      CREATE INDEX sp_text_words ON sp_text USING gin (words);
      CREATE INDEX sp_text_resource ON sp_text (resource_type, resource_id);
    `);
  },
};
