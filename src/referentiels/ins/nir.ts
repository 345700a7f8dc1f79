// Matricule INS: a NIR or a NIA, 13 characters + a 2-digit clé (specs/referentiels.md §5.1).
// Layout S AA MM DD CCC OOO KK: sexe, année, mois, lieu de naissance (département + commune,
// or 99 + code pays), numéro d'ordre, clé = 97 − (N mod 97), Corsica counted as 2A→19, 2B→18.
import { InsError } from './erreurs.ts';

export type TypeMatricule = 'NIR' | 'NIA';

export interface NirParts {
  /** The 15 characters, normalised (no separators, upper case). */
  nir: string;
  type: TypeMatricule;
  /** 1/2 ordinary; 7/8 provisional numbers (NIA); 3/4 special cases. Odd = male. */
  codeSexe: string;
  sexe: 'M' | 'F';
  provisoire: boolean;
  annee: string;
  mois: string;
  /** False for the conventional months (20, 30–42, 50–99) of a birth whose month is unknown. */
  moisConnu: boolean;
  /** 01–95, 20 (Corsica before 1976), 2A, 2B, 96, 971–978, 984, 986–988, or 99 (abroad). */
  departement: string;
  /** Commune number within the department (2 digits after a 3-digit department), or the country code after 99. */
  commune: string;
  /** The 5 characters of the birth place: COG commune code, or 99 + INSEE country code. */
  lieuNaissance: string;
  neEtranger: boolean;
  ordre: string;
  cle: string;
}

const CODES_SEXE = new Set(['1', '2', '3', '4', '7', '8']);
// Overseas codes that take the third character of the department position (COG 97x / 98x).
const DEPARTEMENTS_OUTRE_MER = new Set(['971', '972', '973', '974', '975', '976', '977', '978', '984', '986', '987', '988']);
const GROUPES = [1, 2, 2, 2, 3, 3, 2];

/** Removes the separators people type or paste (spaces of any kind, dots) and upper-cases 2a/2b. */
export function normaliserNir(value: string): string {
  return value.replace(/[\s.]/gu, '').toUpperCase();
}

/** Groups a 13- or 15-character NIR the way it is printed on the carte Vitale: 1 84 12 75 123 456 40. */
export function formatNir(value: string): string {
  const nir = normaliserNir(value);
  if (nir.length !== 13 && nir.length !== 15) {
    throw new InsError('LONGUEUR', `Le NIR doit comporter 13 ou 15 caractères : ${nir.length} reçus (« ${value} »)`);
  }
  const groupes: string[] = [];
  let debut = 0;
  for (const taille of GROUPES) {
    if (debut >= nir.length) break;
    groupes.push(nir.slice(debut, debut + taille));
    debut += taille;
  }
  return groupes.join(' ');
}

/** The clé of the 13 first characters, as 2 digits ("03"). */
export function nirKey(first13: string, type: TypeMatricule = 'NIR'): string {
  const corps = normaliserNir(first13);
  if (corps.length !== 13) {
    throw new InsError('LONGUEUR', `Le ${type} sans clé doit comporter 13 caractères : ${corps.length} reçus (« ${first13} »)`);
  }
  verifierCaracteres(corps, type);
  return cleDe(corps);
}

export function parseNir(value: string, type: TypeMatricule = 'NIR'): NirParts {
  const nir = normaliserNir(value);
  if (nir.length === 0) throw new InsError('VIDE', `Le ${type} est vide`);
  if (nir.length !== 15) {
    const detail = nir.length === 13 ? ' ; la clé manque' : '';
    throw new InsError(
      'LONGUEUR',
      `Le ${type} doit comporter 15 caractères (13 + clé de 2 chiffres) : ${nir.length} reçus (« ${value.trim()} »)${detail}`,
    );
  }
  verifierCaracteres(nir, type);
  const libelle = `le ${type} ${formatNir(nir.slice(0, 13))}`;

  const codeSexe = nir[0]!;
  if (!CODES_SEXE.has(codeSexe)) {
    throw new InsError(
      'SEXE',
      `Le code sexe ${codeSexe} est invalide pour ${libelle} : 1 ou 2 attendu ` +
        '(7 ou 8 pour un numéro provisoire, 3 ou 4 pour un cas particulier)',
    );
  }

  const mois = nir.slice(3, 5);
  const m = Number(mois);
  const moisConnu = m >= 1 && m <= 12;
  if (!moisConnu && !(m === 20 || (m >= 30 && m <= 42) || m >= 50)) {
    throw new InsError(
      'MOIS',
      `Le mois ${mois} est invalide pour ${libelle} : 01 à 12 attendu (20, 30 à 42 ou 50 à 99 pour un mois de naissance inconnu)`,
    );
  }

  const { departement, commune } = lieu(nir, libelle);
  return {
    nir,
    type,
    codeSexe,
    sexe: Number(codeSexe) % 2 === 1 ? 'M' : 'F',
    provisoire: codeSexe === '7' || codeSexe === '8',
    annee: nir.slice(1, 3),
    mois,
    moisConnu,
    departement,
    commune,
    lieuNaissance: nir.slice(5, 10),
    neEtranger: departement === '99',
    ordre: ordre(nir, libelle),
    cle: cle(nir, libelle),
  };
}

export function parseNia(value: string): NirParts {
  return parseNir(value, 'NIA');
}

export function isValidNir(value: string): boolean {
  try {
    parseNir(value);
    return true;
  } catch (err) {
    if (err instanceof InsError) return false;
    throw err;
  }
}

/** Builds a matricule from its parts; the caller guarantees them (used by the generators). */
export function composerNir(codeSexe: string, annee: number, mois: number, lieuNaissance: string, ordre: number): string {
  const corps = `${codeSexe}${deux(annee % 100)}${deux(mois)}${lieuNaissance}${String(ordre).padStart(3, '0')}`;
  return corps + cleDe(corps);
}

function verifierCaracteres(nir: string, type: TypeMatricule): void {
  const corse = nir[5] === '2' && (nir[6] === 'A' || nir[6] === 'B');
  for (let i = 0; i < nir.length; i++) {
    const c = nir[i]!;
    if (c >= '0' && c <= '9') continue;
    if (i === 6 && corse) continue;
    const attendu = i === 6 ? 'un chiffre, ou A/B après le 2 de la Corse (2A, 2B)' : 'un chiffre';
    throw new InsError(
      'CARACTERE',
      `Caractère « ${c} » non autorisé en position ${i + 1} du ${type} ${nir} : ${attendu} attendu`,
    );
  }
}

function lieu(nir: string, libelle: string): { departement: string; commune: string } {
  const dep = nir.slice(5, 7);
  if (dep === '2A' || dep === '2B') return commune(nir, dep, nir.slice(7, 10), libelle);
  const d = Number(dep);
  if (d === 0) throw new InsError('DEPARTEMENT', `Le département 00 est invalide pour ${libelle} : 01 à 99, 2A ou 2B attendu`);
  if (d <= 96) return commune(nir, dep, nir.slice(7, 10), libelle);
  if (d === 99) {
    // INSEE country codes are 99 + continent digit (1 Europe … 5 Océanie) + 2 digits; 99100 is France itself.
    const pays = nir.slice(7, 10);
    const p = Number(pays);
    if (p < 101 || p > 599) {
      throw new InsError('PAYS', `Le code pays 99${pays} est invalide pour ${libelle} : code INSEE de pays attendu (99101 à 99599)`);
    }
    return { departement: dep, commune: pays };
  }
  const dep3 = nir.slice(5, 8);
  if (!DEPARTEMENTS_OUTRE_MER.has(dep3)) {
    throw new InsError(
      'DEPARTEMENT',
      `Le département ${dep3} est invalide pour ${libelle} : 971 à 978, 984 ou 986 à 988 attendu outre-mer`,
    );
  }
  return commune(nir, dep3, nir.slice(8, 10), libelle);
}

function commune(nir: string, departement: string, code: string, libelle: string): { departement: string; commune: string } {
  if (Number(code) === 0) {
    throw new InsError('COMMUNE', `Le code commune ${nir.slice(5, 10)} est invalide pour ${libelle} : la commune ${code} n'existe pas`);
  }
  return { departement, commune: code };
}

function ordre(nir: string, libelle: string): string {
  const o = nir.slice(10, 13);
  if (o === '000') throw new InsError('ORDRE', `Le numéro d'ordre 000 est invalide pour ${libelle} : 001 à 999 attendu`);
  return o;
}

function cle(nir: string, libelle: string): string {
  const attendue = cleDe(nir.slice(0, 13));
  const recue = nir.slice(13);
  if (recue !== attendue) throw new InsError('CLE', `La clé ${recue} est invalide pour ${libelle} : clé attendue ${attendue}`);
  return recue;
}

// 13 digits stay below 2^53, so a double holds N exactly and % is exact.
function cleDe(corps: string): string {
  const corse = corps[6] === 'A' ? '19' : corps[6] === 'B' ? '18' : undefined;
  const n = Number(corse ? corps.slice(0, 5) + corse + corps.slice(7) : corps);
  return deux(97 - (n % 97));
}

function deux(n: number): string {
  return String(n).padStart(2, '0');
}
