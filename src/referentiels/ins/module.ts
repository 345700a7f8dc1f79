// The INS module: INSi teleservice (SOAP at /insi, FHIR operations), identity-vigilance (RNIV) on
// local Patients, the reference identity base, and the HTTPS listener with its development PKI.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenVerifier } from '../../access/principal.ts';
import type { Config } from '../../config.ts';
import type { FhirCore } from '../../fhir/core.ts';
import type { Logger } from '../../log.ts';
import type { Pki } from '../../pki/pki.ts';
import type { TlsPlateforme } from '../../pki/tls.ts';
import { enregistrerOperationsInsi } from './insi/fhir.ts';
import { routeInsi } from './insi/route.ts';
import { chargerBaseDemo, POPULATION_DEMO } from './reference.ts';
import { garderIdentites } from './rniv/garde.ts';
import { enregistrerTransitions } from './rniv/operations.ts';

export interface InsModule {
  /** The development PKI, opened when the HTTPS listener is on. */
  pki?: Pki;
  /** Port of the HTTPS listener once the app is ready; undefined when SOCLE_TLS_PORT is unset. */
  tlsPort(): number | undefined;
}

/** Registers the module; tls: the platform's HTTPS listener (mutual TLS), when configured. */
export async function registerIns(app: FastifyInstance, core: FhirCore, config: Config, log: Logger, verifierJeton?: TokenVerifier, tls?: TlsPlateforme): Promise<InsModule> {
  const adresse = (req: FastifyRequest) => {
    const port = tls?.port();
    return port === undefined ? `${config.baseUrl}/insi` : `https://${req.hostname.replace(/:\d+$/u, '')}:${port}/insi`;
  };
  await app.register(routeInsi, { db: core.db, adresse, verifierJeton });
  enregistrerOperationsInsi(core);
  enregistrerTransitions(core);
  garderIdentites(core);
  if (config.demo) {
    const charges = await chargerBaseDemo(core.db);
    if (charges > 0) log.info({ identites: charges, graine: POPULATION_DEMO.graine }, 'INS reference base loaded (demo)');
  }
  return { pki: tls?.pki, tlsPort: () => tls?.port() };
}
