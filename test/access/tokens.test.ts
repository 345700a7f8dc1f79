// The FHIR API behind real tokens of the platform's issuer (SOCLE_AUTH=on): the administrator
// client's token opens the audit trail, other callers are refused with the reason, and the trail
// names the client that called.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { ADMIN_SECRET, Browser, form, startAuthServer, type AuthTestServer } from '../auth/support.ts';

let server: AuthTestServer;
let admin: string;
before(async () => {
  server = await startAuthServer({ authRequired: true });
  admin = await server.adminToken();
});
after(() => server?.close());

const get = (path: string, token?: string) => fetch(`${server.fhirUrl}/${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('FHIR API with bearer tokens', () => {
  it('serves the administrator client, and traces the call with the client as agent', async () => {
    const r = await get('Patient?_count=1', admin);
    assert.equal(r.status, 200, await r.clone().text());
    const trail = (await (await get('AuditEvent?subtype=search-type&_count=50', admin)).json()) as Bundle<AuditEvent>;
    const mine = (trail.entry ?? []).map((e) => e.resource!).filter((a) => a.agent[0].altId === 'socle-admin');
    assert.ok(mine.length >= 1, 'the search is traced with the socle-admin client');
  });

  it('refuses a call without token, and a forged or revoked one, with 401 and the reason', async () => {
    const none = await get('Patient');
    assert.equal(none.status, 401);
    const forged = await get('Patient', 'not-a-token');
    assert.equal(forged.status, 401);
    assert.match((await forged.json()).issue[0].diagnostics, /access token was refused/);
    const revoke = await fetch(`${server.baseUrl}/auth/pro/protocol/openid-connect/revoke`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`socle-admin:${ADMIN_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(admin)}`,
    });
    assert.ok(revoke.ok, `revocation answered ${revoke.status}`);
    assert.equal((await get('Patient', admin)).status, 401, 'a revoked token no longer opens the API');
  });
});

describe('system clients with SMART scopes (client_credentials)', () => {
  it('grants a client the SMART scopes it is registered with, and no other', async () => {
    const admin = await server.adminToken();
    const created = await fetch(`${server.baseUrl}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'ror-lecture', issuers: ['pro'], grantTypes: ['client_credentials'], scopes: ['system/Location.read'] }),
    });
    const { secret } = (await created.json()) as { secret: string };
    const token = (scope: string) =>
      fetch(`${server.baseUrl}/auth/pro/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`ror-lecture:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
      });
    const wider = await token('system/*.*');
    assert.equal(wider.status, 400);
    assert.equal(((await wider.json()) as { error: string }).error, 'invalid_scope');
    const granted = (await (await token('system/Location.read')).json()) as { access_token: string; scope: string };
    assert.equal(granted.scope, 'system/Location.read');
    assert.equal((await get('Location', granted.access_token)).status, 200);
    const refused = await get('Patient', granted.access_token);
    assert.equal(refused.status, 403);
    assert.match((await refused.json()).issue[0].diagnostics, /do not cover search on Patient/);
  });
});

describe('logins in the audit trail', () => {
  it('records a failed professional login with its reason and the client address', async () => {
    const browser = new Browser();
    const authorize = new URL(`${server.baseUrl}/auth/pro/protocol/openid-connect/auth`);
    for (const [k, v] of Object.entries({ client_id: 'socle-demo', response_type: 'code', scope: 'openid scope_all', acr_values: 'eidas1', redirect_uri: 'http://127.0.0.1:9/cb', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) authorize.searchParams.set(k, v);
    const page = await browser.follow(authorize.toString(), 'http://127.0.0.1:9/cb');
    const f = form(page.body, page.url);
    await browser.request(f.action, { form: { csrf: f.csrf, login: '810100000000', code: '000000' } });
    const trail = (await (await get('AuditEvent?subtype=110122', await server.adminToken())).json()) as Bundle<AuditEvent>;
    const failed = (trail.entry ?? []).map((e) => e.resource!).find((a) => a.outcome === '4' && a.agent[0].who?.identifier?.value === '810100000000');
    assert.ok(failed, 'the failed login is traced');
    assert.ok(failed.agent[0].network?.address);
  });
});

describe('INSi with a bearer token', () => {
  const CONTEXTE_BAM = '<ctxbam:ContexteBAM xmlns:ctxbam="urn:siram:bam:ctxbam" Version="01_02"><ctxbam:Id>b3549edd-4ae9-472a-b26f-fd2fb4ef397f</ctxbam:Id><ctxbam:Temps>2026-01-15T10:00:00Z</ctxbam:Temps><ctxbam:Emetteur>1750712184</ctxbam:Emetteur><ctxbam:COUVERTURE/></ctxbam:ContexteBAM>';
  const CONTEXTE_LPS = '<ctxlps:ContexteLPS xmlns:ctxlps="urn:siram:lps:ctxlps" Nature="CTXLPS" Version="01_00"><ctxlps:Id>b3549edd-4ae9-472a-b26f-fd2fb4ef397f</ctxlps:Id><ctxlps:LPS><ctxlps:IDAM R="4">TEST-IDAM</ctxlps:IDAM><ctxlps:Version>1.0</ctxlps:Version><ctxlps:Nom>urn:lps:essai:1.0</ctxlps:Nom></ctxlps:LPS></ctxlps:ContexteLPS>';

  async function soapClient(token?: string) {
    const soap = await import('soap');
    const c = await soap.createClientAsync(`${server.baseUrl}/insi?wsdl`, { forceSoap12Headers: true });
    c.setEndpoint(`${server.baseUrl}/insi`);
    c.addSoapHeader(CONTEXTE_BAM);
    c.addSoapHeader(CONTEXTE_LPS);
    if (token) c.addHttpHeader('Authorization', `Bearer ${token}`);
    return c;
  }

  it('answers the FHIR operation to the administrator client (INSI-AUTO)', async () => {
    const token = await server.adminToken();
    const r = await fetch(`${server.fhirUrl}/Patient/$ins-recuperation?nomNaissance=INCONNU&prenom=ANNE&sexe=F&dateNaissance=1950-01-01`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, await r.clone().text());
    const p = await r.json();
    assert.equal(p.parameter.find((x: { name: string }) => x.name === 'code')?.valueCode ?? p.parameter.find((x: { name: string }) => x.name === 'code')?.valueString, '01');
  });

  it('answers SOAP over plain HTTP to a bearer token, and faults without one', async () => {
    const client = await soapClient(await server.adminToken());
    const [r] = await client.rechercherInsAvecTraitsIdentiteAsync({ NomNaissance: 'INCONNU', Sexe: 'F', DateNaissance: '1950-01-01' });
    assert.equal(r.CR.CodeCR, '01');
    const anonymous = await soapClient();
    await assert.rejects(anonymous.rechercherInsAvecTraitsIdentiteAsync({ NomNaissance: 'INCONNU', Sexe: 'F', DateNaissance: '1950-01-01' }), /socle_401|jeton|certificat/i);
    const forged = await soapClient('forged');
    await assert.rejects(forged.rechercherInsAvecTraitsIdentiteAsync({ NomNaissance: 'INCONNU', Sexe: 'F', DateNaissance: '1950-01-01' }), /Jeton d'accès refusé|socle_401/);
  });
});
