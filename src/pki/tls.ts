// The HTTPS listener (SOCLE_TLS_PORT): the same Fastify app over TLS, with a server certificate from
// the platform PKI. It asks every client for a certificate but lets the TLS session open without one,
// so each route decides: /insi demands an INSi certificate, the FHIR API maps a registered client's
// certificate or a CPS card to a caller, the professional issuer logs a CPS card holder in.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { suivreAppelant } from './appelant.ts';
import { ouvrirPki, type Pki } from './pki.ts';

export interface EcouteTls {
  /** The bound port, once the app is ready. */
  port(): number | undefined;
}

/** The mutual-TLS side of the platform, when SOCLE_TLS_PORT is set. */
export interface TlsPlateforme extends EcouteTls {
  pki: Pki;
}

/** Opens the PKI and the HTTPS listener when configured; tracks the caller's certificate on every request either way. */
export async function ouvrirTls(app: FastifyInstance, config: Config): Promise<TlsPlateforme | undefined> {
  suivreAppelant(app);
  if (config.tlsPort === undefined) return undefined;
  const pki = await ouvrirPki(config.pkiDir || undefined);
  const ecoute = ecouterTls(app, { port: config.tlsPort, host: config.host, pki, noms: nomsServeur(config) });
  return { pki, port: ecoute.port };
}

function nomsServeur(config: Config): string[] {
  const noms = ['localhost', '127.0.0.1', '::1', new URL(config.baseUrl).hostname.replace(/^\[|\]$/gu, '')];
  if (config.host !== '0.0.0.0' && config.host !== '::') noms.push(config.host);
  return [...new Set(noms)];
}

export function ecouterTls(app: FastifyInstance, options: { port: number; host: string; pki: Pki; noms: string[] }): EcouteTls {
  let serveur: Server | undefined;
  app.addHook('onReady', async () => {
    const { cert, key } = await options.pki.certificatServeur(options.noms);
    serveur = createServer({ cert, key, ca: [options.pki.ca], requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (req, res) => app.routing(req, res));
    await new Promise<void>((resolve, reject) => {
      serveur!.once('error', reject);
      serveur!.listen(options.port, options.host, () => resolve());
    });
    app.log.info({ port: (serveur.address() as AddressInfo).port }, 'HTTPS listener ready (client certificates of the platform CA)');
  });
  app.addHook('onClose', async () => {
    if (!serveur?.listening) return;
    // Like the HTTP server: no new connections, idle ones closed, requests in flight finish.
    await new Promise<void>((resolve) => serveur!.close(() => resolve()));
  });
  return { port: () => (serveur?.address() as AddressInfo | null)?.port };
}
