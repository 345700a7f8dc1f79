// Who may call the INSi teleservice, over SOAP and FHIR alike. The CNAM service admits an IGC-Santé
// organisation certificate whose CN is exactly INSI-AUTO or INSI-MANU (else DESIR_560), or a CPx
// card's signed assertion. Socle admits a certificate of its own CA with those CNs; bearer tokens will
// be accepted here once the platform issues them.
import type { Appelant } from '../../../pki/appelant.ts';

const PROFILS_INSI = ['INSI-AUTO', 'INSI-MANU'] as const;
export type ProfilInsi = (typeof PROFILS_INSI)[number];

export type Autorisation =
  | { accordee: true; profil: ProfilInsi; sujet: string }
  | { accordee: false; code: 'socle_401' | 'desir_560'; motif: string };

const CONSIGNE = 'un certificat INSI-AUTO ou INSI-MANU émis par la plateforme (socle pki issue), en TLS mutuel sur le port SOCLE_TLS_PORT';

export function autoriserInsi(a: Appelant): Autorisation {
  switch (a.certificat) {
    case 'sans-tls':
      return { accordee: false, code: 'socle_401', motif: `Le téléservice INSi exige ${CONSIGNE} ; l'accès par jeton n'est pas encore disponible` };
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
