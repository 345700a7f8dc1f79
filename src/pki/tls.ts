// The HTTPS listener (SOCLE_TLS_PORT): the same Fastify app over TLS, with a server certificate from
// the platform PKI. It asks every client for a certificate but lets the TLS session open without one,
// so each route decides: /insi demands an INSi certificate, the FHIR API does not (yet).
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Pki } from './pki.ts';

export interface EcouteTls {
  /** The bound port, once the app is ready. */
  port(): number | undefined;
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
