// V2 (délégation d'authentification): the vendor software is a relying party of Pro Santé Connect (here
// the platform's /auth/pro). A regulator following a booking link is sent there; already logged in on
// the SAS, they come straight back (no second login) and the booking page knows who they are. The
// session is the simulator's own cookie; the identity is the idNat_PS of the ID token and userinfo.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import { demandeAutorisationPsc, identitePsc, type AttentePsc } from '../../../auth/connexion-psc.ts';

export interface OptionsSso {
  /** The issuer, e.g. http://localhost:8080/auth/pro. */
  issuer: string;
  clientId: string;
  clientSecret: string;
}

export interface RegulateurConnecte {
  idnat: string;
  nom: string;
  prenom: string;
}

const COOKIE = 'editeur_session';
const RETOUR = '/sso/retour';
const DUREE_MS = 8 * 3600_000;

export class Sso {
  private config?: Promise<oidc.Configuration>;
  private readonly enCours = new Map<string, AttentePsc & { retour: string; expire: number }>();
  private readonly sessions = new Map<string, RegulateurConnecte & { expire: number }>();

  constructor(
    private readonly options: OptionsSso,
    private readonly base: () => string,
  ) {}

  private configuration(): Promise<oidc.Configuration> {
    this.config ??= oidc
      .discovery(new URL(this.options.issuer), this.options.clientId, this.options.clientSecret, undefined, this.options.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : undefined)
      .catch((err) => {
        this.config = undefined;
        throw err;
      });
    return this.config;
  }

  /** The regulator of this browser's session, if any. */
  connecte(req: IncomingMessage): RegulateurConnecte | undefined {
    const id = /(?:^|;\s*)editeur_session=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
    const s = id ? this.sessions.get(id) : undefined;
    return s && s.expire > Date.now() ? s : undefined;
  }

  /** Sends the browser to the issuer, to come back to `retour` (a path of this server). */
  async authentifier(res: ServerResponse, retour: string): Promise<void> {
    const { url, attente } = await demandeAutorisationPsc(await this.configuration(), `${this.base()}${RETOUR}`);
    this.enCours.set(attente.state, { ...attente, retour, expire: Date.now() + 10 * 60_000 });
    res.writeHead(302, { Location: url.toString() });
    res.end();
  }

  /** GET /sso/retour: the code exchanged, the session opened, the browser sent back where it was going. */
  async retour(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? RETOUR, this.base());
    const attente = this.enCours.get(url.searchParams.get('state') ?? '');
    this.enCours.delete(url.searchParams.get('state') ?? '');
    if (!attente || attente.expire < Date.now()) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Connexion expirée : reprenez le lien de réservation depuis la plateforme SAS.');
      return;
    }
    const { idnat, nom, prenom } = await identitePsc(await this.configuration(), url, attente);
    const id = randomBytes(18).toString('base64url');
    this.sessions.set(id, { idnat, nom, prenom, expire: Date.now() + DUREE_MS });
    res.writeHead(302, { Location: attente.retour, 'Set-Cookie': `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${DUREE_MS / 1000}` });
    res.end();
  }
}
