// ROR: the position index of the special search parameter near, and the FHIR Bulk Data $export jobs.
// Distribution (Citus): sp_position follows the other sp_* tables (distributed like the resources
// they index); bulk_export_job and bulk_export_file are small local tables of the instance.
import type { Migration } from './index.ts';

export const ror: Migration = {
  version: 8,
  name: 'position index (near) and bulk export jobs',
  async up(tx) {
    await tx.exec(`
      CREATE TABLE sp_position (
        resource_type text NOT NULL, resource_id text NOT NULL, param text NOT NULL,
        latitude double precision NOT NULL, longitude double precision NOT NULL
      );
      CREATE INDEX sp_position_box ON sp_position (resource_type, param, latitude, longitude);
      CREATE INDEX sp_position_resource ON sp_position (resource_type, resource_id);

      CREATE TABLE bulk_export_job (
        id text PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('accepted', 'in-progress', 'completed', 'failed')),
        request text NOT NULL,
        owner text,
        types text[] NOT NULL,
        since timestamptz,
        compartment text,
        transaction_time timestamptz NOT NULL,
        progress text,
        error text,
        output text,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      );
      CREATE TABLE bulk_export_file (
        job_id text NOT NULL REFERENCES bulk_export_job (id) ON DELETE CASCADE,
        name text NOT NULL,
        content text NOT NULL,
        PRIMARY KEY (job_id, name)
      );
    `);
  },
};
