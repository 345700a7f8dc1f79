// CIBA as Pro Santé Connect offers it (poll mode, login_hint = idNat_PS, binding_message): a relying
// party without a browser (openid-client) asks, the professional approves on the e-CPS stand-in
// (/auth/pro/ciba), the relying party gets its tokens; refusals and bad requests give the spec's errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { totp } from '../../src/auth/totp.ts';
import { Browser, IDNAT, startAuthServer, type AuthTestServer } from './support.ts';

const CIBA = 'urn:openid:params:grant-type:ciba';
let server: AuthTestServer;
let rp: oidc.Configuration;

before(async () => {
  server = await startAuthServer();
  const created = await fetch(`${server.baseUrl}/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await server.adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: 'lps-ciba', issuers: ['pro'], grantTypes: [CIBA], scopes: ['openid', 'scope_all'] }),
  });
  assert.ok(created.ok, await created.clone().text());
  const { secret } = (await created.json()) as { secret: string };
  rp = await oidc.discovery(new URL(`${server.baseUrl}/auth/pro`), 'lps-ciba', secret, undefined, { execute: [oidc.allowInsecureRequests] });
});
after(() => server?.close());

const ask = (params: Record<string, string> = {}) =>
  oidc.initiateBackchannelAuthentication(rp, { scope: 'openid scope_all', acr_values: 'eidas1', login_hint: IDNAT, binding_message: '00', ...params });
const grant = (authReqId: string) => oidc.genericGrantRequest(rp, CIBA, { auth_req_id: authReqId });

/** The professional opens the e-CPS approval page, logs in with their code and answers the request showing `binding`. */
async function answer(decision: 'accepter' | 'refuser', binding: string) {
  await server.platform.db.query('UPDATE auth_account SET totp_last_step = NULL');
  const browser = new Browser();
  const page = await browser.request(`${server.baseUrl}/auth/pro/ciba`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1];
  const list = await browser.request(`${server.baseUrl}/auth/pro/ciba`, { form: { csrf, login: IDNAT, code: totp(server.demo.professional!.totpSecret) } });
  assert.equal(list.status, 200, list.body.slice(0, 500));
  const item = new RegExp(`<strong>${binding}</strong>[\\s\\S]*?action="([^"]+)"[\\s\\S]*?name="csrf" value="([^"]+)"`).exec(list.body);
  assert.ok(item, 'the pending request shows with its binding message');
  return browser.request(new URL(item[1], server.baseUrl).toString(), { form: { csrf: item[2], decision } });
}

describe('CIBA (backchannel authentication, poll mode)', () => {
  it('publishes the PSC endpoint path and the poll mode', async () => {
    const meta = rp.serverMetadata();
    assert.equal(meta.backchannel_authentication_endpoint, `${server.baseUrl}/auth/pro/protocol/openid-connect/ext/ciba/auth`);
    assert.deepEqual(meta.backchannel_token_delivery_modes_supported, ['poll']);
  });

  it('issues tokens once the professional approves on the e-CPS, with the Annuaire identity', async () => {
    const request = await ask({ binding_message: '42' });
    await assert.rejects(grant(request.auth_req_id), (e: oidc.ResponseBodyError) => e.error === 'authorization_pending');
    assert.ok(server.outbox().some((m) => m.purpose === 'ciba' && m.login === IDNAT && m.code === '42'), 'the professional is notified');
    const done = await answer('accepter', '42');
    assert.match(done.body, /acceptée/);
    const tokens = await grant(request.auth_req_id);
    assert.equal(tokens.claims()?.acr, 'eidas1');
    const info = await oidc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
    assert.equal(info.SubjectNameID, IDNAT);
    await assert.rejects(grant(request.auth_req_id), (e: oidc.ResponseBodyError) => e.error === 'invalid_grant', 'a request gives tokens once');
  });

  it('answers access_denied when the professional refuses', async () => {
    const request = await ask({ binding_message: '77' });
    await answer('refuser', '77');
    await assert.rejects(grant(request.auth_req_id), (e: oidc.ResponseBodyError) => e.error === 'access_denied');
  });

  it('refuses an unknown professional and an unreadable binding message', async () => {
    await assert.rejects(ask({ login_hint: '810999999999' }), (e: oidc.ResponseBodyError) => e.error === 'unknown_user_id');
    await assert.rejects(ask({ binding_message: '<script>' }), (e: oidc.ResponseBodyError) => e.error === 'invalid_binding_message');
  });

  it('keeps the approval page behind the e-CPS code', async () => {
    const browser = new Browser();
    const page = await browser.request(`${server.baseUrl}/auth/pro/ciba`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1];
    const wrong = await browser.request(`${server.baseUrl}/auth/pro/ciba`, { form: { csrf, login: IDNAT, code: '000000' } });
    assert.equal(wrong.status, 401);
    const forged = await browser.request(`${server.baseUrl}/auth/pro/ciba/anything`, { form: { csrf: 'x', decision: 'accepter' } });
    assert.equal(forged.status, 401);
  });
});
