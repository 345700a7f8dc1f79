// `socle import finess`: the FINESS etalab extract (cs1100507) into Organization resources: each
// établissement (EG) with its address, INSEE code and position, part of its entité juridique (EJ).
// Geolocation records follow the établissements in the file: a first pass keeps the positions
// (a few bytes per établissement), the second maps and writes.
import type { FhirCore } from '../../fhir/core.ts';
import { desactiverDisparus, ecrireLot, ouvrirRun, rejeter, terminerRun, type AEcrire, type Bilan, type Rejet } from './ecriture.ts';
import { lireEnregistrement, verifierPremiereLigne, type Geolocalisation } from './finess.ts';
import { detecterEncodage, lireLignes } from './lignes.ts';
import { entiteJuridique, organisationFiness } from './mapping.ts';
import type { OptionsImport } from './import-rpps.ts';
import { LigneRejetee } from './rpps.ts';

export const SOURCES_FINESS = ['finess-eg', 'finess-ej'];

/** Reads the first line only: a file that is not a FINESS etalab extract is refused before anything is opened. */
export async function verifierEnteteFiness(chemin: string): Promise<void> {
  for await (const { texte } of lireLignes(chemin, await detecterEncodage(chemin))) return verifierPremiereLigne(texte, chemin);
  throw new Error(`${chemin} : fichier vide`);
}

export async function importerFiness(core: FhirCore, chemin: string, options: OptionsImport = {}): Promise<Bilan> {
  const debut = performance.now();
  const taille = options.lot ?? 500;
  const encodage = await detecterEncodage(chemin);
  const positions = new Map<string, Geolocalisation>();
  let premiere = true;
  for await (const { texte } of lireLignes(chemin, encodage)) {
    if (premiere) {
      verifierPremiereLigne(texte, chemin);
      premiere = false;
    } else if (texte.startsWith('geolocalisation;')) {
      // Bad geolocation lines are reported by the second pass.
      try {
        const r = lireEnregistrement(texte, 0);
        if (r?.type === 'geolocalisation') positions.set(r.geo.nofinesset, r.geo);
      } catch (err) {
        if (!(err instanceof LigneRejetee)) throw err;
      }
    }
  }
  if (premiere) throw new Error(`${chemin} : fichier vide`);

  const run = await ouvrirRun(core, 'finess', chemin);
  const reprisApres = run.reprisApres;
  let lot: AEcrire[] = [];
  let rejets: Rejet[] = [];
  let derniere = Math.max(run.reprisApres, 1);
  const valider = async () => {
    for (const r of rejets) rejeter(run.compteurs, r);
    rejets = [];
    run.compteurs.lignes = derniere - 1;
    await ecrireLot(core, run, lot, derniere);
    lot = [];
    options.surProgression?.(run.compteurs.lignes);
  };
  for await (const { numero, texte } of lireLignes(chemin, encodage, Math.max(run.reprisApres + 1, 2))) {
    derniere = numero;
    if (texte === '') continue;
    try {
      const r = lireEnregistrement(texte, numero);
      if (r?.type === 'structureet') {
        const e = r.etablissement;
        if (e.nofinessej) lot.push({ source: 'finess-ej', cle: e.nofinessej, resource: entiteJuridique(e.nofinessej) as AEcrire['resource'] });
        // The RPPS may describe the same site: one Organization for both (fusion.ts).
        lot.push({ source: 'finess-eg', cle: e.nofinesset, resource: organisationFiness(e, positions.get(e.nofinesset)) as AEcrire['resource'], partagee: true });
      }
    } catch (err) {
      if (!(err instanceof LigneRejetee)) throw err;
      rejets.push({ fichier: chemin, ligne: numero, motif: err.message });
    }
    if (lot.length >= taille) await valider();
  }
  await valider();
  await desactiverDisparus(core, run, SOURCES_FINESS);
  return { ...(await terminerRun(core, run, debut)), reprisApres };
}
