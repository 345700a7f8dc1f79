// V2 (délégation d'authentification) on the vendor simulator, as the official kit checks it: a booking
// link without origin is refused; with origin, a browser without a Pro Santé Connect session lands on
// the issuer's login page; a booking cannot be confirmed without the session.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startVendorSim, type VendorSim } from '../../src/services/sas/editeur/index.ts';
import { Browser, IDNAT, startAuthServer, type AuthTestServer } from '../auth/support.ts';

let server: AuthTestServer;
let sim: VendorSim;
before(async () => {
  server = await startAuthServer();
  const created = await fetch(`${server.baseUrl}/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await server.adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: 'editeur-sso', issuers: ['pro'], redirectUris: ['http://127.0.0.1:*'], grantTypes: ['authorization_code'], scopes: ['openid', 'scope_all'] }),
  });
  const { secret } = (await created.json()) as { secret: string };
  sim = await startVendorSim({ praticiens: [{ rpps: IDNAT.slice(1), nom: 'MARTIN', prenom: 'Claire' }], sso: { issuer: `${server.baseUrl}/auth/pro`, clientId: 'editeur-sso', clientSecret: secret } });
});
after(async () => {
  await sim?.close();
  await server?.close();
});

const lienReservation = async () => {
  const slots = await (await fetch(`${sim.url}/Slot?schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|${IDNAT}&start=ge${new Date().toISOString().slice(0, 10)}T00:00:00.000%2B00:00&start=le${new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10)}T23:59:00.000%2B00:00&status=free&_include=Slot:schedule&_include:iterate=Schedule:actor`)).json();
  const slot = slots.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Slot').resource;
  return slot.comment as string;
};

describe('V2 single sign-on on the vendor booking page', () => {
  it('refuses the link without origin, and sends a browser without session to the issuer login page', async () => {
    const lien = await lienReservation();
    assert.equal((await fetch(lien)).status, 403);
    const page = await new Browser().follow(`${lien}&origin=sas`, 'http://never');
    assert.equal(page.status, 200);
    assert.match(page.body, /Connexion avec e-CPS/);
    assert.ok(page.url.startsWith(`${server.baseUrl}/auth/pro/`), page.url);
  });

  it('refuses to confirm a booking without the regulator session, whatever the form says', async () => {
    const lien = new URL(await lienReservation());
    const r = await fetch(`${sim.url}/reservation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ slot: lien.searchParams.get('slot')!, origin: 'sas', regulateur: `urn:oid:1.2.250.1.71.4.2.1|${IDNAT}` }),
    });
    assert.equal(r.status, 401);
  });
});
