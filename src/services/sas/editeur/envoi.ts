// V3 calls to the SAS platform: HTTPS with the vendor's organisation certificate (mutual TLS) or a bearer token.
import http from 'node:http';
import https from 'node:https';

export type ClientSas = { cert: string; key: string; ca: string } | { bearer: () => Promise<string> };

export interface Retour { statut: number; corps: string }

const DELAI_MS = 10_000;

export async function envoyerFhir(url: string, methode: 'POST' | 'PUT', ressource: unknown, client?: ClientSas): Promise<Retour> {
  const corps = JSON.stringify(ressource);
  const entetes: Record<string, string> = {
    'Content-Type': 'application/fhir+json; charset=utf-8', Accept: 'application/fhir+json', 'Content-Length': String(Buffer.byteLength(corps)),
  };
  if (client && 'bearer' in client) entetes.Authorization = `Bearer ${await client.bearer()}`;
  const tls = client && 'cert' in client ? { cert: client.cert, key: client.key, ca: client.ca, minVersion: 'TLSv1.2' as const } : {};
  const cible = new URL(url);
  const module = cible.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = module.request(cible, { method: methode, headers: entetes, timeout: DELAI_MS, ...tls }, (res) => {
      const morceaux: Buffer[] = [];
      res.on('data', (m: Buffer) => morceaux.push(m));
      res.on('end', () => resolve({ statut: res.statusCode ?? 0, corps: Buffer.concat(morceaux).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${cible.origin} within ${DELAI_MS} ms`)));
    req.on('error', reject);
    req.end(corps);
  });
}
