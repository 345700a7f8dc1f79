// The ROR module (Répertoire de l'Offre et des Ressources, ME V3): its SearchParameters (capacities,
// commune, near-insee-code…), the key constraints of its profiles, the capacity update operation
// $capacites, FHIR Bulk Data $export (the ROR server instantiates bulk-data), the access profiles of
// the ROR's consumers (what each sees of contacts and capacities) and the demo ROR.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.ts';
import type { FhirCore } from '../../fhir/core.ts';
import type { Verifiers } from '../../fhir/rest/edge.ts';
import { activateSearchParameter } from '../../fhir/search/custom.ts';
import { registerNearResolver } from '../../fhir/search/near.ts';
import type { Logger } from '../../log.ts';
import { ExportJobs } from './bulk/jobs.ts';
import { registerBulkExport } from './bulk/routes.ts';
import { exportStorage } from './bulk/storage.ts';
import { registerCapacites } from './capacites.ts';
import { loadCommunes, nearCommune } from './communes.ts';
import { filtrerSelonProfil } from './confidentialite.ts';
import { seedRorDemo } from './demo.ts';
import { guardRorProfiles } from './profiles.ts';

const SEARCH_PARAMETERS = fileURLToPath(new URL('../../../data/ror/search-parameters.json', import.meta.url));

export async function registerRor(app: FastifyInstance, core: FhirCore, config: Config, log: Logger, verifiers: Verifiers): Promise<void> {
  const bundle = JSON.parse(await readFile(SEARCH_PARAMETERS, 'utf8')) as Bundle<SearchParameter>;
  for (const e of bundle.entry ?? []) activateSearchParameter(e.resource as SearchParameter);
  const communes = await loadCommunes();
  registerNearResolver('near-insee-code', (raw) => nearCommune(communes, raw));
  guardRorProfiles(core);
  filtrerSelonProfil(core);
  registerCapacites(app, core, verifiers);

  const jobs = new ExportJobs(core, exportStorage(core.db, config.dataDir), log);
  registerBulkExport(app, core, jobs, verifiers);
  app.addHook('onReady', async () => {
    await jobs.resume();
    // After the platform's own demo data (loaded before listening), so EG can point at their EJ.
    if (config.demo) {
      const n = await seedRorDemo(core, communes);
      if (n > 0) log.info({ resources: n }, 'demo ROR loaded');
    }
  });
  app.addHook('onClose', () => jobs.stop());
  log.info({ searchParameters: bundle.entry?.length ?? 0 }, 'ROR module registered');
}
