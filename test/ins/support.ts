// Helpers of the INS suites: a platform with its HTTPS listener and the demo reference base, client
// certificates from its PKI, and a small HTTPS client that presents one (mutual TLS).
import { request } from 'node:https';
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { Certificat, Pki } from '../../src/pki/pki.ts';
import { genererPopulation, type IdentiteSynthetique } from '../../src/referentiels/ins/population.ts';
import { chargerReference, POPULATION_DEMO } from '../../src/referentiels/ins/reference.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

export const STRUCTURE = { identifiant: '1750712184', nom: 'Hôpital Saint-Antoine', departement: 'Paris (75)' };

export interface PlateformeIns {
  serveur: TestServer;
  pki: Pki;
  /** https://localhost:<port> */
  urlTls: string;
  /** An INSI-AUTO certificate of the platform CA. */
  auto: Certificat;
  close(): Promise<void>;
}

/** A platform with TLS, an in-memory PKI and the demo reference base (seed socle-demo, 5,000 identities). */
export async function demarrerPlateformeIns(): Promise<PlateformeIns> {
  const serveur = await startTestServer({ tlsPort: 0, pkiDir: '' });
  await chargerReference(serveur.platform.db, POPULATION_DEMO);
  const pki = serveur.platform.ins.pki!;
  return {
    serveur,
    pki,
    urlTls: `https://localhost:${serveur.platform.ins.tlsPort()}`,
    auto: await pki.emettreOrganisation('INSI-AUTO', STRUCTURE),
    close: () => serveur.close(),
  };
}

/** The demo reference population, as the generator yields it. */
export function populationDemo(): IdentiteSynthetique[] {
  return [...genererPopulation(POPULATION_DEMO)];
}

export interface Reponse {
  status: number;
  contentType: string;
  texte: string;
  corps: any;
}

/** One HTTPS request, presenting `certificat` when given, trusting `ca` (the platform CA). */
export function https(url: string, options: { method?: string; corps?: unknown; certificat?: Certificat; ca: string; contentType?: string }): Promise<Reponse> {
  const texte = options.corps === undefined ? undefined : typeof options.corps === 'string' ? options.corps : JSON.stringify(options.corps);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? (texte === undefined ? 'GET' : 'POST'),
        ca: options.ca,
        cert: options.certificat?.cert,
        key: options.certificat?.key,
        agent: false,
        headers: {
          accept: 'application/fhir+json',
          ...(texte === undefined ? {} : { 'content-type': options.contentType ?? 'application/fhir+json' }),
        },
      },
      (res) => {
        let donnees = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (donnees += c));
        res.on('end', () => {
          let corps: unknown;
          try {
            corps = JSON.parse(donnees);
          } catch {
            corps = undefined;
          }
          resolve({ status: res.statusCode!, contentType: String(res.headers['content-type'] ?? ''), texte: donnees, corps });
        });
      },
    );
    req.on('error', reject);
    req.end(texte);
  });
}

/** The named output parameters of a Parameters resource. */
export function sortie(p: Parameters, nom: string): ParametersParameter | undefined {
  return p.parameter?.find((x) => x.name === nom);
}
