// SAS care-offer index: one row per offer a regulator can find (a PractitionerRole of the Annuaire, a
// HealthcareService of the ROR) with what the search filters, ranks and shows, kept up to date in the
// writing transaction of the resources it is computed from. sas_offre_reprise is where the filling of
// the table from the resources already stored stands (resumable; done at start, or by
// `socle sas reindex-offres`). Under Citus both are reference tables, like the directory they derive from.
import type { Migration } from './index.ts';

export const sasOffres: Migration = {
  version: 14,
  name: 'sas: care-offer index',
  async up(tx) {
    await tx.exec(`
      CREATE TABLE sas_offre (
        -- PractitionerRole/<id> or HealthcareService/<id>
        cle text PRIMARY KEY,
        type text NOT NULL CHECK (type IN ('ps', 'structure')),
        idnat text,
        practitioner_id text,
        nom text NOT NULL,
        prenom text,
        civilite text,
        -- TRE_G15 professions and TRE_R38 specialties
        professions text[] NOT NULL DEFAULT '{}',
        specialites text[] NOT NULL DEFAULT '{}',
        categorie text CHECK (categorie IN ('sos', 'cpts', 'autre')),
        structure text,
        organisation text,
        adresse text,
        commune_insee text,
        latitude float8,
        longitude float8,
        telephone text,
        -- folded (accents, case, punctuation) for the médecin traitant and the name filter
        nom_normalise text NOT NULL,
        recherche text NOT NULL
      );
      CREATE INDEX sas_offre_position ON sas_offre (latitude, longitude);
      CREATE INDEX sas_offre_specialites ON sas_offre USING gin (specialites);
      CREATE INDEX sas_offre_professions ON sas_offre USING gin (professions);
      CREATE INDEX sas_offre_idnat ON sas_offre (idnat);
      CREATE INDEX sas_offre_organisation ON sas_offre (organisation);
      CREATE INDEX sas_offre_nom ON sas_offre (nom_normalise);

      -- etape: the resource type being read ('PractitionerRole', then 'HealthcareService'), or 'termine';
      -- apres: the last id done.
      CREATE TABLE sas_offre_reprise (
        seule boolean PRIMARY KEY DEFAULT true CHECK (seule),
        etape text NOT NULL CHECK (etape IN ('PractitionerRole', 'HealthcareService', 'termine')),
        apres text NOT NULL DEFAULT ''
      );
      INSERT INTO sas_offre_reprise (etape) VALUES ('PractitionerRole');
    `);
  },
};
