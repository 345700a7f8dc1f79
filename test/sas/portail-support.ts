// Shared set-up of the SAS portal tests: a platform with the identity module, a small Annuaire
// around Lyon (practitioners at known communes, a SOS Médecins association from the ROR), the demo
// professional habilitated as regulator, and a login through the professional issuer with a
// browser-like cookie jar.
import { totp } from '../../src/auth/totp.ts';
import { vendoredPackages } from '../../src/config.ts';
import { Browser, form, IDNAT, startAuthServer, type AuthTestServer } from '../auth/support.ts';

export { IDNAT };
const RPPS = 'urn:oid:1.2.250.1.71.4.2.1';
const R38 = 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale';
const G15 = 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante';

/** Practitioners of the fixture: name → [idNat_PS, specialty or profession, city, postal code]. */
export const PS = {
  Alpha: ['810000000011', 'SM54', 'Vénissieux', '69200'],
  Charlie: ['810000000029', 'SM54', 'Villeurbanne', '69100'],
  Bravo: ['810000000037', 'SM54', 'Bron', '69500'],
  Kilo: ['810000000045', 'SM54', 'Caluire-et-Cuire', '69300'],
  Echo: ['810000000052', 'SM54', 'Lyon', '69003'],
  Foxtrot: ['810000000060', 'SM54', 'Lyon', '69007'],
  Delta: ['810000000078', 'SM40', 'Lyon', '69002'],
  Golf: ['810000000086', 'SM54', 'Marseille', '13005'],
  November: ['810000000094', 'G15:60', 'Lyon', '69006'],
} as const;

export interface SasTestServer extends AuthTestServer {
  /** A logged-in regulator's browser. */
  connecter(): Promise<Browser>;
  api(browser: Browser, path: string): Promise<{ status: number; json: any }>;
}

export async function startSasServer(overrides: Parameters<typeof startAuthServer>[0] = {}): Promise<SasTestServer> {
  const server = await startAuthServer({ fhirPackages: vendoredPackages(), sasLrmOrigins: ['samu-69'], ...overrides });
  const core = server.platform.fhir;
  for (const [nom, [idnat, code, city, postalCode]] of Object.entries(PS)) {
    const org = await core.create({ resourceType: 'Organization', name: `Cabinet ${nom}`, address: [{ line: ['1 place de la Mairie'], city, postalCode }] });
    const qualification = code.startsWith('G15:')
      ? { coding: [{ system: G15, code: code.slice(4) }] }
      : { coding: [{ system: R38, code }] };
    const p = await core.create({
      resourceType: 'Practitioner',
      identifier: [{ system: RPPS, value: idnat }],
      name: [{ family: nom.toUpperCase(), given: ['Camille'], ...(code.startsWith('G15:') ? {} : { prefix: ['Dr'] }) }],
      qualification: [{ code: qualification }],
    });
    await core.create({ resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${p.stored.id}` }, organization: { reference: `Organization/${org.stored.id}` } });
  }
  const sos = await core.create({ resourceType: 'Organization', name: 'SOS Médecins Lyon', address: [{ city: 'Lyon', postalCode: '69003' }] });
  const lieu = await core.create({ resourceType: 'Location', name: 'SOS Médecins Lyon — centre de consultation', position: { latitude: 45.76, longitude: 4.84 } });
  await core.create({
    resourceType: 'HealthcareService',
    name: 'SOS Médecins Lyon',
    providedBy: { reference: `Organization/${sos.stored.id}` },
    location: [{ reference: `Location/${lieu.stored.id}` }],
  });
  const admin = await server.adminToken();
  const res = await fetch(`${server.baseUrl}/sas/api/habilitations/${IDNAT}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ territoire: '69' }),
  });
  if (!res.ok) throw new Error(`regulator: ${res.status} ${await res.text()}`);

  return {
    ...server,
    async connecter() {
      // A TOTP code is accepted once: successive logins in one test file reuse the 30-second window.
      await server.platform.db.query('UPDATE auth_account SET totp_last_step = NULL');
      const browser = new Browser();
      const login = await browser.follow(`${server.baseUrl}/sas/connexion`, 'never:');
      const f = form(login.body, login.url);
      const done = await browser.follow(f.action, 'never:', { form: { csrf: f.csrf, login: IDNAT, code: totp(server.demo.professional!.totpSecret) } });
      if (done.status !== 200 || !done.url.includes('/sas/')) throw new Error(`login ended on ${done.url} (${done.status}): ${done.body.slice(0, 500)}`);
      return browser;
    },
    async api(browser, path) {
      const r = await browser.request(`${server.baseUrl}${path}`);
      return { status: r.status, json: r.body.startsWith('{') || r.body.startsWith('[') ? JSON.parse(r.body) : r.body };
    },
  };
}

export async function adminPut(server: AuthTestServer, path: string, body: unknown): Promise<Response> {
  return fetch(`${server.baseUrl}${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${await server.adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
