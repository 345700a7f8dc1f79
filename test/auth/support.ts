// Shared set-up of the identity tests: a platform with a small Annuaire (one structure, one doctor
// with a specialty) and one patient, the demo accounts and clients, and an HTTP client that follows
// the login pages with a cookie jar, as a browser would.
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedAuthDemo, type AuthDemo } from '../../src/auth/index.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

export const ADMIN_SECRET = 'test-admin-secret-0123456789';
export const IDNAT = '810100000000';
export const NIR = '279035121518989';

export interface AuthTestServer extends TestServer {
  demo: AuthDemo;
  /** One-time codes "sent" so far, newest last. */
  outbox(): { login: string; purpose: string; code: string }[];
  adminToken(): Promise<string>;
  /** Registers a client_credentials client with these scopes (as an administrator) and returns a token of it. */
  clientToken(clientId: string, scopes: string[]): Promise<string>;
}

export async function startAuthServer(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<AuthTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'socle-auth-'));
  const outboxFile = join(dir, 'outbox.ndjson');
  const server = await startTestServer({ authAdminSecret: ADMIN_SECRET, authOtpOutbox: outboxFile, ...overrides });
  const core = server.platform.fhir;
  const org = await core.create({
    resourceType: 'Organization',
    identifier: [{ system: 'urn:oid:1.2.250.1.71.4.2.2', value: '1750712184' }],
    name: 'Hôpital Saint-Antoine',
    type: [{ coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite', code: 'SA01' }] }],
    address: [{ line: ['184 rue du Faubourg Saint-Antoine'], city: 'Paris', postalCode: '75012' }],
  });
  const practitioner = await core.create({
    resourceType: 'Practitioner',
    identifier: [{ system: 'urn:oid:1.2.250.1.71.4.2.1', value: IDNAT }],
    name: [{ family: 'Martin', given: ['Claire'], prefix: ['Dr'] }],
    gender: 'female',
    qualification: [
      { code: { coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante', code: '10' }] } },
      { code: { coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale', code: 'SM54' }] } },
    ],
  });
  await core.create({
    resourceType: 'PractitionerRole',
    practitioner: { reference: `Practitioner/${practitioner.stored.id}` },
    organization: { reference: `Organization/${org.stored.id}` },
    code: [{ coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante', code: '10' }] }],
  });
  await core.create({
    resourceType: 'Patient',
    identifier: [{ use: 'official', system: 'urn:oid:1.2.250.1.213.1.4.10', value: NIR }],
    name: [{ use: 'official', family: 'DUPONT', given: ['Marie'] }],
    gender: 'female',
    birthDate: '1979-03-15',
  });
  const demo = await seedAuthDemo(core);
  const adminToken = async () => {
    const res = await fetch(`${server.baseUrl}/auth/pro/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`socle-admin:${ADMIN_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=admin',
    });
    if (!res.ok) throw new Error(`admin token: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  return {
    ...server,
    demo,
    outbox: () => {
      try {
        return readFileSync(outboxFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      } catch {
        return [];
      }
    },
    adminToken,
    async clientToken(clientId, scopes) {
      const created = await fetch(`${server.baseUrl}/admin/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ clientId, issuers: ['pro'], grantTypes: ['client_credentials'], authMethod: 'client_secret_basic', scopes }),
      });
      if (!created.ok) throw new Error(`client ${clientId}: ${created.status} ${await created.text()}`);
      const { secret } = (await created.json()) as { secret: string };
      const res = await fetch(`${server.baseUrl}/auth/pro/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: scopes.join(' ') }),
      });
      if (!res.ok) throw new Error(`token of ${clientId}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A browser's cookie jar and redirect following, just enough for the login pages. */
export class Browser {
  private readonly cookies = new Map<string, string>();

  /** tls: the CA to trust on https:// pages and the client certificate to present there (a CPS card). */
  constructor(private readonly tls?: { ca: string; cert?: string; key?: string }) {}

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ status: number; location?: string; body: string; url: string }> {
    const headers: Record<string, string> = {};
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (cookie) headers.cookie = cookie;
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const method = init.method ?? (init.form ? 'POST' : 'GET');
    const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
    const res = url.startsWith('https:') ? await this.https(url, method, headers, body) : await fetch(url, { method, headers, body, redirect: 'manual' });
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(set) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const location = res.headers.get('location') ?? undefined;
    return { status: res.status, location: location && new URL(location, url).toString(), body: await res.text(), url };
  }

  private https(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Response> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method, headers, ca: this.tls?.ca, cert: this.tls?.cert, key: this.tls?.key, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) for (const one of [v ?? []].flat()) h.append(k, one);
          resolve(new Response([204, 304].includes(res.statusCode!) ? null : Buffer.concat(chunks), { status: res.statusCode!, headers: h }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Follows redirects until a page is shown or the browser is sent to `stopAt` (the relying party). */
  async follow(url: string, stopAt: string, init: { form?: Record<string, string> } = {}) {
    let res = await this.request(url, init);
    while (res.location && !res.location.startsWith(stopAt)) res = await this.request(res.location);
    return res;
  }
}

/** The form of a login page: its action and hidden fields. */
export function form(html: string, base: string): { action: string; csrf: string } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !csrf) throw new Error(`no login form in page:\n${html.slice(0, 2000)}`);
  return { action: new URL(action.replace(/&amp;/g, '&'), base).toString(), csrf };
}
