// Who may call the INSi teleservice, over SOAP and FHIR alike. The CNAM service admits an IGC-Santé
// organisation certificate whose CN is exactly INSI-AUTO or INSI-MANU (else DESIR_560), or a CPx
// card's signed assertion. Socle admits a certificate of its own CA with those CNs, or a bearer token
// of its issuers: a health professional calls as INSI-MANU (a person at the desk), the administrator
// client or a client granted the `insi` scope as INSI-AUTO (software without a person).
import { isHealthProfessional } from '../../../access/policy.ts';
import type { Principal } from '../../../access/principal.ts';
import type { Appelant } from '../../../pki/appelant.ts';

const PROFILS_INSI = ['INSI-AUTO', 'INSI-MANU'] as const;
export type ProfilInsi = (typeof PROFILS_INSI)[number];

export type Autorisation =
  | { accordee: true; profil: ProfilInsi; sujet: string }
  | { accordee: false; code: 'socle_401' | 'desir_560'; motif: string };

const CONSIGNE = "un certificat INSI-AUTO ou INSI-MANU émis par la plateforme (socle pki issue), en TLS mutuel sur le port SOCLE_TLS_PORT, ou un jeton d'accès (Authorization: Bearer)";

/** A token, when one was presented, decides; otherwise the client certificate. */
export function autoriserInsi(a: Appelant, jeton?: Principal): Autorisation {
  if (jeton) return autoriserJeton(jeton);
  switch (a.certificat) {
    case 'sans-tls':
      return { accordee: false, code: 'socle_401', motif: `Le téléservice INSi exige ${CONSIGNE}` };
    case 'absent':
      return { accordee: false, code: 'socle_401', motif: `Aucun certificat client présenté : le téléservice INSi exige ${CONSIGNE}` };
    case 'non-reconnu':
      return { accordee: false, code: 'socle_401', motif: `Certificat client refusé (${a.refus}) : le téléservice INSi exige ${CONSIGNE}` };
    case 'plateforme': {
      const profil = PROFILS_INSI.find((p) => p === a.cn);
      if (profil) return { accordee: true, profil, sujet: a.sujet };
      return { accordee: false, code: 'desir_560', motif: `Niveau d'accès insuffisant : le certificat « ${a.sujet} » n'a pas le profil INSI-AUTO ou INSI-MANU` };
    }
  }
}

function autoriserJeton(p: Principal): Autorisation {
  if (p.admin || (p.kind === 'system' && p.scopes.includes('insi'))) return { accordee: true, profil: 'INSI-AUTO', sujet: `client ${p.clientId}` };
  if (isHealthProfessional(p)) {
    return { accordee: true, profil: 'INSI-MANU', sujet: p.idNatPs ?? p.subject };
  }
  const qui = p.kind === 'patient' ? 'un patient' : p.kind === 'professional' ? `le professionnel ${p.idNatPs ?? p.subject}, sans profession de santé à l'Annuaire,` : `le client ${p.clientId}, sans le scope insi,`;
  return { accordee: false, code: 'desir_560', motif: `Niveau d'accès insuffisant : ${qui} n'est pas habilité à appeler le téléservice INSi` };
}
