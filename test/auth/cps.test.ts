// Mutual TLS as a means of identification: a CPS card (its certificate, issued by the platform CA
// standing in for IGC-Santé) logs a professional in at /auth/pro and identifies them to the FHIR API;
// a registered tls_client_auth client calls the API with its scopes; an INSi certificate runs the
// teleservice's operations only; any other certificate is refused with the reason.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import type { Certificat } from '../../src/pki/pki.ts';
import { https } from '../ins/support.ts';
import { Browser, IDNAT, startAuthServer, type AuthTestServer } from './support.ts';

const REDIRECT = 'http://127.0.0.1:9/callback';
let server: AuthTestServer;
let ca: string;
let tlsUrl: string;
let carte: Certificat;

before(async () => {
  server = await startAuthServer({ authRequired: true, tlsPort: 0, pkiDir: '' });
  const tls = server.platform.tls!;
  ca = tls.pki.ca;
  tlsUrl = `https://localhost:${tls.port()}`;
  carte = await tls.pki.emettreCarteCps({ idNatPs: IDNAT, nom: 'MARTIN', prenom: 'Claire' });
});
after(() => server?.close());

async function authorize() {
  const rp = await oidc.discovery(new URL(`${server.baseUrl}/auth/pro`), 'socle-demo', 'socle-demo-secret', undefined, { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT, scope: 'openid scope_all', acr_values: 'eidas1', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
  return { rp, verifier, state, url: url.toString() };
}

/** The login page, then its "carte CPS" link, followed by a browser that holds `card` (or none). */
async function cardLogin(browser: Browser, url: string) {
  const page = await browser.follow(url, REDIRECT);
  assert.equal(page.status, 200);
  const link = /href="([^"]*\/cps)"/.exec(page.body);
  assert.ok(link, 'the e-CPS page offers the CPS card');
  assert.match(page.body, /Se connecter avec une carte CPS/);
  return browser.follow(new URL(link[1].replace(/&amp;/g, '&'), page.url).toString(), REDIRECT);
}

describe('CPS card login at /auth/pro (mutual TLS)', () => {
  it('logs the card holder in with acr eidas1, and the token carries the Annuaire identity', async () => {
    const req = await authorize();
    const res = await cardLogin(new Browser({ ca, cert: carte.cert, key: carte.key }), req.url);
    assert.ok(res.location?.startsWith(REDIRECT), `expected the client callback, got ${res.status} ${res.body.slice(0, 300)}`);
    const tokens = await oidc.authorizationCodeGrant(req.rp, new URL(res.location!), { pkceCodeVerifier: req.verifier, expectedState: req.state });
    const claims = tokens.claims()!;
    assert.equal(claims.acr, 'eidas1');
    const info = await oidc.fetchUserInfo(req.rp, tokens.access_token, claims.sub);
    assert.equal(info.SubjectNameID, IDNAT);
    const observations = await fetch(`${server.fhirUrl}/Observation`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(observations.status, 200, 'a physician logged in by card reads health data');
  });

  it('refuses a browser without a card, or with an organisation certificate, and traces the failure', async () => {
    const none = await cardLogin(new Browser({ ca }), (await authorize()).url);
    assert.equal(none.status, 401);
    assert.match(none.body, /Aucune carte présentée/);
    const org = await server.platform.tls!.pki.emettreOrganisation('Logiciel X', { identifiant: '1750712184', nom: 'Hôpital' });
    const wrong = await cardLogin(new Browser({ ca, cert: org.cert, key: org.key }), (await authorize()).url);
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /pas celui d&#39;une carte CPS/);
    const trail = (await (await fetch(`${server.fhirUrl}/AuditEvent?subtype=110122&outcome=4`, { headers: { authorization: `Bearer ${await server.adminToken()}` } })).json()) as Bundle<AuditEvent>;
    assert.ok((trail.entry ?? []).some((e) => /carte CPS/.test(e.resource!.outcomeDesc ?? '')), 'the refused card is in the audit trail');
  });

  it('refuses a card whose holder is not in the Annuaire', async () => {
    const stranger = await server.platform.tls!.pki.emettreCarteCps({ idNatPs: '810999999999', nom: 'INCONNU', prenom: 'Paul' });
    const res = await cardLogin(new Browser({ ca, cert: stranger.cert, key: stranger.key }), (await authorize()).url);
    assert.equal(res.status, 401);
    assert.match(res.body, /810999999999 ne correspond à aucun professionnel/);
  });
});

describe('FHIR API over mutual TLS without a token', () => {
  it('identifies a CPS card holder as the professional of the Annuaire, and traces them', async () => {
    const r = await https(`${tlsUrl}/fhir/Observation?_count=1`, { ca, certificat: carte });
    assert.equal(r.status, 200, r.texte);
    const trail = (await (await fetch(`${server.fhirUrl}/AuditEvent?subtype=search-type&_count=100`, { headers: { authorization: `Bearer ${await server.adminToken()}` } })).json()) as Bundle<AuditEvent>;
    assert.ok((trail.entry ?? []).some((e) => e.resource!.agent[0].who?.identifier?.value === IDNAT), 'the search is traced with the card holder as agent');
  });

  it('gives a registered tls_client_auth client exactly its scopes', async () => {
    const cert = await server.platform.tls!.pki.emettreOrganisation('ROR-SYNC', { identifiant: '1750712184', nom: 'Hôpital Saint-Antoine' });
    const admin = await server.adminToken();
    const created = await fetch(`${server.baseUrl}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'ror-sync', issuers: ['pro'], grantTypes: ['client_credentials'], authMethod: 'tls_client_auth', tlsSubjectDn: 'CN=ROR-SYNC, OU=1750712184, O=Hôpital Saint-Antoine, C=FR', scopes: ['system/Location.read'] }),
    });
    assert.ok(created.ok, await created.text());
    assert.equal((await https(`${tlsUrl}/fhir/Location`, { ca, certificat: cert })).status, 200);
    const refused = await https(`${tlsUrl}/fhir/Patient`, { ca, certificat: cert });
    assert.equal(refused.status, 403);
    assert.match(refused.corps.issue[0].diagnostics, /system\/Location.read.*do not cover search on Patient/);
  });

  it('lets an INSi certificate run the teleservice operations and nothing else', async () => {
    const auto = await server.platform.tls!.pki.emettreOrganisation('INSI-AUTO', { identifiant: '1750712184', nom: 'Hôpital Saint-Antoine' });
    const ins = await https(`${tlsUrl}/fhir/Patient/$ins-recuperation?nomNaissance=INCONNU&prenom=ANNE&sexe=F&dateNaissance=1950-01-01`, { ca, certificat: auto });
    assert.equal(ins.status, 200, ins.texte);
    assert.equal((await https(`${tlsUrl}/fhir/Patient`, { ca, certificat: auto })).status, 403);
  });

  it('refuses an unregistered certificate with 401 and says how to register it', async () => {
    const other = await server.platform.tls!.pki.emettreOrganisation('Logiciel Y', { identifiant: '1750712184', nom: 'Hôpital' });
    const r = await https(`${tlsUrl}/fhir/Patient`, { ca, certificat: other });
    assert.equal(r.status, 401);
    assert.match(r.corps.issue[0].diagnostics, /neither a CPS card nor the certificate of a registered client/);
  });
});
