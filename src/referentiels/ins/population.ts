// Synthetic population for the reference identity base (the INSi simulator's RNIPP stand-in):
// deterministic by seed, streamed one identity at a time, each with a NIR consistent with its traits.
import { Alea, Tirage } from './alea.ts';
import { NOMS_NAISSANCE, PRENOMS_FEMININS, PRENOMS_MASCULINS } from './data/noms.ts';
import { PAYS_NAISSANCE } from './data/pays.ts';
import { chargerCommunes, type Communes } from './lieux.ts';
import { composerNir } from './nir.ts';
import { OID_INS_NIR_TEST } from './oids.ts';

export interface OptionsPopulation {
  /** Same seed (and same communes file) → same population. Default "socle". */
  graine?: string | number;
  /** How many identities; unlimited when absent. */
  nombre?: number;
  /**
   * Share of identities that repeat the nom de naissance, premier prénom, sexe and date de naissance of an
   * identity generated before them (born elsewhere, other prénoms), so INSi searches meet real homonyms.
   */
  partHomonymes?: number;
  /** Share born abroad (lieu de naissance 99xxx). */
  partNesEtranger?: number;
  anneeMin?: number;
  anneeMax?: number;
  /** OID stored with every matricule: fictitious persons default to the INS-NIR test OID. */
  oid?: string;
  /** Loaded communes, or the path of communes.csv (default CHEMIN_COMMUNES_DEFAUT). */
  communes?: Communes | string;
}

export interface IdentiteSynthetique {
  /** Matricule INS, 15 characters (clé included). */
  nir: string;
  oid: string;
  nomNaissance: string;
  /** Prénoms de naissance in order; the first is the premier prénom. */
  prenoms: string[];
  sexe: 'M' | 'F';
  /** AAAA-MM-JJ */
  dateNaissance: string;
  /** COG code: commune or arrondissement, or 99 + country code. */
  lieuNaissance: string;
  /** NIR of the earlier identity this one deliberately shares its traits with. */
  homonymeDe?: string;
}

const PART_NOMS_DOUBLES = 0.02;
const PART_HOMMES = 0.512; // sex ratio at birth in France
const NOMBRE_PRENOMS = new Tirage([0.35, 0.4, 0.2, 0.05]); // 1, 2, 3 or 4 prénoms
const RECENTS = 4096; // identities a homonym may copy: bounded, so memory does not grow with the count
const ORDRE_MAX = 999;

interface Traits {
  nir: string;
  nomNaissance: string;
  premierPrenom: string;
  sexe: 'M' | 'F';
  annee: number;
  mois: number;
  jour: number;
}

/**
 * Streams synthetic identities. Options are checked and communes loaded at the call, so bad input fails
 * before anything is written; identities are then produced one at a time as the caller iterates.
 */
export function genererPopulation(options: OptionsPopulation = {}): Generator<IdentiteSynthetique> {
  const {
    graine = 'socle',
    nombre = Infinity,
    partHomonymes = 0.02,
    partNesEtranger = 0.1,
    anneeMin = 1930,
    anneeMax = 2024,
    oid = OID_INS_NIR_TEST,
  } = options;
  verifierOptions(nombre, partHomonymes, partNesEtranger, anneeMin, anneeMax);
  const communes = typeof options.communes === 'object' ? options.communes : chargerCommunes(options.communes);
  const alea = new Alea(graine);
  const noms = parRang(NOMS_NAISSANCE);
  const prenoms = { M: parRang(PRENOMS_MASCULINS), F: parRang(PRENOMS_FEMININS) };
  const pays = new Tirage(PAYS_NAISSANCE.map((p) => p.poids));
  const lieux = communes.codes.concat(PAYS_NAISSANCE.map((p) => p.code));

  // Numéros d'ordre: one counter per (lieu, année, mois, sexe), so NIRs are unique. Memory is bounded
  // by lieux × années (≤ 170 MB for 100 years), whatever the count; the OS maps the zero pages lazily.
  const parLieu = (anneeMax - anneeMin + 1) * 24;
  const compteurs = new Uint16Array(lieux.length * parLieu);
  const recents: Traits[] = [];

  const tirer = (table: { valeurs: readonly string[]; tirage: Tirage }) => table.valeurs[table.tirage.indice(alea)]!;

  return (function* () {
    for (let i = 0; i < nombre; i++) {
      const source = recents.length > 0 && alea.suivant() < partHomonymes ? recents[alea.entier(recents.length)]! : undefined;
      let traits: Traits;
      if (source) {
        traits = source;
      } else {
        const sexe = alea.suivant() < PART_HOMMES ? 'M' : 'F';
        const annee = anneeMin + alea.entier(anneeMax - anneeMin + 1);
        const mois = 1 + alea.entier(12);
        let nomNaissance = tirer(noms);
        if (alea.suivant() < PART_NOMS_DOUBLES) {
          const second = tirer(noms);
          if (second !== nomNaissance) nomNaissance = `${nomNaissance}-${second}`;
        }
        const jour = 1 + alea.entier(joursDuMois(annee, mois));
        traits = { nir: '', nomNaissance, premierPrenom: tirer(prenoms[sexe]), sexe, annee, mois, jour };
      }

      const liste = [traits.premierPrenom];
      const voulus = 1 + NOMBRE_PRENOMS.indice(alea);
      for (let essai = 0; liste.length < voulus && essai < 8; essai++) {
        const p = tirer(prenoms[traits.sexe]);
        if (!liste.includes(p)) liste.push(p);
      }

      const { annee, mois, sexe } = traits;
      const cellule = ((annee - anneeMin) * 12 + mois - 1) * 2 + (sexe === 'M' ? 0 : 1);
      let lieu = -1;
      let ordre = 0;
      for (let essai = 0; essai < 1000 && lieu < 0; essai++) {
        const l = alea.suivant() < partNesEtranger ? communes.codes.length + pays.indice(alea) : communes.tirage.indice(alea);
        const c = l * parLieu + cellule;
        if (compteurs[c]! < ORDRE_MAX) {
          lieu = l;
          ordre = ++compteurs[c]!;
        }
      }
      if (lieu < 0) {
        throw new Error(
          `Plus de numéro d'ordre libre pour les naissances de ${mois}/${annee} : ` +
            `population trop grande pour les années ${anneeMin}–${anneeMax}`,
        );
      }

      const lieuNaissance = lieux[lieu]!;
      // Corsica was one department (20) until 1976: older NIRs keep 20, the birth place keeps today's code.
      const corse = lieuNaissance[0] === '2' && (lieuNaissance[1] === 'A' || lieuNaissance[1] === 'B');
      const lieuNir = corse && annee < 1976 ? `20${lieuNaissance.slice(2)}` : lieuNaissance;
      const nir = composerNir(sexe === 'M' ? '1' : '2', annee, mois, lieuNir, ordre);
      const identite: IdentiteSynthetique = {
        nir,
        oid,
        nomNaissance: traits.nomNaissance,
        prenoms: liste,
        sexe,
        dateNaissance: `${annee}-${deux(mois)}-${deux(traits.jour)}`,
        lieuNaissance,
      };
      if (source) {
        identite.homonymeDe = source.nir;
      } else {
        traits.nir = nir;
        if (recents.length < RECENTS) recents.push(traits);
        else recents[alea.entier(RECENTS)] = traits;
      }
      yield identite;
    }
  })();
}

function verifierOptions(nombre: number, partHomonymes: number, partNesEtranger: number, anneeMin: number, anneeMax: number): void {
  if (!(nombre >= 0) || (nombre !== Infinity && !Number.isInteger(nombre))) {
    throw new RangeError(`Nombre d'identités invalide : ${nombre}`);
  }
  for (const [nom, part] of [['partHomonymes', partHomonymes], ['partNesEtranger', partNesEtranger]] as const) {
    if (!(part >= 0 && part < 1)) throw new RangeError(`${nom} doit être compris entre 0 et 1 (exclu) : ${part}`);
  }
  if (!Number.isInteger(anneeMin) || !Number.isInteger(anneeMax) || anneeMin > anneeMax || anneeMax - anneeMin >= 100) {
    // Beyond 100 years two persons could share année on 2 digits, mois, lieu and ordre: duplicate NIRs.
    throw new RangeError(`Années de naissance invalides : ${anneeMin}–${anneeMax} (au plus 100 années)`);
  }
}

// Name lists are ordered by frequency; a Zipf-like weight by rank gives the familiar long tail.
function parRang(valeurs: readonly string[]): { valeurs: readonly string[]; tirage: Tirage } {
  return { valeurs, tirage: new Tirage(valeurs.map((_, rang) => 1 / (rang + 10))) };
}

const JOURS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function joursDuMois(annee: number, mois: number): number {
  const bissextile = annee % 4 === 0 && (annee % 100 !== 0 || annee % 400 === 0);
  return mois === 2 && bissextile ? 29 : JOURS[mois - 1]!;
}

function deux(n: number): string {
  return String(n).padStart(2, '0');
}
