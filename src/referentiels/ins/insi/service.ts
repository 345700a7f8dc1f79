// The INSi teleservice itself, independent of its transports (SOAP at /insi, FHIR operations):
// récupération by traits or by carte Vitale data, vérification of a matricule INS with its traits.
// Reply codes as the CNAM service (specs/referentiels.md §5.4): 00 one identity, 01 none, 02 several.
import type { Queryable } from '../../../db/index.ts';
import { InsError } from '../erreurs.ts';
import { normaliserNir, parseNir } from '../nir.ts';
import { systemeIns } from '../oids.ts';
import { lireParNir, rechercherParNomEtDate, rechercherParTraits, traitsConcordent, type IdentiteReference } from '../reference.ts';
import { criteres, normaliserTrait, RequeteInsiInvalide, verifierDateNaissance, verifierNom, type TraitsInsi } from '../traits.ts';

export type CodeCR = '00' | '01' | '02';

export interface ResultatInsi {
  code: CodeCR;
  libelle: string;
  /** The identity found (code 00). */
  identite?: IdentiteReference;
}

/** Data read from a carte Vitale: the holder's own matricule, or only the insured parent's (ouvrant droit). */
export interface CarteVitale {
  matriculeIndividu?: string;
  matriculeOuvrantDroit?: string;
  nomNaissance?: string;
  dateNaissance?: string;
  /** Birth rank among twins: carried, not used (the reference base has no family links). */
  rangNaissance?: string;
}

const LIBELLES: Record<CodeCR, string> = {
  '00': 'OK',
  '01': 'Aucune identite trouvee',
  '02': 'Plusieurs identites trouvees',
};

const resultat = (identites: IdentiteReference[]): ResultatInsi => {
  const code: CodeCR = identites.length === 0 ? '01' : identites.length === 1 ? '00' : '02';
  return { code, libelle: LIBELLES[code], ...(code === '00' ? { identite: identites[0] } : {}) };
};

export async function rechercherParTraitsIdentite(q: Queryable, traits: TraitsInsi): Promise<ResultatInsi> {
  return resultat(await rechercherParTraits(q, criteres(traits)));
}

export async function rechercherParCarteVitale(q: Queryable, carte: CarteVitale): Promise<ResultatInsi> {
  const dateNaissance = verifierDateNaissance(carte.dateNaissance);
  if (carte.matriculeIndividu?.trim()) {
    const nir = matricule(carte.matriculeIndividu, 'MatriculeIndividu');
    const identite = await lireParNir(q, nir);
    const nom = carte.nomNaissance?.trim() ? verifierNom(carte.nomNaissance) : undefined;
    const concorde = identite && identite.dateNaissance === dateNaissance && (nom === undefined || normaliserTrait(identite.nomNaissance) === nom);
    return resultat(concorde ? [identite] : []);
  }
  if (!carte.matriculeOuvrantDroit?.trim()) {
    throw new RequeteInsiInvalide('La carte Vitale doit donner MatriculeIndividu ou MatriculeOD', 'MatriculeIndividu');
  }
  matricule(carte.matriculeOuvrantDroit, 'MatriculeOD');
  return resultat(await rechercherParNomEtDate(q, verifierNom(carte.nomNaissance), dateNaissance));
}

/** 00 when the matricule (and its OID, if given) belongs to an identity with these traits, 01 otherwise. */
export async function verifierIns(q: Queryable, matriculeIns: string, oid: string | undefined, traits: TraitsInsi): Promise<ResultatInsi> {
  const nir = matricule(matriculeIns, 'MatriculeINS');
  if (oid !== undefined && !systemeIns(oid)) throw new RequeteInsiInvalide(`L'OID ${oid} n'est pas celui d'un matricule INS`, 'OID');
  const c = criteres(traits);
  const identite = await lireParNir(q, nir);
  // One answer for "unknown INS" and "other traits": INSi tells no one the traits of an INS they do not already hold.
  const concorde = identite && (oid === undefined || systemeIns(oid)!.oid === identite.oid) && traitsConcordent(identite, c);
  return resultat(concorde ? [identite] : []);
}

/** A matricule of 15 characters, clé included; an invalid one is refused with the precise reason. */
function matricule(valeur: string, champ: string): string {
  const nir = normaliserNir(valeur);
  try {
    return parseNir(nir, nir[0] === '7' || nir[0] === '8' ? 'NIA' : 'NIR').nir;
  } catch (err) {
    if (err instanceof InsError) throw new RequeteInsiInvalide(`${champ} invalide : ${err.message}`, champ);
    throw err;
  }
}
