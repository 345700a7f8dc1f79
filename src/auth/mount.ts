// oidc-provider is a Koa application: its routes get the raw request, body unread, with the
// issuer's path prefix stripped (it infers its mount point from originalUrl). Also serves the
// login pages' assets: DSFR and the WebAuthn script.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, extname, join, normalize, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { IssuerName } from './clients.ts';
import type { Issuer } from './provider.ts';

const WALLET_DISCOVERY = '/.well-known/wallet-openid-configuration';

export function providerRoutes(issuers: Record<IssuerName, Issuer>) {
  return async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers();
    // Leave the body in the stream: oidc-provider parses its own.
    app.addContentTypeParser('*', (_req, _payload, done) => done(null));
    for (const name of ['pro', 'patient'] as const) {
      const prefix = `/auth/${name}`;
      const callbacks = new WeakMap<object, ReturnType<Awaited<ReturnType<Issuer['provider']>>['callback']>>();
      app.all(`${prefix}/*`, async (req, reply) => {
        const provider = await issuers[name].provider();
        let callback = callbacks.get(provider);
        if (!callback) callbacks.set(provider, (callback = provider.callback()));
        const raw = req.raw as IncomingMessage & { originalUrl?: string };
        let path = raw.url!.slice(prefix.length) || '/';
        // Pro Santé Connect publishes its metadata at a non-standard path.
        if (path.startsWith(WALLET_DISCOVERY)) path = '/.well-known/openid-configuration' + path.slice(WALLET_DISCOVERY.length);
        raw.url = path;
        raw.originalUrl = prefix + path;
        reply.hijack();
        await callback(raw, reply.raw);
      });
    }
  };
}

const DSFR = join(dirname(createRequire(import.meta.url).resolve('@gouvfr/dsfr/package.json')), 'dist');
const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const WEBAUTHN_JS = fileURLToPath(new URL('../../web/auth/webauthn.js', import.meta.url));

export async function assetRoutes(app: FastifyInstance) {
  app.get('/auth/assets/webauthn.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await readFile(WEBAUTHN_JS)),
  );
  app.get('/auth/assets/dsfr/*', async (req, reply) => {
    const rel = normalize((req.params as { '*': string })['*']);
    const type = TYPES[extname(rel)];
    if (!type || rel.startsWith('..') || rel.includes(`${sep}..`)) return reply.code(404).send();
    const body = await readFile(join(DSFR, rel)).catch(() => undefined);
    if (!body) return reply.code(404).send();
    return reply.type(type).header('cache-control', 'public, max-age=86400').send(body);
  });
}
