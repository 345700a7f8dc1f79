// SAS vendor flows, platform side: the registry of connected scheduling solutions (their client
// certificate sealed with the platform's master key), the practitioners and associations each one
// serves, and the durable queue of regulator-account pushes (V1) waiting for a retry.
import type { Migration } from './index.ts';

export const sasAgregateur: Migration = {
  version: 9,
  name: 'sas aggregator: vendor registry, regulator accounts and push queue',
  async up(tx) {
    await tx.exec(`
      CREATE TABLE sas_editeur (
        id text PRIMARY KEY,
        nom text NOT NULL,
        base_url text NOT NULL,
        -- R01 individual practitioners, R04 CPTS, SOS Médecins
        type text NOT NULL CHECK (type IN ('R01', 'R04', 'SOS')),
        -- JSON {cert, key, ca} sealed (AES-256-GCM): the platform's client certificate for this vendor
        sealed_client_cert text,
        -- subject and expiry of that certificate, shown instead of it
        client_cert_subject text,
        client_cert_expiry timestamptz,
        concurrence integer NOT NULL DEFAULT 4,
        actif boolean NOT NULL DEFAULT true,
        -- subject DN of the vendor's own client certificate, identifying it on the appointment back-flow (V3)
        certificat_v3 text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      -- Who a vendor serves: idNat_PS of practitioners (8 + RPPS, 0 + ADELI) or SIRET of SOS associations.
      CREATE TABLE sas_editeur_cible (
        editeur_id text NOT NULL REFERENCES sas_editeur (id) ON DELETE CASCADE,
        genre text NOT NULL CHECK (genre IN ('idnps', 'siret')),
        valeur text NOT NULL,
        PRIMARY KEY (editeur_id, genre, valeur)
      );
      CREATE INDEX sas_editeur_cible_valeur ON sas_editeur_cible (genre, valeur);

      -- V1 pushes not yet accepted by a vendor: the latest state of each regulator per vendor, retried with backoff.
      CREATE TABLE sas_v1_file (
        editeur_id text NOT NULL REFERENCES sas_editeur (id) ON DELETE CASCADE,
        -- identifier of the regulator as sent: system|value
        regulateur text NOT NULL,
        practitioner text NOT NULL,
        tentatives integer NOT NULL DEFAULT 0,
        prochain_essai timestamptz NOT NULL DEFAULT now(),
        derniere_erreur text,
        abandonne boolean NOT NULL DEFAULT false,
        maj timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (editeur_id, regulateur)
      );
      -- Regulator accounts a vendor has accepted: a known account is updated (PUT), an unknown one created (POST).
      CREATE TABLE sas_v1_compte (
        editeur_id text NOT NULL REFERENCES sas_editeur (id) ON DELETE CASCADE,
        regulateur text NOT NULL,
        actif boolean NOT NULL,
        synchronise_le timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (editeur_id, regulateur)
      );
      CREATE INDEX sas_v1_file_echeance ON sas_v1_file (prochain_essai) WHERE NOT abandonne;
    `);
  },
};
