// What every page of the portal shares: its dependencies, the logged-in user check (login for a
// GET, anti-CSRF check for a POST, regulator habilitation), and the HTML reply.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenVerifier } from '../../../access/principal.ts';
import type { Config } from '../../../config.ts';
import type { FhirCore } from '../../../fhir/core.ts';
import type { Logger } from '../../../log.ts';
import type { IndexOffres } from '../recherche/index-offres.ts';
import type { SourceDisponibilites } from './contrat.ts';
import { message } from './pages.ts';
import type { Sessions, Utilisateur } from './session.ts';

export interface Portail {
  core: FhirCore;
  config: Config;
  log: Logger;
  sessions: Sessions;
  index: IndexOffres;
  agregateur?: SourceDisponibilites;
  verifyToken?: TokenVerifier;
  /** LRM software allowed to open a contextual search. */
  originesLrm: string[];
  /** V1: pushes a regulator's account (or its removal) to the vendors. */
  synchroniserRegulateur?: (idnat: string, actif: boolean) => Promise<void>;
}

export type Formulaire = Record<string, string | undefined>;

export function html(reply: FastifyReply, status: number, body: string) {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}

/**
 * The logged-in user, or a reply: the login for a GET (back here afterwards), an error otherwise.
 * `regulateur`: the page is for regulators only.
 */
export async function exigerUtilisateur(p: Portail, req: FastifyRequest, reply: FastifyReply, regulateur: boolean): Promise<Utilisateur | undefined> {
  const u = await p.sessions.utilisateur(req);
  if (!u) {
    if (req.method === 'GET') reply.redirect(`/sas/connexion?retour=${encodeURIComponent(req.url)}`, 303);
    else html(reply, 401, message({ titre: 'Session expirée' }, 'Votre session a expiré. Reconnectez-vous.', { href: '/sas/connexion', texte: 'Se connecter' }));
    return undefined;
  }
  if (req.method === 'POST' && !p.sessions.csrfValide(req, u, (req.body as Formulaire | undefined)?.csrf)) {
    html(reply, 403, message({ titre: 'Requête refusée', utilisateur: u }, 'Le formulaire a expiré ou ne provient pas de ce portail. Rechargez la page.'));
    return undefined;
  }
  if (regulateur && !u.regulateur) {
    html(reply, 403, message({ titre: 'Accès réservé aux régulateurs', utilisateur: u }, "Ce service est réservé aux régulateurs et opérateurs de soins non programmés habilités du SAS. Demandez votre habilitation à l'administrateur de la plateforme.", { href: '/sas/participation', texte: 'Gérer ma participation au SAS' }));
    return undefined;
  }
  return u;
}
