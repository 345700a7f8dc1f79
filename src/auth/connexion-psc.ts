// The relying-party side of a Pro Santé Connect login (authorization code with PKCE, acr eidas1, the
// `scope_all` scope that releases the professional's claims), for the platform's own portals and the
// simulated vendor software alike: the authorization request, then the code exchanged for the identity.
import * as oidc from 'openid-client';

/** What the client keeps between the two legs, server side: it checks the answer against it. */
export interface AttentePsc {
  verifier: string;
  state: string;
  nonce: string;
}

export interface ProfessionnelConnecte {
  /** idNat_PS: the SubjectNameID claim of Pro Santé Connect. */
  idnat: string;
  prenom: string;
  nom: string;
  idToken?: string;
}

/** The issuer's authorization URL, and what to keep until the browser comes back. */
export async function demandeAutorisationPsc(config: oidc.Configuration, redirectUri: string): Promise<{ url: URL; attente: AttentePsc }> {
  const attente = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid scope_all',
    acr_values: 'eidas1',
    code_challenge: await oidc.calculatePKCECodeChallenge(attente.verifier),
    code_challenge_method: 'S256',
    state: attente.state,
    nonce: attente.nonce,
  });
  return { url, attente };
}

/** `retour`: the URL the issuer sent the browser back to. Throws when state, nonce, PKCE or the ID token do not check. */
export async function identitePsc(config: oidc.Configuration, retour: URL, attente: AttentePsc): Promise<ProfessionnelConnecte> {
  const jetons = await oidc.authorizationCodeGrant(config, retour, {
    pkceCodeVerifier: attente.verifier,
    expectedState: attente.state,
    expectedNonce: attente.nonce,
    idTokenExpected: true,
  });
  const infos = await oidc.fetchUserInfo(config, jetons.access_token, jetons.claims()!.sub);
  return {
    idnat: String(infos.SubjectNameID ?? infos.preferred_username ?? ''),
    prenom: String(infos.given_name ?? ''),
    nom: String(infos.family_name ?? ''),
    idToken: jetons.id_token,
  };
}
