// The demo directory of `npm start`: a synthetic regional extract (Rhône and Ain) generated from a fixed
// seed and imported like a real one, in the background once the server listens, so that start stays
// fast. Interrupted, it resumes at the next start; done, it is not run again.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Platform } from '../../server.ts';
import { genererExtraits } from './generateur.ts';
import { importerFiness } from './import-finess.ts';
import { importerRpps } from './import-rpps.ts';

const ANNUAIRE_DEMO = { graine: 'socle-demo-annuaire', professionnels: 2000, structures: 300, departements: ['69', '01'] };

export async function chargerAnnuaireDemo(platform: Platform): Promise<void> {
  const { db, fhir, log } = platform;
  const dossier = join(tmpdir(), `socle-${ANNUAIRE_DEMO.graine}`);
  const horodatage = '202601150830';
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM annuaire_import_run WHERE source = 'rpps' AND status = 'done' AND file_name = $1`, [
    `PS_LibreAcces_Personne_activite_${horodatage}.txt`,
  ]);
  if (Number(rows[0]!.n) > 0) return;
  const debut = performance.now();
  // Deterministic: regenerating gives the same files, so an interrupted import resumes on them.
  const fichiers = await genererExtraits({ dossier, horodatage, ...ANNUAIRE_DEMO });
  // Small batches: with the embedded database a batch holds the store while it is written.
  const finess = await importerFiness(fhir, fichiers.finess, { lot: 250 });
  const rpps = await importerRpps(fhir, { activite: fichiers.activite, savoirFaire: fichiers.savoirFaire, diplomes: fichiers.diplomes }, { lot: 100 });
  log.info(
    { finess: { created: finess.crees, rejected: finess.rejetes }, rpps: { created: rpps.crees, rejected: rpps.rejetes }, seconds: Math.round((performance.now() - debut) / 100) / 10 },
    'demo directory (RPPS, FINESS) imported',
  );
}
