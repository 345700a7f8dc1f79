// Who is calling, as the transport tells it: the subject of a client certificate issued by the
// platform CA (mutual TLS on the HTTPS listener), or nobody. Kept per request in an AsyncLocalStorage
// so that FHIR operations, which never see the HTTP request, can name the caller in their AuditEvents.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { OU_CARTE_CPS } from './pki.ts';

export interface Appelant {
  /** "anonymous", or the subject DN of a certificate issued by the platform CA. */
  sujet: string;
  /** Common name of that certificate (INSI-AUTO, INSI-MANU, a software name…). */
  cn?: string;
  /** Plain HTTP, TLS without a client certificate, with one the platform did not issue, or mutual TLS. */
  certificat: 'sans-tls' | 'absent' | 'non-reconnu' | 'plateforme';
  /** Why a presented certificate was not recognised. */
  refus?: string;
  /** The idNat_PS of a CPS card's certificate (OU=CPS). */
  carteCps?: string;
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const stockage = new AsyncLocalStorage<Appelant>();

// A TLS session keeps its peer certificate: read it once per connection, not per request.
const parSession = new WeakMap<TLSSocket, Appelant>();

export function appelantDe(req: IncomingMessage): Appelant {
  const socket = req.socket as TLSSocket;
  if (!socket.encrypted) return { sujet: 'anonymous', certificat: 'sans-tls' };
  let appelant = parSession.get(socket);
  if (!appelant) parSession.set(socket, (appelant = deSession(socket)));
  return appelant;
}

function deSession(socket: TLSSocket): Appelant {
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.subject) return { sujet: 'anonymous', certificat: 'absent' };
  // With requestCert and rejectUnauthorized false, OpenSSL's verdict against the platform CA is here.
  if (!socket.authorized) return { sujet: 'anonymous', certificat: 'non-reconnu', refus: String(socket.authorizationError) };
  if (!cert.ext_key_usage?.includes(CLIENT_AUTH)) {
    return { sujet: 'anonymous', certificat: 'non-reconnu', refus: "le certificat n'a pas l'usage authentification client" };
  }
  const sujet = cert.subject as unknown as Record<string, string | string[]>;
  const cn = [sujet.CN ?? []].flat()[0];
  const carte = [sujet.OU ?? []].flat().includes(OU_CARTE_CPS) ? cn : undefined;
  return { sujet: dn(sujet), cn, certificat: 'plateforme', ...(carte ? { carteCps: carte } : {}) };
}

/** The caller of the request being handled ("anonymous" outside a request). */
export function appelantCourant(): Appelant {
  return stockage.getStore() ?? { sujet: 'anonymous', certificat: 'sans-tls' };
}

/** Must be called before the routes that read appelantCourant() are registered. */
export function suivreAppelant(app: FastifyInstance): void {
  // preHandler runs after the body is parsed: the handler, called from done(), runs inside the store.
  app.addHook('preHandler', (req, _reply, done) => stockage.run(appelantDe(req.raw), done));
}

// RFC 4514 order (most specific first), as OpenSSL and the IGC-Santé documents print it.
function dn(sujet: Record<string, string | string[]>): string {
  const ordre = ['CN', 'GN', 'SN', 'OU', 'O', 'L', 'ST', 'C'];
  const cles = Object.keys(sujet).sort((a, b) => (ordre.indexOf(a) + 1 || 99) - (ordre.indexOf(b) + 1 || 99));
  return cles.flatMap((k) => [sujet[k]!].flat().map((v) => `${k}=${v.replace(/([,+"\\<>;=])/gu, '\\$1')}`)).join(', ');
}
