// The professional issuer as a Pro Santé Connect relying party meets it: discovery at both paths,
// authorization code with PKCE and acr eidas1, e-CPS login (idNat_PS + TOTP), the PSC claims from
// the Annuaire, introspection, refresh, revocation, logout, key rotation; and the bad paths.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { totp, totpAt, currentStep } from '../../src/auth/totp.ts';
import { AuthError } from '../../src/auth/index.ts';
import { Browser, form, IDNAT, startAuthServer, type AuthTestServer } from './support.ts';

const REDIRECT = 'http://127.0.0.1:9/callback';
let server: AuthTestServer;
let issuer: string;
let rp: oidc.Configuration;

before(async () => {
  server = await startAuthServer();
  issuer = `${server.baseUrl}/auth/pro`;
  rp = await oidc.discovery(new URL(issuer), 'socle-demo', 'socle-demo-secret', undefined, { execute: [oidc.allowInsecureRequests] });
});
after(() => server?.close());

/** Each login needs a fresh TOTP step (a code is good once): forget the last one seen. */
async function forgetTotpReplay() {
  await server.platform.db.query('UPDATE auth_account SET totp_last_step = NULL');
}

async function authorize(config: oidc.Configuration, params: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid scope_all',
    acr_values: 'eidas1',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url: url.toString(), verifier, state, nonce };
}

/** Goes through the e-CPS login page; returns the callback URL the browser lands on. */
async function login(browser: Browser, url: string, code = totp(server.demo.professional!.totpSecret), idNat = IDNAT) {
  const page = await browser.follow(url, REDIRECT);
  assert.equal(page.status, 200, /<main[\s\S]*<\/main>/.exec(page.body)?.[0] ?? page.body);
  assert.match(page.body, /Connexion avec e-CPS/);
  const f = form(page.body, page.url);
  return browser.follow(f.action, REDIRECT, { form: { csrf: f.csrf, login: idNat, code } });
}

async function fullLogin(config = rp, params: Record<string, string> = {}) {
  await forgetTotpReplay();
  const browser = new Browser();
  const req = await authorize(config, params);
  const res = await login(browser, req.url);
  assert.ok(res.location?.startsWith(REDIRECT), `expected a redirect to the client, got ${res.status} ${res.body.slice(0, 300)}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(res.location!), { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
  return { browser, tokens, callback: res.location!, req };
}

describe('professional issuer (Pro Santé Connect–compatible)', () => {
  it('publishes its metadata at the standard path and at PSC wallet alias, with PSC endpoint layout', async () => {
    const standard = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
    const wallet = await (await fetch(`${issuer}/.well-known/wallet-openid-configuration`)).json();
    assert.deepEqual(wallet, standard);
    assert.equal(standard.issuer, issuer);
    assert.equal(standard.token_endpoint, `${issuer}/protocol/openid-connect/token`);
    assert.equal(standard.userinfo_endpoint, `${issuer}/protocol/openid-connect/userinfo`);
    assert.equal(standard.jwks_uri, `${issuer}/protocol/openid-connect/certs`);
    assert.equal(standard.introspection_endpoint, `${issuer}/protocol/openid-connect/token/introspect`);
    assert.equal(standard.end_session_endpoint, `${issuer}/protocol/openid-connect/logout`);
    assert.equal(standard.revocation_endpoint, `${issuer}/protocol/openid-connect/revoke`);
    assert.deepEqual(standard.acr_values_supported, ['eidas1']);
    for (const m of ['client_secret_basic', 'client_secret_post', 'private_key_jwt']) assert.ok(standard.token_endpoint_auth_methods_supported.includes(m));
    assert.ok(standard.scopes_supported.includes('scope_all'));
    const viaAlias = await oidc.discovery(new URL(`${issuer}/.well-known/wallet-openid-configuration`), 'socle-demo', 'socle-demo-secret', undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    assert.equal(viaAlias.serverMetadata().issuer, issuer);
  });

  it('logs a professional in with e-CPS (TOTP): code + PKCE, acr eidas1, PSC claims from the Annuaire', async () => {
    const { tokens } = await fullLogin();
    const claims = tokens.claims()!;
    assert.equal(claims.acr, 'eidas1');
    assert.match(claims.sub, new RegExp(`^f:[0-9a-f-]+:${IDNAT}$`));
    assert.ok(tokens.refresh_token, 'a refresh token');
    assert.ok(tokens.expires_in! <= 300);

    const info = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub);
    assert.equal(info.SubjectNameID, IDNAT);
    assert.equal(info.preferred_username, IDNAT);
    assert.equal(info.family_name, 'Martin');
    assert.equal(info.given_name, 'Claire');
    assert.deepEqual(info.SubjectRole, ['10^1.2.250.1.213.1.1.5.5']);
    assert.equal(info.Secteur_Activite, 'SA01^1.2.250.1.71.4.2.4');
    assert.equal(info.SubjectOrganization, 'Hôpital Saint-Antoine');
    assert.match(String(info.Palier_Authentification), /\^1\.2\.250\.1\.213\.1\.5\.1\.1\.1$/);
    const refPro = info.SubjectRefPro as { codeCivilite: string; exercices: Record<string, unknown>[] };
    assert.equal(refPro.codeCivilite, 'MME');
    assert.equal(refPro.exercices.length, 1);
    assert.equal(refPro.exercices[0].codeProfession, '10');
    assert.equal(refPro.exercices[0].codeSavoirFaire, 'SM54');
    assert.equal(refPro.exercices[0].codeCiviliteDexercice, 'DR');
    const activity = (refPro.exercices[0].activities as Record<string, string>[])[0];
    assert.equal(activity.numeroFinessSite, '750712184');
    assert.equal(activity.codeSecteurDactivite, 'SA01');
    assert.equal(activity.codePostal, '75012');
    assert.ok(Array.isArray(info.otherIds));

    const principal = await server.platform.auth.verifyAccessToken(tokens.access_token);
    assert.equal(principal.kind, 'professional');
    assert.equal(principal.issuer, issuer);
    assert.equal(principal.subject, claims.sub);
    assert.equal(principal.clientId, 'socle-demo');
    assert.deepEqual(principal.scopes.sort(), ['openid', 'scope_all']);
    assert.equal(principal.acr, 'eidas1');
    assert.equal(principal.idNatPs, IDNAT);
    assert.deepEqual(principal.professions, ['10']);
    assert.deepEqual(principal.specialties, ['SM54']);
    assert.equal(principal.practitionerId, server.demo.professional!.practitionerId);
  });

  it('introspects, refreshes and revokes', async () => {
    const { tokens } = await fullLogin();
    const active = await oidc.tokenIntrospection(rp, tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.acr, 'eidas1');
    assert.equal(active.preferred_username, IDNAT);
    assert.equal(active.client_id, 'socle-demo');

    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
    assert.ok(refreshed.access_token && refreshed.access_token !== tokens.access_token);
    assert.equal((await server.platform.auth.verifyAccessToken(refreshed.access_token)).acr, 'eidas1');

    await oidc.tokenRevocation(rp, refreshed.access_token);
    assert.equal((await oidc.tokenIntrospection(rp, refreshed.access_token)).active, false);
    await assert.rejects(server.platform.auth.verifyAccessToken(refreshed.access_token), (e: AuthError) => e instanceof AuthError && e.status === 401);
  });

  it('ends the session with RP-initiated logout: tokens bound to it stop working, the next request asks to log in again', async () => {
    const { browser, tokens } = await fullLogin();
    const url = oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: REDIRECT, state: 'bye' });
    const confirm = await browser.request(url.toString());
    assert.equal(confirm.status, 200);
    assert.match(confirm.body, /Voulez-vous vous déconnecter/);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)![1];
    const action = new URL(/action="([^"]+)"/.exec(confirm.body)![1], url).toString();
    const done = await browser.follow(action, REDIRECT, { form: { xsrf, logout: 'yes' } });
    assert.ok(done.location?.startsWith(REDIRECT));
    assert.equal(new URL(done.location!).searchParams.get('state'), 'bye');
    await assert.rejects(server.platform.auth.verifyAccessToken(tokens.access_token), AuthError);
    const trail = await fetch(`${server.fhirUrl}/AuditEvent?subtype=110123`, { headers: { authorization: `Bearer ${await server.adminToken()}` } });
    const logouts = ((await trail.json()) as { entry?: { resource: { agent: { who?: { identifier?: { value?: string } } }[] } }[] }).entry ?? [];
    assert.ok(logouts.some((e) => e.resource.agent[0].who?.identifier?.value === IDNAT), 'the logout is in the audit trail');
    const again = await browser.follow((await authorize(rp)).url, REDIRECT);
    assert.match(again.body, /Connexion avec e-CPS/);
  });

  it('serves a French DSFR login page with an anti-CSRF token, and refuses a form without it', async () => {
    await forgetTotpReplay();
    const browser = new Browser();
    const page = await browser.follow((await authorize(rp)).url, REDIRECT);
    assert.match(page.body, /<html lang="fr"/);
    assert.match(page.body, /dsfr\.min\.css/);
    assert.match(page.body, /Identifiant national/);
    const css = await fetch(`${server.baseUrl}/auth/assets/dsfr/dsfr.min.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type')!, /text\/css/);
    assert.equal((await fetch(`${server.baseUrl}/auth/assets/dsfr/..%2F..%2Fpackage.json`)).status, 404);
    const f = form(page.body, page.url);
    const forged = await browser.request(f.action, { form: { csrf: 'forged', login: IDNAT, code: totp(server.demo.professional!.totpSecret) } });
    assert.equal(forged.status, 403);
  });

  it('signs ID tokens with keys from its JWKS, and keeps the previous key after a rotation', async () => {
    const before = (await (await fetch(`${issuer}/protocol/openid-connect/certs`)).json()) as { keys: { kid: string; d?: string }[] };
    assert.ok(before.keys.every((k) => !k.d), 'no private part published');
    const admin = await server.adminToken();
    const rotated = await fetch(`${server.baseUrl}/admin/keys/rotate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ issuer: 'pro' }),
    });
    assert.equal(rotated.status, 200);
    const afterRotation = (await (await fetch(`${issuer}/protocol/openid-connect/certs`)).json()) as { keys: { kid: string }[] };
    for (const k of before.keys) assert.ok(afterRotation.keys.some((a) => a.kid === k.kid), 'previous keys still published');
    assert.equal(afterRotation.keys.length, before.keys.length * 2);
    const fresh = await oidc.discovery(new URL(issuer), 'socle-demo', 'socle-demo-secret', undefined, { execute: [oidc.allowInsecureRequests] });
    const { tokens } = await fullLogin(fresh);
    const kid = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0], 'base64url').toString()).kid;
    assert.ok(!before.keys.some((k) => k.kid === kid), 'signed with the new key');
  });
});

describe('professional issuer: bad paths', () => {
  it('refuses an unregistered redirect URI without redirecting to it', async () => {
    const req = await authorize(rp, { redirect_uri: 'https://evil.example/callback' });
    const res = await new Browser().request(req.url);
    assert.equal(res.status, 400);
    assert.equal(res.location, undefined);
    assert.match(res.body, /adresse de retour/);
  });

  it('refuses a replayed authorization code', async () => {
    await forgetTotpReplay();
    const browser = new Browser();
    const req = await authorize(rp);
    const res = await login(browser, req.url);
    const checks = { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce };
    await oidc.authorizationCodeGrant(rp, new URL(res.location!), checks);
    await assert.rejects(oidc.authorizationCodeGrant(rp, new URL(res.location!), checks), (e: oidc.ResponseBodyError) => e.error === 'invalid_grant');
  });

  it('refuses a wrong PKCE verifier', async () => {
    await forgetTotpReplay();
    const req = await authorize(rp);
    const res = await login(new Browser(), req.url);
    await assert.rejects(
      oidc.authorizationCodeGrant(rp, new URL(res.location!), { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: req.state }),
      (e: oidc.ResponseBodyError) => e.error === 'invalid_grant',
    );
  });

  it('answers an acr it cannot satisfy with unmet_authentication_requirements, before asking for credentials', async () => {
    const req = await authorize(rp, { acr_values: 'eidas3' });
    const res = await new Browser().follow(req.url, REDIRECT);
    assert.ok(res.location?.startsWith(REDIRECT));
    assert.equal(new URL(res.location!).searchParams.get('error'), 'unmet_authentication_requirements');
  });

  it('refuses a wrong TOTP code and a replayed one', async () => {
    await forgetTotpReplay();
    const secret = server.demo.professional!.totpSecret;
    const wrong = String((Number(totp(secret)) + 1) % 1_000_000).padStart(6, '0');
    const res = await login(new Browser(), (await authorize(rp)).url, wrong);
    assert.equal(res.status, 401);
    assert.match(res.body, /code e-CPS incorrect/);

    const code = totpAt(secret, currentStep());
    const first = await login(new Browser(), (await authorize(rp)).url, code);
    assert.ok(first.location?.startsWith(REDIRECT));
    const replay = await login(new Browser(), (await authorize(rp)).url, code);
    assert.equal(replay.status, 401);
  });

  it('locks the account after 5 failures, even for the right code, and says so', async () => {
    const admin = await server.adminToken();
    const enrol = await fetch(`${server.baseUrl}/admin/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'professional', login: IDNAT }),
    });
    assert.equal(enrol.status, 201);
    const { totpSecret } = (await enrol.json()) as { totpSecret: string };
    for (let i = 0; i < 5; i++) await login(new Browser(), (await authorize(rp)).url, '000000');
    const locked = await login(new Browser(), (await authorize(rp)).url, totp(totpSecret));
    assert.equal(locked.status, 423);
    assert.match(locked.body, /verrouillé/);
    // Back to the demo secret for the other tests (re-enrolment lifts the lock).
    await fetch(`${server.baseUrl}/admin/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'professional', login: IDNAT, totpSecret: server.demo.professional!.totpSecret }),
    });
  });

  it('rejects an expired access token', async () => {
    const { tokens } = await fullLogin();
    await server.platform.db.query(
      "UPDATE auth_oidc_payload SET payload = jsonb_set(payload::jsonb, '{exp}', to_jsonb(extract(epoch FROM now())::int - 10))::text WHERE id = $1",
      [tokens.access_token],
    );
    await assert.rejects(server.platform.auth.verifyAccessToken(tokens.access_token), (e: AuthError) => e.status === 401 && /expired/.test(e.message));
  });

  it('rejects tokens it did not issue', async () => {
    await assert.rejects(server.platform.auth.verifyAccessToken('not-a-token-of-ours'), (e: AuthError) => e.status === 401);
    const foreign = [{ alg: 'none' }, { iss: 'https://unknown.example', sub: 'x', exp: 2e9 }].map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')).join('.') + '.sig';
    await assert.rejects(server.platform.auth.verifyAccessToken(foreign), (e: AuthError) => e.status === 401 && /untrusted issuer/.test(e.message));
  });

  it('gives a client no more scope than registered: scope_all refused, userinfo without it has no PSC claims, no admin API', async () => {
    const admin = await server.adminToken();
    const created = await fetch(`${server.baseUrl}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'narrow-app', redirectUris: [REDIRECT], scopes: ['openid'], issuers: ['pro'] }),
    });
    assert.equal(created.status, 201);
    const { secret } = (await created.json()) as { secret: string };
    const narrow = await oidc.discovery(new URL(issuer), 'narrow-app', secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const refused = await new Browser().follow((await authorize(narrow)).url, REDIRECT);
    assert.equal(new URL(refused.location!).searchParams.get('error'), 'invalid_scope');
    const { tokens } = await fullLogin(narrow, { scope: 'openid' });
    const principal = await server.platform.auth.verifyAccessToken(tokens.access_token);
    assert.deepEqual(principal.scopes, ['openid']);
    const info = await oidc.fetchUserInfo(narrow, tokens.access_token, tokens.claims()!.sub);
    assert.equal(info.SubjectNameID, undefined);
    assert.equal(info.SubjectRefPro, undefined);
    // and the narrow client's token does not open the admin API
    const denied = await fetch(`${server.baseUrl}/admin/clients`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(denied.status, 403);
  });
});
