// The regulator's journey in a real browser (Chromium from the system, driven by playwright-core):
// log in with e-CPS through the professional issuer, search near a commune, see result cards with
// the slots of two simulated vendors merged, book on a vendor's booking page (reached with the
// `origin` parameter), and find the appointment the vendor sent back over mutual TLS (V3) in the
// follow-up page. Skipped when no Chromium is installed (CHROMIUM_PATH, default /usr/bin/chromium).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { totp } from '../../src/auth/totp.ts';
import { startVendorSim, type VendorSim } from '../../src/services/sas/editeur/index.ts';
import { IDNAT, startSasServer, type SasTestServer } from './portail-support.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`;

let server: SasTestServer;
let browser: Browser;
const sims: VendorSim[] = [];

before(async () => {
  if (skip) return;
  server = await startSasServer({ tlsPort: 0, pkiDir: '' });
  const pki = server.platform.tls!.pki;
  const admin = await server.adminToken();
  // V2: the vendors are relying parties of the professional issuer, for single sign-on.
  const client = await fetch(`${server.baseUrl}/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: 'editeurs-sso', issuers: ['pro'], redirectUris: ['http://127.0.0.1:*'], grantTypes: ['authorization_code'], scopes: ['openid', 'scope_all'] }),
  });
  const { secret } = (await client.json()) as { secret: string };
  for (const [i, id] of ['agenda-un', 'agenda-deux'].entries()) {
    const cert = await pki.emettreOrganisation(`Editeur ${id}`, { identifiant: `31234567890123${i}`, nom: `Éditeur ${id}` });
    const sim = await startVendorSim({
      seed: id,
      praticiens: [{ rpps: IDNAT.slice(1), nom: 'MARTIN', prenom: 'Claire', specialite: 'SM54' }],
      sasAppointmentUrl: `https://127.0.0.1:${server.platform.tls!.port()}/sas/fhir`,
      sasClient: { ...cert, ca: pki.ca },
      sso: { issuer: `${server.baseUrl}/auth/pro`, clientId: 'editeurs-sso', clientSecret: secret },
    });
    sims.push(sim);
    const res = await fetch(`${server.baseUrl}/sas/api/editeurs/${id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ nom: `Éditeur ${id}`, baseUrl: sim.url, type: 'R01', rpps: [IDNAT], certificatV3: new X509Certificate(cert.cert).subject.split('\n').reverse().join(', ') }),
    });
    assert.ok(res.ok, await res.text());
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
after(async () => {
  await browser?.close();
  await Promise.all(sims.map((s) => s.close()));
  await server?.close();
});

describe('regulator journey in Chromium', { skip }, () => {
  it('logs in, searches near a commune, books on the vendor page without a second login, and sees the appointment come back', async () => {
    const page = await browser.newPage({ locale: 'fr-FR' });
    await page.goto(`${server.baseUrl}/sas`);
    await page.getByRole('link', { name: 'Se connecter avec e-CPS' }).click();
    await page.getByLabel('Identifiant national (idNat_PS)').fill(IDNAT);
    await page.getByLabel('Code e-CPS').fill(totp(server.demo.professional!.totpSecret));
    await Promise.all([page.waitForURL((u) => u.pathname === '/sas/recherche'), page.getByRole('button', { name: 'Se connecter' }).click()]);
    assert.equal(await page.locator('h1').textContent(), "Recherche d'offre de soins");

    await page.getByLabel('Spécialité ou profession').fill('Médecine générale (SM)');
    await page.getByLabel('Lieu').fill('75012 Paris');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.getByRole('heading', { name: /résultat.* autour de Paris \(75\)/ }).waitFor();
    const carte = page.locator('.sas-resultats > li').filter({ hasText: 'Dr Claire Martin' });
    assert.equal(await carte.count(), 1);
    assert.equal(await carte.locator('.sas-calendrier h4').count(), 3, 'a three-day calendar');
    // Slots of both vendors on the one card.
    const titres = await carte.getByRole('button', { name: /Réserver le créneau de/ }).evaluateAll((b) => b.map((x) => x.getAttribute('title') ?? ''));
    assert.ok(titres.some((t) => t.includes('agenda-un')) && titres.some((t) => t.includes('agenda-deux')), titres.join(' | '));
    assert.equal(await page.locator('svg.sas-carte .sas-marqueur').count(), 1, 'the map marks the result');

    await Promise.all([page.waitForURL((u) => u.pathname === '/reservation'), carte.getByRole('button', { name: /Réserver le créneau de/ }).first().click()]);
    assert.equal(new URL(page.url()).searchParams.get('origin'), 'sas');
    assert.equal(await page.locator('h1').textContent(), 'Prise de rendez-vous');
    // V2: the vendor knows the regulator from the issuer's session, without a second login.
    assert.match((await page.locator('#regulateur').textContent())!, /Claire MARTIN \(810100000000\), connecté par Pro Santé Connect/i);
    await page.getByLabel('Patient (nom et prénom)').fill('DUPONT Marie');
    await page.getByRole('button', { name: 'Confirmer le rendez-vous' }).click();
    await page.getByRole('heading', { name: 'Rendez-vous confirmé' }).waitFor();
    assert.match((await page.locator('#envoi-sas').textContent())!, /accepté \(HTTP 201\)/);

    await page.goto(`${server.baseUrl}/sas/rendez-vous`);
    const ligne = page.locator('tbody tr').filter({ hasText: 'Dr Claire Martin' });
    assert.equal(await ligne.count(), 1);
    assert.match((await ligne.textContent())!, /Réservé/);
    assert.match((await ligne.textContent())!, /Éditeur agenda-(un|deux)/, 'the vendor it came from');
    await page.close();
  });
});
