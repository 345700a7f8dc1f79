// The INS reference identity base: the platform's stand-in for the national identity register that
// the INSi teleservice searches. One population at a time, loaded from the synthetic generator.
import type { Migration } from './index.ts';

export const ins: Migration = {
  version: 4,
  name: 'ins reference identity base',
  async up(tx) {
    await tx.exec(`
      CREATE TABLE ins_reference_identity (
        nir text PRIMARY KEY,
        oid text NOT NULL,
        nom_naissance text NOT NULL,
        prenoms text NOT NULL,
        sexe text NOT NULL,
        -- AAAA-MM-JJ as INSi sends it; text because "lunar" dates (00 for an unknown day or month) are not SQL dates
        date_naissance text NOT NULL,
        lieu_naissance text NOT NULL,
        -- INSi search keys: upper case, no accents, single spaces
        nom_naissance_norm text NOT NULL,
        prenoms_norm text NOT NULL
      );
      -- Every traits search gives the birth name, sex and birth date; first names and birth place filter the few rows left.
      CREATE INDEX ins_reference_traits ON ins_reference_identity (nom_naissance_norm, sexe, date_naissance);

      -- Which population the base holds and how far its (resumable) load went.
      CREATE TABLE ins_reference_population (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        graine text NOT NULL,
        charges bigint NOT NULL,
        maj timestamptz NOT NULL DEFAULT now()
      );
    `);
  },
};
