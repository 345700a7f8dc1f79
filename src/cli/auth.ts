// `socle token` and `socle client …`: operators' access to a running platform, through its token
// endpoint and admin API with the bootstrap admin client (the embedded database belongs to the
// running process, so these commands go over HTTP). The admin secret comes from SOCLE_ADMIN_SECRET
// or <SOCLE_DATA_DIR>/admin-client-secret.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { ADMIN_CLIENT_ID, adminSecretFromFiles } from '../auth/clients.ts';
import type { Command } from './index.ts';

async function adminToken(baseUrl: string, scope = 'admin'): Promise<string> {
  const config = loadConfig();
  const secret = adminSecretFromFiles(config);
  if (!secret) throw new Error('no admin secret: set SOCLE_ADMIN_SECRET or SOCLE_DATA_DIR (admin-client-secret)');
  const res = await fetch(`${baseUrl}/auth/pro/protocol/openid-connect/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${ADMIN_CLIENT_ID}:${encodeURIComponent(secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`token endpoint: ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim());
  return body.access_token;
}

const baseUrlOf = (url?: string) => (url ?? loadConfig().baseUrl).replace(/\/$/, '');

const tokenCommand: Command = {
  name: 'token',
  summary: 'Print an access token of the bootstrap admin client (client_credentials, scope admin) of a running platform',
  usage: 'socle token [--url BASE_URL] [--scope SCOPE]',
  async run(args) {
    const { values } = parseArgs({ args, options: { url: { type: 'string' }, scope: { type: 'string' } } });
    console.log(await adminToken(baseUrlOf(values.url), values.scope));
    return 0;
  },
};

const clientCommand: Command = {
  name: 'client',
  summary: 'Manage OpenID relying parties: client list | add <id> [options] | remove <id>',
  usage: [
    'socle client list [--url BASE_URL]',
    'socle client add <client_id> --redirect-uri URI… [--scope S…] [--auth-method client_secret_basic|client_secret_post|private_key_jwt|tls_client_auth]',
    '                  [--issuer pro|patient…] [--grant authorization_code|refresh_token|client_credentials…] [--secret S]',
    '                  [--jwks-file FILE] [--tls-subject-dn DN] [--userinfo-jwt] [--name NAME] [--url BASE_URL]',
    'socle client remove <client_id> [--url BASE_URL]',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        scope: { type: 'string', multiple: true },
        'auth-method': { type: 'string' },
        issuer: { type: 'string', multiple: true },
        grant: { type: 'string', multiple: true },
        secret: { type: 'string' },
        'jwks-file': { type: 'string' },
        'tls-subject-dn': { type: 'string' },
        'userinfo-jwt': { type: 'boolean' },
        name: { type: 'string' },
      },
    });
    const [action, clientId] = positionals;
    const baseUrl = baseUrlOf(values.url);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${baseUrl}/admin/clients${path}`, {
        method,
        headers: { authorization: `Bearer ${await adminToken(baseUrl)}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} /admin/clients${path}: ${res.status} ${text}`);
      return text;
    };
    if (action === 'list') {
      const clients = JSON.parse(await call('GET', '')) as { clientId: string; authMethod: string; issuers: string[]; scopes: string[]; redirectUris: string[] }[];
      for (const c of clients) console.log([c.clientId, c.authMethod, c.issuers.join(','), c.scopes.join(' '), c.redirectUris.join(' ')].join('\t'));
      return 0;
    }
    if (!clientId) throw new Error('a client_id is required');
    if (action === 'remove') {
      await call('DELETE', `/${encodeURIComponent(clientId)}`);
      console.log(`client ${clientId} removed`);
      return 0;
    }
    if (action !== 'add') throw new Error(`unknown action "${action ?? ''}" (list, add, remove)`);
    const created = await call('POST', '', {
      clientId,
      name: values.name,
      redirectUris: values['redirect-uri'],
      scopes: values.scope?.flatMap((s) => s.split(' ')),
      authMethod: values['auth-method'],
      issuers: values.issuer,
      grantTypes: values.grant,
      secret: values.secret,
      jwks: values['jwks-file'] ? JSON.parse(readFileSync(values['jwks-file'], 'utf8')) : undefined,
      tlsSubjectDn: values['tls-subject-dn'],
      userinfoSigned: values['userinfo-jwt'],
    });
    // The generated secret is shown this once.
    console.log(created);
    return 0;
  },
};

export const authCommands: Command[] = [tokenCommand, clientCommand];
