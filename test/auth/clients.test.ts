// Client registry (admin API and CLI), the client authentication methods a PSC relying party may
// use (private_key_jwt with a signed userinfo JWT, client_secret_post), and tokens of external
// issuers trusted by discovery URL: another Socle instance (introspection) and a JWT issuer (JWKS).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { AuthError } from '../../src/auth/index.ts';
import { totp } from '../../src/auth/totp.ts';
import { main } from '../../src/cli/index.ts';
import { ouvrirPki } from '../../src/pki/pki.ts';
import { ADMIN_SECRET, Browser, form, IDNAT, startAuthServer, type AuthTestServer } from './support.ts';

const REDIRECT = 'http://127.0.0.1:9/callback';
let external: AuthTestServer;
let server: AuthTestServer;
let jwtIssuer: { url: string; sign(claims: Record<string, unknown>): Promise<string>; server: Server };

async function startJwtIssuer() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const http = createServer((req, res) => {
    const url = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks` }));
    else if (req.url === '/jwks') res.end(JSON.stringify({ keys: [jwk] }));
    else res.writeHead(404).end('{}');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  return {
    url,
    server: http,
    sign: (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' }).setIssuer(url).setIssuedAt().setExpirationTime('5m').sign(privateKey),
  };
}

before(async () => {
  external = await startAuthServer();
  jwtIssuer = await startJwtIssuer();
  const introspecting = new URL(`${external.baseUrl}/auth/pro/.well-known/openid-configuration`);
  introspecting.username = 'socle-demo';
  introspecting.password = 'socle-demo-secret';
  server = await startAuthServer({
    authTrustedIssuers: [introspecting.toString(), `${jwtIssuer.url}/.well-known/openid-configuration`],
    authClientCertHeader: 'x-ssl-client-cert',
  });
});
after(async () => {
  await server?.close();
  await external?.close();
  jwtIssuer?.server.close();
});

async function admin(method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token ?? (await server.adminToken())}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
}

async function proLogin(target: AuthTestServer, config: oidc.Configuration) {
  await target.platform.db.query('UPDATE auth_account SET totp_last_step = NULL');
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid scope_all',
    acr_values: 'eidas1',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const browser = new Browser();
  const page = await browser.follow(url.toString(), REDIRECT);
  const f = form(page.body, page.url);
  const done = await browser.follow(f.action, REDIRECT, { form: { csrf: f.csrf, login: IDNAT, code: totp(target.demo.professional!.totpSecret) } });
  return oidc.authorizationCodeGrant(config, new URL(done.location!), { pkceCodeVerifier: verifier });
}

describe('client registry and admin API', () => {
  it('wants an admin token', async () => {
    assert.equal((await fetch(`${server.baseUrl}/admin/clients`)).status, 401);
    assert.equal((await admin('GET', '/admin/clients', undefined, 'forged')).status, 401);
  });

  it('adds, lists, reads and removes clients; refuses invalid metadata', async () => {
    const created = await admin('POST', '/admin/clients', { clientId: 'portail-test', redirectUris: ['https://portail.example/cb'], authMethod: 'client_secret_post' });
    assert.equal(created.status, 201);
    assert.ok(created.body.secret.length >= 24, 'a generated secret, shown once');
    assert.equal((await admin('POST', '/admin/clients', { clientId: 'portail-test', redirectUris: ['https://x.example/cb'] })).status, 409);
    const list = await admin('GET', '/admin/clients');
    assert.ok(list.body.some((c: { clientId: string }) => c.clientId === 'portail-test'));
    assert.ok(list.body.every((c: Record<string, unknown>) => !('secret' in c) && !('sealed_secret' in c)));
    assert.equal((await admin('GET', '/admin/clients/portail-test')).body.authMethod, 'client_secret_post');
    assert.equal((await admin('POST', '/admin/clients', { clientId: 'bad', redirectUris: ['not a uri'] })).status, 400);
    assert.equal((await admin('POST', '/admin/clients', { clientId: 'pkjwt-nokeys', redirectUris: ['https://x.example/cb'], authMethod: 'private_key_jwt' })).status, 400);
    assert.equal((await admin('DELETE', '/admin/clients/portail-test')).status, 204);
    assert.equal((await admin('GET', '/admin/clients/portail-test')).status, 404);
  });

  it('authenticates a private_key_jwt client and signs its userinfo (application/jwt, verified with the JWKS)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'rp-1', alg: 'RS256', use: 'sig' };
    const created = await admin('POST', '/admin/clients', {
      clientId: 'lps-pkjwt',
      redirectUris: [REDIRECT],
      authMethod: 'private_key_jwt',
      jwks: { keys: [jwk] },
      userinfoSigned: true,
      issuers: ['pro'],
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.secret, undefined);
    const issuer = `${server.baseUrl}/auth/pro`;
    const config = await oidc.discovery(new URL(issuer), 'lps-pkjwt', { userinfo_signed_response_alg: 'RS256' }, oidc.PrivateKeyJwt({ key: privateKey, kid: 'rp-1' }), {
      execute: [oidc.allowInsecureRequests],
    });
    const tokens = await proLogin(server, config);
    assert.equal(tokens.claims()!.acr, 'eidas1');
    const res = await fetch(`${issuer}/protocol/openid-connect/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.match(res.headers.get('content-type')!, /application\/jwt/);
    const { payload, protectedHeader } = await jwtVerify(await res.text(), createRemoteJWKSet(new URL(`${issuer}/protocol/openid-connect/certs`)), {
      issuer,
      audience: 'lps-pkjwt',
    });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.SubjectNameID, IDNAT);
    assert.deepEqual(payload.SubjectRole, ['10^1.2.250.1.213.1.1.5.5']);
    const viaRp = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    assert.equal(viaRp.SubjectNameID, IDNAT);
  });

  it('authenticates a client_secret_post client (client_credentials): a system principal, not an admin', async () => {
    const created = await admin('POST', '/admin/clients', { clientId: 'batch-job', grantTypes: ['client_credentials'], authMethod: 'client_secret_post', scopes: ['openid'], issuers: ['pro'] });
    const config = await oidc.discovery(new URL(`${server.baseUrl}/auth/pro`), 'batch-job', created.body.secret, oidc.ClientSecretPost(created.body.secret), {
      execute: [oidc.allowInsecureRequests],
    });
    const tokens = await oidc.clientCredentialsGrant(config, {});
    const principal = await server.platform.auth.verifyAccessToken(tokens.access_token);
    assert.equal(principal.kind, 'system');
    assert.equal(principal.clientId, 'batch-job');
    assert.equal(principal.admin, undefined);
    await assert.rejects(oidc.clientCredentialsGrant(config, { scope: 'admin' }), (e: oidc.ResponseBodyError) => e.error === 'invalid_scope');
  });

  it('authenticates a tls_client_auth client by its certificate subject (certificate from the TLS proxy header)', async () => {
    const pki = await ouvrirPki();
    const structure = { identifiant: '1750712184', nom: 'Hôpital Saint-Antoine' };
    const cert = await pki.emettreOrganisation('LPS-TEST', structure);
    const other = await pki.emettreOrganisation('AUTRE-LPS', structure);
    // Registered in RFC 4514 order, as an operator would copy it.
    const dn = new X509Certificate(cert.cert).subject.split('\n').reverse().join(', ');
    const created = await admin('POST', '/admin/clients', {
      clientId: 'proxy-mtls',
      grantTypes: ['client_credentials'],
      authMethod: 'tls_client_auth',
      tlsSubjectDn: dn,
      scopes: ['openid'],
      issuers: ['pro'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const token = (pem?: string) =>
      fetch(`${server.baseUrl}/auth/pro/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(pem ? { 'x-ssl-client-cert': encodeURIComponent(pem) } : {}) },
        body: 'grant_type=client_credentials&client_id=proxy-mtls',
      });
    const ok = await token(cert.cert);
    assert.equal(ok.status, 200);
    const principal = await server.platform.auth.verifyAccessToken(((await ok.json()) as { access_token: string }).access_token);
    assert.equal(principal.clientId, 'proxy-mtls');
    assert.equal((await token(other.cert)).status, 401);
    assert.equal((await token()).status, 401);
    const discovery = await (await fetch(`${server.baseUrl}/auth/pro/.well-known/openid-configuration`)).json();
    assert.ok(discovery.token_endpoint_auth_methods_supported.includes('tls_client_auth'));
  });

  it('socle token and socle client add|list|remove work against the running platform', async () => {
    const saved = { url: process.env.SOCLE_BASE_URL, secret: process.env.SOCLE_ADMIN_SECRET };
    process.env.SOCLE_BASE_URL = server.baseUrl;
    process.env.SOCLE_ADMIN_SECRET = ADMIN_SECRET;
    const out: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void out.push(args.join(' '));
    try {
      assert.equal(await main(['token']), 0);
      const principal = await server.platform.auth.verifyAccessToken(out.pop()!);
      assert.equal(principal.admin, true);
      assert.equal(await main(['client', 'add', 'cli-app', '--redirect-uri', 'https://cli.example/cb', '--scope', 'openid scope_all']), 0);
      assert.ok(JSON.parse(out.pop()!).secret);
      assert.equal(await main(['client', 'list']), 0);
      assert.ok(out.some((l) => l.startsWith('cli-app\tclient_secret_basic')));
      assert.equal(await main(['client', 'remove', 'cli-app']), 0);
      assert.equal((await admin('GET', '/admin/clients/cli-app')).status, 404);
    } finally {
      console.log = log;
      process.env.SOCLE_BASE_URL = saved.url;
      process.env.SOCLE_ADMIN_SECRET = saved.secret;
      if (saved.url === undefined) delete process.env.SOCLE_BASE_URL;
      if (saved.secret === undefined) delete process.env.SOCLE_ADMIN_SECRET;
    }
  });
});

describe('external issuers trusted by discovery URL', () => {
  it('accepts a professional token of another Socle instance, checked by introspection, with the local Annuaire data', async () => {
    const config = await oidc.discovery(new URL(`${external.baseUrl}/auth/pro`), 'socle-demo', 'socle-demo-secret', undefined, { execute: [oidc.allowInsecureRequests] });
    const tokens = await proLogin(external, config);
    const principal = await server.platform.auth.verifyAccessToken(tokens.access_token);
    assert.equal(principal.kind, 'professional');
    assert.equal(principal.issuer, `${external.baseUrl}/auth/pro`);
    assert.equal(principal.idNatPs, IDNAT);
    assert.equal(principal.practitionerId, server.demo.professional!.practitionerId);
    assert.deepEqual(principal.professions, ['10']);
    assert.equal(principal.acr, 'eidas1');
    await oidc.tokenRevocation(config, tokens.access_token);
    await assert.rejects(server.platform.auth.verifyAccessToken(tokens.access_token), AuthError);
  });

  it('accepts a JWT signed by a trusted issuer, and refuses a forged signature or an unknown person', async () => {
    const good = await jwtIssuer.sign({ sub: 'f:abc:' + IDNAT, SubjectNameID: IDNAT, scope: 'openid scope_all', acr: 'eidas1', client_id: 'rp' });
    const principal = await server.platform.auth.verifyAccessToken(good);
    assert.equal(principal.kind, 'professional');
    assert.equal(principal.issuer, jwtIssuer.url);
    assert.deepEqual(principal.scopes, ['openid', 'scope_all']);
    const [h, p] = good.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), SubjectNameID: '899700000000' })).toString('base64url')}.${good.split('.')[2]}`;
    await assert.rejects(server.platform.auth.verifyAccessToken(forged), (e: AuthError) => e.status === 401);
    const stranger = await jwtIssuer.sign({ sub: 'someone', SubjectNameID: '899700000000' });
    await assert.rejects(server.platform.auth.verifyAccessToken(stranger), (e: AuthError) => /unknown to the platform/.test(e.message));
  });
});
