// Calls to vendor servers: HTTPS (TLS 1.2 at least) with the platform's client certificate for that
// vendor (mutual TLS), keep-alive connections capped at the vendor's concurrency, a deadline that
// covers every attempt, and retries with backoff only where a second try is safe: a connection
// reset before any answer, or a 502/503/504 from a proxy in front of the vendor.
import http from 'node:http';
import https from 'node:https';
import type { EditeurSas } from './index.ts';

export const TYPES_FHIR = ['application/fhir+json', 'application/json+fhir', 'application/json'];
const CORPS_MAX = 50 * 1024 * 1024;
const REESSAYABLES = new Set([502, 503, 504]);
const ERREURS_RESEAU = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'UND_ERR_SOCKET']);
const PAUSE_INITIALE_MS = 100;

export interface Reponse {
  statut: number;
  type: string;
  corps: string;
  location?: string;
}

export interface Appel {
  methode: 'GET' | 'POST' | 'PUT';
  chemin: string;
  corps?: unknown;
  /** Absolute time (ms) after which the call is abandoned. */
  echeance: number;
  signal?: AbortSignal;
  /** Only idempotent calls are retried. */
  idempotent: boolean;
}

export class Expiration extends Error {}

export class Transport {
  private readonly agents = new Map<string, { version: string; agent: http.Agent }>();

  constructor(private readonly tentatives: number) {}

  async appeler(editeur: EditeurSas, appel: Appel): Promise<Reponse> {
    for (let essai = 0; ; essai++) {
      try {
        const r = await this.une(editeur, appel);
        if (!appel.idempotent || !REESSAYABLES.has(r.statut) || !this.encore(essai, appel)) return r;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (err instanceof Expiration || !appel.idempotent || !ERREURS_RESEAU.has(code) || !this.encore(essai, appel)) throw err;
      }
      await attendre(pause(essai), appel);
    }
  }

  close(): void {
    for (const { agent } of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /** Another attempt only if there is one left and time for its backoff. */
  private encore(essai: number, appel: Appel): boolean {
    return essai < this.tentatives && Date.now() + pause(essai) < appel.echeance && !appel.signal?.aborted;
  }

  private agent(editeur: EditeurSas, securise: boolean): http.Agent {
    const version = JSON.stringify([securise, editeur.concurrence, editeur.clientCert?.cert, editeur.clientCert?.ca]);
    const existant = this.agents.get(editeur.id);
    if (existant?.version === version) return existant.agent;
    existant?.agent.destroy();
    const options = { keepAlive: true, maxSockets: editeur.concurrence ?? 4 };
    const agent = securise
      ? new https.Agent({
          ...options,
          minVersion: 'TLSv1.2',
          ...(editeur.clientCert ? { cert: editeur.clientCert.cert, key: editeur.clientCert.key, ...(editeur.clientCert.ca ? { ca: editeur.clientCert.ca } : {}) } : {}),
        })
      : new http.Agent(options);
    this.agents.set(editeur.id, { version, agent });
    return agent;
  }

  private une(editeur: EditeurSas, appel: Appel): Promise<Reponse> {
    const url = new URL(editeur.baseUrl.replace(/\/$/u, '') + appel.chemin);
    const securise = url.protocol === 'https:';
    const corps = appel.corps === undefined ? undefined : JSON.stringify(appel.corps);
    const reste = appel.echeance - Date.now();
    if (reste <= 0) return Promise.reject(new Expiration('délai dépassé'));
    return new Promise<Reponse>((resolve, reject) => {
      const req = (securise ? https : http).request(
        url,
        {
          method: appel.methode,
          agent: this.agent(editeur, securise),
          headers: {
            // The SAS sends the (non-standard) type its guide names; vendors answer either.
            accept: 'application/json+fhir, application/fhir+json;q=0.9, application/json;q=0.8',
            ...(corps !== undefined ? { 'content-type': 'application/fhir+json; charset=utf-8', 'content-length': Buffer.byteLength(corps) } : {}),
          },
        },
        (res) => {
          const morceaux: Buffer[] = [];
          let taille = 0;
          res.on('data', (m: Buffer) => {
            taille += m.length;
            if (taille > CORPS_MAX) req.destroy(new Error(`réponse de plus de ${CORPS_MAX} octets`));
            else morceaux.push(m);
          });
          res.on('end', () => {
            resolve({
              statut: res.statusCode ?? 0,
              type: String(res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase(),
              corps: Buffer.concat(morceaux).toString('utf8'),
              ...(res.headers.location ? { location: String(res.headers.location) } : {}),
            });
          });
          res.on('error', reject);
        },
      );
      const arreter = (err: Error) => req.destroy(err);
      const abandon = () => arreter(new Expiration('recherche abandonnée'));
      const minuteur = setTimeout(() => arreter(new Expiration(`pas de réponse en ${Math.round(reste)} ms`)), reste);
      appel.signal?.addEventListener('abort', abandon, { once: true });
      req.on('close', () => {
        clearTimeout(minuteur);
        appel.signal?.removeEventListener('abort', abandon);
      });
      req.on('error', reject);
      req.end(corps);
    });
  }
}

const pause = (essai: number) => PAUSE_INITIALE_MS * 2 ** essai * (0.5 + Math.random() / 2);

function attendre(ms: number, appel: Appel): Promise<void> {
  return new Promise((resolve, reject) => {
    if (appel.signal?.aborted) return reject(new Expiration('recherche abandonnée'));
    const t = setTimeout(resolve, ms);
    appel.signal?.addEventListener('abort', () => (clearTimeout(t), reject(new Expiration('recherche abandonnée'))), { once: true });
  });
}
