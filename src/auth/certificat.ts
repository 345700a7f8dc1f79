// Callers identified by their client certificate over mutual TLS, without a bearer token: a CPS
// card (a person, the professional of the Annuaire named by its idNat_PS), the certificate of a
// registered tls_client_auth client (a system, with the client's scopes), or an INSi organisation
// certificate (INSI-AUTO, INSI-MANU: the teleservice's operations only). Any other certificate of
// the platform CA identifies nobody: the caller gets the same 401 as without one.
import type { Principal } from '../access/principal.ts';
import type { Appelant } from '../pki/appelant.ts';
import { professionalIdentity } from './claims.ts';
import type { Clients } from './clients.ts';
import { sameDn } from './mtls.ts';
import type { FhirCore } from '../fhir/core.ts';
import { AuthError } from './types.ts';

export const CERTIFICATE_ISSUER = 'urn:socle:mtls';
const INSI_PROFILES = ['INSI-AUTO', 'INSI-MANU'];

export function certificateVerifier(core: FhirCore, clients: Clients) {
  return async (a: Appelant): Promise<Principal | undefined> => {
    if (a.certificat !== 'plateforme') return undefined;
    const base = { issuer: CERTIFICATE_ISSUER, subject: a.sujet, certificate: a.sujet };
    if (a.carteCps) {
      const identity = await professionalIdentity(core, a.carteCps);
      if (!identity) throw new AuthError(401, `The CPS card ${a.carteCps} names no professional of the Annuaire`);
      const { practitionerId, idNatPs, professions, specialties } = identity;
      return { ...base, kind: 'professional', clientId: 'carte-cps', scopes: [], acr: 'eidas1', practitionerId, idNatPs, professions, specialties };
    }
    const client = (await clients.list()).find((c) => c.authMethod === 'tls_client_auth' && c.tlsSubjectDn && sameDn(c.tlsSubjectDn, a.sujet));
    if (client) return { ...base, kind: 'system', clientId: client.clientId, scopes: client.scopes, ...(client.scopes.includes('admin') ? { admin: true } : {}) };
    if (a.cn && INSI_PROFILES.includes(a.cn)) return { ...base, kind: 'system', clientId: a.cn, scopes: ['insi'] };
    throw new AuthError(401, `The client certificate "${a.sujet}" is neither a CPS card nor the certificate of a registered client (socle client add … --auth-method tls_client_auth --tls-subject-dn …)`);
  };
}
