// Public access to the directory as the national Annuaire Santé API gives it: an application sends
// its key in the ESANTE-API-KEY header and reads the public directory resources, nothing else, at
// most 17 calls a second (the national gateway's quota). Keys are configured by the operator
// (SOCLE_ESANTE_API_KEYS); the audit trail names the application by a digest of its key, never the key.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../../access/principal.ts';

/** What the national API serves: the public (DP) directory. */
export const RESSOURCES_PUBLIQUES = ['Practitioner', 'PractitionerRole', 'Organization', 'HealthcareService', 'Device'];
export const QUOTA_PAR_SECONDE = 17;

export class QuotaDepasse extends Error {}

export type VerificateurCleApi = (cle: string) => Principal | undefined;

/** undefined when no key is configured: the header is then ignored. */
export function verificateurCleApi(cles: string[], quota = QUOTA_PAR_SECONDE): VerificateurCleApi | undefined {
  if (cles.length === 0) return undefined;
  const empreintes = cles.map(empreinte);
  const appels = new Map<string, number[]>();
  return (cle) => {
    const e = empreinte(cle);
    if (!empreintes.some((x) => timingSafeEqual(x, e))) return undefined;
    const id = e.subarray(0, 6).toString('hex');
    const maintenant = Date.now();
    const recents = (appels.get(id) ?? []).filter((t) => t > maintenant - 1000);
    if (recents.length >= quota) throw new QuotaDepasse(`Quota of ${quota} calls per second exceeded for this ESANTE-API-KEY; retry in a second`);
    recents.push(maintenant);
    appels.set(id, recents);
    return {
      kind: 'system',
      issuer: 'urn:socle:esante-api-key',
      subject: `cle-api-${id}`,
      clientId: `cle-api-${id}`,
      scopes: RESSOURCES_PUBLIQUES.map((t) => `system/${t}.rs`),
    };
  };
}

const empreinte = (cle: string) => createHash('sha256').update(cle).digest();
