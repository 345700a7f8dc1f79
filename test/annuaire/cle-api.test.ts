// Public access to the directory with an ESANTE-API-KEY, as on the national Annuaire Santé API v2:
// the public resources read-only, nothing else, 17 calls a second at most, and the key never stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { ADMIN_SECRET, startAuthServer, type AuthTestServer } from '../auth/support.ts';

const KEY = 'cle-application-de-test-0123456789';
let server: AuthTestServer;
before(async () => {
  server = await startAuthServer({ authRequired: true, esanteApiKeys: [KEY, 'another-key'] });
});
after(() => server?.close());

const call = (path: string, key?: string, init: RequestInit = {}) =>
  fetch(`${server.fhirUrl}/${path}`, { ...init, headers: { ...(key ? { 'ESANTE-API-KEY': key } : {}), ...(init.headers as Record<string, string>) } });
const pause = () => new Promise((r) => setTimeout(r, 1100));

describe('ESANTE-API-KEY', () => {
  it('reads the public directory, with _include, and nothing else', async () => {
    const roles = await call('PractitionerRole?_include=PractitionerRole:organization', KEY);
    assert.equal(roles.status, 200);
    const bundle = (await roles.json()) as Bundle;
    assert.ok(bundle.entry?.some((e) => e.resource?.resourceType === 'Organization'));
    const patients = await call('Patient', KEY);
    assert.equal(patients.status, 403);
    assert.match((await patients.json()).issue[0].diagnostics, /do not cover search on Patient/);
    const write = await call('Practitioner', KEY, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Practitioner' }) });
    assert.equal(write.status, 403);
  });

  it('refuses an unknown key with 401', async () => {
    const r = await call('Practitioner', 'not-a-key');
    assert.equal(r.status, 401);
    assert.match((await r.json()).issue[0].diagnostics, /ESANTE-API-KEY is not known/);
  });

  it('answers 429 past 17 calls a second for one key, while another key goes on', async () => {
    await pause();
    const statuses = [];
    for (let i = 0; i < 18; i++) statuses.push((await call('Practitioner?_count=1&_total=none', KEY)).status);
    assert.deepEqual(statuses.slice(0, 17), Array(17).fill(200));
    assert.equal(statuses[17], 429);
    assert.equal((await call('Practitioner?_count=1', 'another-key')).status, 200);
  });

  it('names the application in the audit trail by a digest, never by its key', async () => {
    const token = await fetch(`${server.baseUrl}/auth/pro/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`socle-admin:${ADMIN_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=admin',
    });
    const { access_token } = (await token.json()) as { access_token: string };
    const trail = await fetch(`${server.fhirUrl}/AuditEvent?_count=200`, { headers: { authorization: `Bearer ${access_token}` } });
    const text = await trail.text();
    assert.ok(!text.includes(KEY), 'the key is not in the audit trail');
    const events = ((JSON.parse(text) as Bundle<AuditEvent>).entry ?? []).map((e) => e.resource!);
    assert.ok(events.some((a) => a.agent.some((g) => /^cle-api-[0-9a-f]{12}$/.test(g.altId ?? '') || /cle-api-[0-9a-f]{12}/.test(JSON.stringify(g)))));
  });
});
