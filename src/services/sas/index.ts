// SAS (service d'accès aux soins): the aggregator of the vendors' slots and their appointment
// back-flow (agregateur/), the regulators' portal with the care-offer search, booking, statistics
// and the LRM contextual entry (portail/, recherche/, statistiques/, lrm/).
import type { Practitioner } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../../access/principal.ts';
import type { TlsPlateforme } from '../../pki/tls.ts';
import type { Config } from '../../config.ts';
import type { FhirCore } from '../../fhir/core.ts';
import type { Logger } from '../../log.ts';
import { registerAgregateur, type Agregateur } from './agregateur/index.ts';
import { routesAdmin } from './portail/admin.ts';
import { demoSas } from './portail/demo.ts';
import { routesPortail, type Portail } from './portail/index.ts';
import { Sessions } from './portail/session.ts';
import { IndexOffres } from './recherche/index-offres.ts';
import { RPPS_SYSTEM } from './recherche/offres.ts';

export interface SasModule {
  agregateur: Agregateur;
  portail: Portail;
}

/** LRM software allowed by default in the demo: the simulated call centre of the quick start. */
export const ORIGINE_LRM_DEMO = 'samu-demo';

export async function registerSas(app: FastifyInstance, fhir: FhirCore, config: Config, log: Logger, acces: { verifyToken?: TokenVerifier; tls?: TlsPlateforme } = {}): Promise<SasModule> {
  const agregateur = await registerAgregateur(app, fhir, config, log, acces);
  const index = new IndexOffres(fhir, log);
  index.demarrer();
  const portail: Portail = {
    core: fhir,
    config,
    log,
    sessions: new Sessions(fhir),
    index,
    agregateur,
    verifyToken: acces.verifyToken,
    originesLrm: config.sasLrmOrigins.length > 0 ? config.sasLrmOrigins : config.demo ? [ORIGINE_LRM_DEMO] : [],
    synchroniserRegulateur: (idnat, actif) => synchroniserRegulateur(fhir, agregateur, log, idnat, actif),
  };
  await app.register(routesPortail(portail));
  await app.register(routesAdmin(portail));
  app.addHook('onClose', async () => {
    await index.arreter();
    await agregateur.close();
  });
  if (config.demo) demoSas(app, portail, agregateur, acces.tls);
  return { agregateur, portail };
}

/** V1: the regulator's account at every vendor, named as in the Annuaire. Failures are queued by the aggregator. */
async function synchroniserRegulateur(fhir: FhirCore, agregateur: Agregateur, log: Logger, idnat: string, actif: boolean): Promise<void> {
  const found = await fhir.search('Practitioner', { identifier: `${RPPS_SYSTEM}|${idnat}`, _count: '1' });
  const practitioner = found.matches[0] && (JSON.parse(found.matches[0].json) as Practitioner);
  const name = practitioner?.name?.[0];
  const email = practitioner?.telecom?.find((t) => t.system === 'email')?.value;
  try {
    const resultats = await agregateur.regulateurs.synchroniser({
      identifiant: idnat,
      nom: name?.family ?? idnat,
      prenom: name?.given?.[0] ?? '-',
      // The V1 profile requires an e-mail; the Annuaire's when it has one.
      email: email ?? `regulateur-${idnat}@sas.invalid`,
      actif,
    });
    for (const r of resultats.filter((x) => x.statut !== 'ok')) log.warn({ editeur: r.editeur, statut: r.statut, http: r.http, erreur: r.erreur }, 'sas: regulator account not accepted by a vendor');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'sas: regulator account push failed');
  }
}
