// The contract of the identity module with the rest of the platform (re-exported by index.ts).

import type { Principal } from '../access/principal.ts';
import type { Appelant } from '../pki/appelant.ts';

// The caller a verified token stands for is defined with the policy engine that reads it.
export type { Principal };

export interface AuthService {
  /** Verifies a bearer access token from the local issuers (signature, expiry, revocation via introspection or jti store) or from a configured external issuer; throws AuthError(401, reason) otherwise. */
  verifyAccessToken(token: string): Promise<Principal>;
  /** Who a client certificate presented over mutual TLS stands for: a CPS card, a tls_client_auth client, an INSi certificate. */
  certificatePrincipal(caller: Appelant): Promise<Principal | undefined>;
  close(): Promise<void>;
}

export class AuthError extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}
