// The login pages in a real browser (Chromium from the system, driven by playwright-core): a
// professional logs in with e-CPS (TOTP), a patient with password and a code sent to them, a
// professional enrols a FIDO2 security key (Chromium's virtual authenticator) and logs in with it.
// Skipped when no Chromium is installed (CHROMIUM_PATH, default /usr/bin/chromium).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { chromium, type Browser } from 'playwright-core';
import { totp } from '../../src/auth/totp.ts';
import { IDNAT, NIR, startAuthServer, type AuthTestServer } from './support.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`;

let server: AuthTestServer;
let browser: Browser;
let rpServer: Server;
let callback: string;

before(async () => {
  if (skip) return;
  server = await startAuthServer();
  // WebAuthn wants a domain as relying party id, not an IP address: the browser talks to localhost.
  server.platform.config.baseUrl = server.baseUrl.replace('127.0.0.1', 'localhost');
  // The relying party's callback page: the browser must land somewhere.
  rpServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  await new Promise<void>((r) => rpServer.listen(0, '127.0.0.1', r));
  callback = `http://127.0.0.1:${(rpServer.address() as { port: number }).port}/callback`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
after(async () => {
  await browser?.close();
  rpServer?.close();
  await server?.close();
});

async function start(issuer: 'pro' | 'patient', scope: string, extra: Record<string, string> = {}) {
  const config = await oidc.discovery(new URL(`${server.platform.config.baseUrl}/auth/${issuer}`), 'socle-demo', 'socle-demo-secret', undefined, { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: callback,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...extra,
  });
  return { config, url: url.toString(), checks: { pkceCodeVerifier: verifier, expectedState: state } };
}

describe('login pages in Chromium', { skip }, () => {
  it('logs a professional in with e-CPS (TOTP)', async () => {
    const flow = await start('pro', 'openid scope_all');
    const page = await browser.newPage({ locale: 'fr-FR' });
    await page.goto(flow.url);
    assert.equal(await page.locator('h1').textContent(), 'Connexion avec e-CPS');
    // The DSFR stylesheet is served and applied: its primary button is "bleu France".
    assert.equal(await page.locator('button[type=submit]').evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(0, 0, 145)');
    await page.getByLabel('Identifiant national (idNat_PS)').fill(IDNAT);
    await page.getByLabel('Code e-CPS').fill(totp(server.demo.professional!.totpSecret));
    await Promise.all([page.waitForURL((u) => u.toString().startsWith(callback)), page.getByRole('button', { name: 'Se connecter' }).click()]);
    const tokens = await oidc.authorizationCodeGrant(flow.config, new URL(page.url()), flow.checks);
    assert.equal(tokens.claims()!.acr, 'eidas1');
    const info = await oidc.fetchUserInfo(flow.config, tokens.access_token, tokens.claims()!.sub);
    assert.equal(info.SubjectNameID, IDNAT);
    await page.close();
  });

  it('logs a patient in with password and a code sent to them', async () => {
    const flow = await start('patient', 'openid profile ins');
    const page = await browser.newPage({ locale: 'fr-FR' });
    await page.goto(flow.url);
    await page.getByLabel('Matricule INS').fill(NIR);
    await page.getByLabel('Mot de passe').fill(server.demo.patient!.password);
    await page.getByRole('button', { name: 'Continuer' }).click();
    await page.getByRole('heading', { name: 'Vérification en deux étapes' }).waitFor();
    const code = server.outbox().filter((m) => m.login === NIR && m.purpose === 'login').at(-1)!.code;
    await page.getByLabel('Code de vérification').fill(code);
    await Promise.all([page.waitForURL((u) => u.toString().startsWith(callback)), page.getByRole('button', { name: 'Valider' }).click()]);
    const tokens = await oidc.authorizationCodeGrant(flow.config, new URL(page.url()), flow.checks);
    assert.equal(tokens.claims()!.acr, 'eidas2');
    const principal = await server.platform.auth.verifyAccessToken(tokens.access_token);
    assert.equal(principal.ins, NIR);
    await page.close();
  });

  it('enrols a security key after an e-CPS proof, then logs a professional in with it', async () => {
    await server.platform.db.query('UPDATE auth_account SET totp_last_step = NULL');
    const page = await browser.newPage({ locale: 'fr-FR' });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });

    const first = await start('pro', 'openid scope_all');
    await page.goto(first.url);
    await page.getByRole('link', { name: 'Se connecter avec une clé de sécurité (FIDO2)' }).click();
    await page.getByRole('link', { name: 'Enregistrer une clé de sécurité' }).click();
    await page.getByLabel('Identifiant national (idNat_PS)').fill(IDNAT);
    await page.getByLabel('Code e-CPS').fill(totp(server.demo.professional!.totpSecret));
    await page.getByRole('button', { name: 'Continuer' }).click();
    await Promise.all([page.waitForURL((u) => u.toString().startsWith(callback)), page.getByRole('button', { name: 'Enregistrer ma clé' }).click()]);
    const enrolled = await oidc.authorizationCodeGrant(first.config, new URL(page.url()), first.checks);
    assert.equal(enrolled.claims()!.acr, 'eidas1');
    const { rows } = await server.platform.db.query<{ n: number }>('SELECT count(*)::int AS n FROM auth_webauthn_credential');
    assert.equal(rows[0].n, 1);

    const second = await start('pro', 'openid scope_all', { prompt: 'login' });
    await page.goto(second.url);
    await page.getByRole('link', { name: 'Se connecter avec une clé de sécurité (FIDO2)' }).click();
    await page.getByLabel('Identifiant national (idNat_PS)').fill(IDNAT);
    await Promise.all([page.waitForURL((u) => u.toString().startsWith(callback)), page.getByRole('button', { name: 'Utiliser ma clé de sécurité' }).click()]);
    const tokens = await oidc.authorizationCodeGrant(second.config, new URL(page.url()), second.checks);
    const principal = await server.platform.auth.verifyAccessToken(tokens.access_token);
    assert.equal(principal.idNatPs, IDNAT);
    await page.close();
  });
});
