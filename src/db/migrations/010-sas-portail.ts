// SAS regulators' portal: practitioners' participation (or refusal) in the SAS, the regulators
// allowed to use the portal, the portal's sessions, and the events counted by the statistics
// (searches, orientations, participation declarations), each with its week and territory.
import type { Migration } from './index.ts';

export const sasPortail: Migration = {
  version: 10,
  name: 'sas: participation, regulators, portal sessions, statistics events',
  async up(tx) {
    await tx.exec(`
      -- idnat: the idNat_PS ("8" + RPPS). One row per practitioner who declared.
      CREATE TABLE sas_participation (
        idnat text PRIMARY KEY,
        participe boolean NOT NULL,
        motif text,
        modifie_par text NOT NULL,
        modifie_le timestamptz NOT NULL DEFAULT now()
      );

      -- Professionals habilitated as regulators (or OSNP) of a territory.
      CREATE TABLE sas_regulateur (
        idnat text PRIMARY KEY,
        territoire text,
        actif boolean NOT NULL DEFAULT true,
        cree_le timestamptz NOT NULL DEFAULT now()
      );

      -- A portal session (id_hash: SHA-256 of the cookie value) or a login in progress (state, PKCE verifier, nonce).
      CREATE TABLE sas_session (
        id_hash text PRIMARY KEY,
        etat text NOT NULL CHECK (etat IN ('connexion', 'active')),
        idnat text,
        nom text,
        donnees text NOT NULL DEFAULT '{}',
        expire_le timestamptz NOT NULL
      );
      CREATE INDEX sas_session_expiry ON sas_session (expire_le);

      -- What the statistics count. departement: the territory (INSEE department code).
      CREATE TABLE sas_evenement (
        id bigserial PRIMARY KEY,
        type text NOT NULL CHECK (type IN ('recherche', 'orientation', 'participation', 'refus')),
        survenu_le timestamptz NOT NULL DEFAULT now(),
        departement text,
        acteur text,
        idnat text,
        details text
      );
      CREATE INDEX sas_evenement_type_date ON sas_evenement (type, survenu_le);
    `);
  },
};
