// The patient issuer (Mon espace santé login): INS and password, then a code sent through the
// outbox; acr eidas2; wrong code, lockout, recovery by a code, logout of the session.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { AuthError } from '../../src/auth/index.ts';
import { Browser, form, NIR, startAuthServer, type AuthTestServer } from './support.ts';

const REDIRECT = 'http://127.0.0.1:9/callback';
let server: AuthTestServer;
let rp: oidc.Configuration;

before(async () => {
  server = await startAuthServer();
  rp = await oidc.discovery(new URL(`${server.baseUrl}/auth/patient`), 'socle-demo', 'socle-demo-secret', undefined, { execute: [oidc.allowInsecureRequests] });
});
after(() => server?.close());

async function authorize(params: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT,
    scope: 'openid profile ins',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...params,
  });
  return { url: url.toString(), verifier, state };
}

const lastCode = (purpose: string) => server.outbox().filter((m) => m.login === NIR && m.purpose === purpose).at(-1)?.code;

async function passwordStep(browser: Browser, url: string, password = server.demo.patient!.password) {
  const page = await browser.follow(url, REDIRECT);
  assert.match(page.body, /Connexion à Mon espace santé/);
  const f = form(page.body, page.url);
  return browser.follow(f.action, REDIRECT, { form: { csrf: f.csrf, login: NIR, password } });
}

async function codeStep(browser: Browser, page: { body: string; url: string }, code: string) {
  const f = form(page.body, page.url);
  return browser.follow(f.action, REDIRECT, { form: { csrf: f.csrf, code } });
}

describe('patient issuer', () => {
  it('logs a patient in with password and a code sent to them: acr eidas2, INS claims, Patient id in the principal', async () => {
    const browser = new Browser();
    const req = await authorize();
    const second = await passwordStep(browser, req.url);
    assert.match(second.body, /Vérification en deux étapes/);
    assert.match(second.body, /vient de vous être envoyé/);
    const code = lastCode('login');
    assert.match(code!, /^\d{6}$/);
    const done = await codeStep(browser, second, code!);
    assert.ok(done.location?.startsWith(REDIRECT), done.body.slice(0, 300));
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(done.location!), { pkceCodeVerifier: req.verifier, expectedState: req.state });
    const claims = tokens.claims()!;
    assert.equal(claims.acr, 'eidas2');
    const info = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub);
    assert.equal(info.ins, NIR);
    assert.equal(info.ins_oid, '1.2.250.1.213.1.4.10');
    assert.equal(info.family_name, 'DUPONT');
    assert.equal(info.birthdate, '1979-03-15');
    const principal = await server.platform.auth.verifyAccessToken(tokens.access_token);
    assert.equal(principal.kind, 'patient');
    assert.equal(principal.acr, 'eidas2');
    assert.equal(principal.ins, NIR);
    assert.equal(principal.patientId, server.demo.patient!.patientId);

    // Logout of the federated session: the token dies with it.
    const end = oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: REDIRECT });
    const confirm = await browser.request(end.toString());
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)![1];
    const action = new URL(/action="([^"]+)"/.exec(confirm.body)![1], end).toString();
    const out = await browser.follow(action, REDIRECT, { form: { xsrf, logout: 'yes' } });
    assert.ok(out.location?.startsWith(REDIRECT));
    await assert.rejects(server.platform.auth.verifyAccessToken(tokens.access_token), AuthError);
  });

  it('refuses a wrong password and a wrong code; a code is good in the browser that asked for it only', async () => {
    const wrong = await passwordStep(new Browser(), (await authorize()).url, 'not-the-password');
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /mot de passe incorrect/);

    const browser = new Browser();
    const second = await passwordStep(browser, (await authorize()).url);
    const code = lastCode('login')!;
    const bad = await codeStep(browser, second, code === '000000' ? '111111' : '000000');
    assert.equal(bad.status, 401);
    assert.match(bad.body, /Code incorrect/);
    // Another browser's interaction does not accept this code.
    const other = new Browser();
    const otherPage = await other.follow((await authorize()).url, REDIRECT);
    const f = form(otherPage.body, otherPage.url);
    const stolen = await other.request(f.action.replace(/\/login$/, '/verify'), { form: { csrf: f.csrf, code } });
    assert.equal(stolen.status, 401);
    // The right code still works where it was sent (within its three tries).
    const ok = await codeStep(browser, bad, code);
    assert.ok(ok.location?.startsWith(REDIRECT));
  });

  it('rejects acr_values above what it offers', async () => {
    const res = await new Browser().follow((await authorize({ acr_values: 'eidas3' })).url, REDIRECT);
    assert.equal(new URL(res.location!).searchParams.get('error'), 'unmet_authentication_requirements');
  });

  it('locks the account after 5 failures; recovery by a code sets a new password and lifts the lock', async () => {
    for (let i = 0; i < 4; i++) assert.equal((await passwordStep(new Browser(), (await authorize()).url, `wrong-${i}`)).status, 401);
    assert.equal((await passwordStep(new Browser(), (await authorize()).url, 'wrong-4')).status, 423);
    const locked = await passwordStep(new Browser(), (await authorize()).url);
    assert.equal(locked.status, 423);
    assert.match(locked.body, /verrouillé/);

    const browser = new Browser();
    const login = await browser.follow((await authorize()).url, REDIRECT);
    const recovery = await browser.request(new URL(/href="([^"]+\/recovery)"/.exec(login.body)![1], login.url).toString());
    assert.match(recovery.body, /Réinitialiser mon mot de passe/);
    let f = form(recovery.body, recovery.url);
    const confirm = await browser.request(f.action, { form: { csrf: f.csrf, login: NIR } });
    assert.match(confirm.body, /Choisir un nouveau mot de passe/);
    const code = lastCode('recovery')!;
    f = form(confirm.body, confirm.url);
    const mismatch = await browser.request(f.action, { form: { csrf: f.csrf, code, password: 'nouveau-mot-de-passe', password2: 'autre-chose-encore' } });
    assert.equal(mismatch.status, 400);
    f = form(mismatch.body, mismatch.url);
    const changed = await browser.request(f.action, { form: { csrf: f.csrf, code, password: 'nouveau-mot-de-passe', password2: 'nouveau-mot-de-passe' } });
    assert.equal(changed.status, 200);
    assert.match(changed.body, /mot de passe a été modifié/);

    f = form(changed.body, changed.url);
    const second = await browser.follow(f.action, REDIRECT, { form: { csrf: f.csrf, login: NIR, password: 'nouveau-mot-de-passe' } });
    const done = await codeStep(browser, second, lastCode('login')!);
    assert.ok(done.location?.startsWith(REDIRECT));
  });

  it('answers a recovery for an unknown INS like for a known one, and sends nothing', async () => {
    const before = server.outbox().length;
    const browser = new Browser();
    const login = await browser.follow((await authorize()).url, REDIRECT);
    const recovery = await browser.request(new URL(/href="([^"]+\/recovery)"/.exec(login.body)![1], login.url).toString());
    const f = form(recovery.body, recovery.url);
    const res = await browser.request(f.action, { form: { csrf: f.csrf, login: '180017512345678' } });
    assert.equal(res.status, 200);
    assert.match(res.body, /Si un compte correspond/);
    assert.equal(server.outbox().length, before);
  });
});
