// Birth places for the synthetic population: French communes weighted by population, read from the
// communes.csv the project ships (header insee,nom,departement,codes_postaux,population,lat,lon).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tirage } from './alea.ts';

/** The commune table shipped with the platform (data/referentiels/communes.csv). */
export const CHEMIN_COMMUNES_DEFAUT = fileURLToPath(new URL('../../../data/referentiels/communes.csv', import.meta.url));

export interface Communes {
  /** COG codes; Paris, Marseille and Lyon replaced by their arrondissements. */
  codes: string[];
  /** Draws a commune index weighted by population. */
  tirage: Tirage;
}

// Births in these three cities are registered by arrondissement, and the NIR and the INS birth place
// carry the arrondissement's code, never the city's.
const ARRONDISSEMENTS: Record<string, string[]> = {
  '75056': suite(75101, 20),
  '13055': suite(13201, 16),
  '69123': suite(69381, 9),
};

const CODE_COMMUNE = /^(?:\d{5}|2[AB]\d{3})$/u;

export function chargerCommunes(chemin: string = CHEMIN_COMMUNES_DEFAUT): Communes {
  let texte: string;
  try {
    texte = readFileSync(chemin, 'utf8');
  } catch (err) {
    const cause = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'fichier introuvable' : (err as Error).message;
    throw new Error(
      `Impossible de lire la liste des communes ${chemin} (${cause}) : ` +
        'fournissez le communes.csv du projet (colonnes insee et population)',
    );
  }
  const lignes = texte.split('\n');
  const entete = lignes[0]!.trim().split(',');
  const iCode = entete.indexOf('insee');
  const iPopulation = entete.indexOf('population');
  if (iCode < 0 || iPopulation < 0) {
    throw new Error(
      `${chemin} : colonnes « insee » et « population » attendues dans l'en-tête, trouvé « ${entete.join(',')} »`,
    );
  }

  const codes: string[] = [];
  const poids: number[] = [];
  for (let n = 1; n < lignes.length; n++) {
    const ligne = lignes[n]!.trim();
    if (ligne === '') continue;
    // The file is written without quoting (no field contains a comma), so a plain split is exact.
    const champs = ligne.split(',');
    const code = champs[iCode] ?? '';
    const population = Number(champs[iPopulation]);
    if (champs.length !== entete.length || !CODE_COMMUNE.test(code) || !Number.isFinite(population) || population < 0) {
      throw new Error(`${chemin}, ligne ${n + 1} : ligne invalide « ${ligne} »`);
    }
    const arrondissements = ARRONDISSEMENTS[code];
    for (const c of arrondissements ?? [code]) {
      codes.push(c);
      poids.push(arrondissements ? population / arrondissements.length : population);
    }
  }
  if (codes.length === 0) throw new Error(`${chemin} : aucune commune`);
  return { codes, tirage: new Tirage(poids) };
}

function suite(premier: number, nombre: number): string[] {
  return Array.from({ length: nombre }, (_, i) => String(premier + i));
}
