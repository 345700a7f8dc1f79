// ROR access policy: a bulk export runs after its kick-off, in the background, and must serve what its
// requester's access profile allows (0–5); NULL is full access (an administrator, the platform).
import type { Migration } from './index.ts';

export const rorProfilExport: Migration = {
  version: 15,
  name: 'ror: access profile of a bulk export',
  async up(tx) {
    await tx.exec(`ALTER TABLE bulk_export_job ADD COLUMN ror_profil smallint CHECK (ror_profil BETWEEN 0 AND 5)`);
  },
};
