// HTTP(S) calls of the conformance checker, as the SAS platform makes them: optional client certificate (mutual TLS).
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface Identite { cert: string; key: string; ca?: string }

export interface Reponse {
  statut: number; entetes: http.IncomingHttpHeaders; texte: string; json?: any; ms: number; protocole?: string | null;
}

export interface OptionsAppel {
  methode?: 'GET' | 'POST' | 'PUT'; corps?: unknown; entetes?: Record<string, string>;
  /** The client certificate; `null` sends none even when the checker has one. */
  identite?: Identite | null; ca?: string;
  /** Extra TLS options (protocol versions, ciphers) for the security checks. */
  tls?: https.RequestOptions; delaiMs?: number;
}

/** One call; rejects on network or TLS failure, resolves with any HTTP status. */
export function appeler(url: string, options: OptionsAppel = {}): Promise<Reponse> {
  const cible = new URL(url);
  const corps = options.corps === undefined ? undefined
    : typeof options.corps === 'string' ? options.corps : JSON.stringify(options.corps);
  const entetes: Record<string, string> = {
    // The SAS platform sends this (sic) Accept header; servers must also accept application/fhir+json.
    Accept: 'application/json+fhir', ...(corps !== undefined ? { 'Content-Type': 'application/fhir+json; charset=utf-8' } : {}),
    ...options.entetes,
  };
  const tls: https.RequestOptions = cible.protocol === 'https:' ? {
    ca: options.ca ?? options.identite?.ca, cert: options.identite?.cert, key: options.identite?.key, ...options.tls,
    agent: false,
  } : {};
  const module = cible.protocol === 'https:' ? https : http;
  const debut = performance.now();
  return new Promise((resolve, reject) => {
    const req = module.request(cible, { method: options.methode ?? 'GET', headers: entetes, timeout: options.delaiMs ?? 15_000, ...tls }, (res) => {
      const socket = res.socket as TLSSocket | null;
      const protocole = typeof socket?.getProtocol === 'function' ? socket.getProtocol() : undefined;
      const morceaux: Buffer[] = [];
      res.on('data', (m: Buffer) => morceaux.push(m));
      res.on('error', reject);
      res.on('end', () => {
        const texte = Buffer.concat(morceaux).toString('utf8');
        let json: unknown;
        try { json = texte ? JSON.parse(texte) : undefined; } catch { json = undefined; }
        resolve({ statut: res.statusCode ?? 0, entetes: res.headers, texte, json, ms: Math.round(performance.now() - debut), protocole });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.delaiMs ?? 15_000} ms`)));
    req.on('error', reject);
    req.end(corps);
  });
}
