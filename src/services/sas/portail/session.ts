// The portal's login: it is a relying party of the platform's professional issuer (/auth/pro,
// OpenID Connect authorization code with PKCE, like Pro Santé Connect), with its own session
// cookie afterwards. Sessions live in the database (sas_session) under the SHA-256 of the cookie
// value; forms carry an anti-CSRF token derived from the session.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { Clients } from '../../../auth/clients.ts';
import { demandeAutorisationPsc, identitePsc, type AttentePsc } from '../../../auth/connexion-psc.ts';
import { masterKey, Sealer } from '../../../auth/secrets.ts';
import type { FhirCore } from '../../../fhir/core.ts';

export const CLIENT_PORTAIL = 'socle-sas-portail';
const COOKIE = 'socle_sas_session';
const COOKIE_CONNEXION = 'socle_sas_connexion';
const DUREE_SESSION_S = 12 * 3600;
const DUREE_CONNEXION_S = 10 * 60;

export interface Utilisateur {
  idnat: string;
  nom: string;
  /** Anti-CSRF token of the session's forms. */
  csrf: string;
  regulateur: boolean;
  idToken?: string;
}

const hash = (v: string) => createHash('sha256').update(v).digest('hex');
const aleatoire = () => randomBytes(32).toString('base64url');

export class Sessions {
  private readonly cle: Buffer;
  private readonly clients: Clients;
  private oidc?: { baseUrl: string; config: Promise<oidc.Configuration> };

  constructor(private readonly core: FhirCore) {
    this.cle = masterKey(core.config, core.db);
    this.clients = new Clients(core.db, new Sealer(this.cle));
  }

  private get baseUrl() {
    return this.core.config.baseUrl;
  }

  /** The portal as a client of the professional issuer; its redirect URI follows the platform's base URL. */
  async enregistrerClient(): Promise<void> {
    const callback = `${this.baseUrl}/sas/callback`;
    const existing = await this.clients.get(CLIENT_PORTAIL);
    if (existing?.redirectUris.includes(callback) && (await this.clients.secret(CLIENT_PORTAIL))) return;
    await this.clients.upsert({
      clientId: CLIENT_PORTAIL,
      name: 'Portail SAS des régulateurs',
      issuers: ['pro'],
      redirectUris: [callback],
      postLogoutRedirectUris: [`${this.baseUrl}/sas`],
      scopes: ['openid', 'scope_all'],
      grantTypes: ['authorization_code'],
      authMethod: 'client_secret_basic',
    });
    this.oidc = undefined;
  }

  private async configuration(): Promise<oidc.Configuration> {
    if (this.oidc?.baseUrl !== this.baseUrl) {
      const baseUrl = this.baseUrl;
      const config = (async () => {
        await this.enregistrerClient();
        const secret = await this.clients.secret(CLIENT_PORTAIL);
        const insecure = baseUrl.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : undefined;
        return oidc.discovery(new URL(`${baseUrl}/auth/pro`), CLIENT_PORTAIL, secret, undefined, insecure);
      })();
      config.catch(() => (this.oidc = undefined));
      this.oidc = { baseUrl, config };
    }
    return this.oidc.config;
  }

  /** Starts a login: the issuer's authorization URL; the PKCE verifier, state and nonce stay on the server. */
  async debutConnexion(reply: FastifyReply, retour: string): Promise<string> {
    const { url, attente } = await demandeAutorisationPsc(await this.configuration(), `${this.baseUrl}/sas/callback`);
    const id = aleatoire();
    await this.core.db.query(
      `INSERT INTO sas_session (id_hash, etat, donnees, expire_le) VALUES ($1, 'connexion', $2, now() + make_interval(secs => $3))`,
      [hash(id), JSON.stringify({ ...attente, retour }), DUREE_CONNEXION_S],
    );
    this.cookie(reply, COOKIE_CONNEXION, id, DUREE_CONNEXION_S);
    return url.toString();
  }

  /** Ends a login: exchanges the code, opens the session, returns where to go and who logged in. */
  async finConnexion(req: FastifyRequest, reply: FastifyReply): Promise<{ retour: string; idnat: string; prenom: string; nom: string }> {
    const id = cookies(req)[COOKIE_CONNEXION];
    if (!id) throw new Error('Aucune connexion en cours dans ce navigateur.');
    const { rows } = await this.core.db.query<{ donnees: string }>(
      `DELETE FROM sas_session WHERE id_hash = $1 AND etat = 'connexion' AND expire_le > now() RETURNING donnees`,
      [hash(id)],
    );
    this.effacer(reply, COOKIE_CONNEXION);
    if (!rows[0]) throw new Error('La connexion a expiré.');
    const { retour, ...attente } = JSON.parse(rows[0].donnees) as AttentePsc & { retour: string };
    const { idnat, prenom, nom, idToken } = await identitePsc(await this.configuration(), new URL(req.url, this.baseUrl), attente);
    if (!idnat) throw new Error("L'identité renvoyée ne porte pas d'identifiant national.");
    const session = aleatoire();
    await this.core.db.query(
      `INSERT INTO sas_session (id_hash, etat, idnat, nom, donnees, expire_le) VALUES ($1, 'active', $2, $3, $4, now() + make_interval(secs => $5))`,
      [hash(session), idnat, `${prenom} ${nom}`.trim(), JSON.stringify({ idToken }), DUREE_SESSION_S],
    );
    await this.core.db.query(`DELETE FROM sas_session WHERE expire_le < now()`);
    this.cookie(reply, COOKIE, session, DUREE_SESSION_S);
    return { retour, idnat, prenom, nom };
  }

  async utilisateur(req: FastifyRequest): Promise<Utilisateur | undefined> {
    const id = cookies(req)[COOKIE];
    if (!id) return undefined;
    const { rows } = await this.core.db.query<{ idnat: string; nom: string; donnees: string; regulateur: boolean }>(
      `SELECT s.idnat, s.nom, s.donnees, (r.idnat IS NOT NULL) AS regulateur FROM sas_session s
         LEFT JOIN sas_regulateur r ON r.idnat = s.idnat AND r.actif
        WHERE s.id_hash = $1 AND s.etat = 'active' AND s.expire_le > now()`,
      [hash(id)],
    );
    const row = rows[0];
    if (!row) return undefined;
    return { idnat: row.idnat, nom: row.nom, regulateur: row.regulateur, csrf: this.csrfDe(id), idToken: JSON.parse(row.donnees).idToken };
  }

  /** Whether a posted form carries the session's anti-CSRF token. */
  csrfValide(req: FastifyRequest, utilisateur: Utilisateur, recu: unknown): boolean {
    return typeof recu === 'string' && egal(recu, utilisateur.csrf) && !!cookies(req)[COOKIE];
  }

  /** Signs values the portal put in a page, so that a form cannot send others (e.g. a booking URL). */
  signer(...valeurs: string[]): string {
    return createHmac('sha256', this.cle).update(`sas-portail\0${valeurs.join('\0')}`).digest('base64url');
  }

  verifier(signature: unknown, ...valeurs: string[]): boolean {
    return typeof signature === 'string' && egal(signature, this.signer(...valeurs));
  }

  /** Closes the session; returns the issuer's logout URL (the professional's SSO session ends too). */
  async deconnexion(req: FastifyRequest, reply: FastifyReply, utilisateur: Utilisateur): Promise<string> {
    const id = cookies(req)[COOKIE];
    if (id) await this.core.db.query('DELETE FROM sas_session WHERE id_hash = $1', [hash(id)]);
    this.effacer(reply, COOKIE);
    const config = await this.configuration().catch(() => undefined);
    if (!config || !utilisateur.idToken) return '/sas';
    return oidc.buildEndSessionUrl(config, { id_token_hint: utilisateur.idToken, post_logout_redirect_uri: `${this.baseUrl}/sas` }).toString();
  }

  private csrfDe(session: string) {
    return createHmac('sha256', this.cle).update(`sas-csrf\0${session}`).digest('base64url');
  }

  private cookie(reply: FastifyReply, name: string, value: string, maxAge: number) {
    const secure = this.baseUrl.startsWith('https:') ? '; Secure' : '';
    reply.header('set-cookie', [...setCookies(reply), `${name}=${value}; Path=/sas; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`]);
  }

  private effacer(reply: FastifyReply, name: string) {
    reply.header('set-cookie', [...setCookies(reply), `${name}=; Path=/sas; HttpOnly; SameSite=Lax; Max-Age=0`]);
  }
}

function setCookies(reply: FastifyReply): string[] {
  const v = reply.getHeader('set-cookie');
  return v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
}

export function cookies(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function egal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
