// What the portal uses of the aggregator (src/services/sas/agregateur): the vendors' slots, and the
// registry to name the vendor an appointment came from. Optional: without it, cards show the
// agenda SAS slots only.
import type { Agregateur } from '../agregateur/index.ts';

export type SourceDisponibilites = Pick<Agregateur, 'disponibilites'> & Partial<Pick<Agregateur, 'editeurs'>>;
