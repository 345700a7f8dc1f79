// Traits INS as INSi compares them (specs/referentiels.md §5.3): upper case A–Z, no accents, with
// hyphen, apostrophe and single space as the only separators. Whatever the input (a local record typed
// with accents, a carte Vitale, a SOAP request), traits are normalised here before any comparison.

export interface TraitsInsi {
  nomNaissance: string;
  /** Prénoms de naissance in order, or only the first ones: a request may give fewer. */
  prenoms: string[];
  sexe: string;
  /** AAAA-MM-JJ; 00 stands for an unknown day or month ("lunar" dates). */
  dateNaissance: string;
  /** COG code: commune, or 99 + INSEE country code. */
  lieuNaissance?: string;
}

/** Traits checked and normalised: the search keys of the reference base. */
export interface CriteresInsi {
  nomNaissance: string;
  /** Normalised prénoms joined by one space, or undefined when the request gives none. */
  prenoms?: string;
  sexe: 'M' | 'F';
  dateNaissance: string;
  lieuNaissance?: string;
}

/** A request INSi refuses as malformed (SOAP fault, FHIR 400), with the reason in French. */
export class RequeteInsiInvalide extends Error {
  constructor(message: string, readonly champ?: string) {
    super(message);
    this.name = 'RequeteInsiInvalide';
  }
}

const LIGATURES: Record<string, string> = { Œ: 'OE', œ: 'OE', Æ: 'AE', æ: 'AE', ß: 'SS' };

export function normaliserTrait(valeur: string): string {
  return valeur
    .replace(/[ŒœÆæß]/gu, (c) => LIGATURES[c]!)
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[’‘`´ʼ]/gu, "'")
    .replace(/[^A-Z'-]+/gu, ' ')
    .replace(/ *([-']) */gu, '$1')
    .trim();
}

export function normaliserPrenoms(prenoms: readonly string[]): string {
  return prenoms.map(normaliserTrait).filter(Boolean).join(' ');
}

/**
 * First names match the way INSi answers the CNDA cases: the first names asked must be the first
 * ones of the identity, in order ("MARIE" and "MARIE CLAIRE" both find MARIE CLAIRE LOUISE; "CLAIRE" does not).
 */
export function prenomsConcordent(demandes: string | undefined, identite: string): boolean {
  return demandes === undefined || identite === demandes || identite.startsWith(`${demandes} `);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/u;
const COG = /^(?:\d{5}|2[AB]\d{3})$/u;

export function verifierDateNaissance(valeur: string | undefined, champ = 'DateNaissance'): string {
  const date = valeur?.trim() ?? '';
  const m = DATE.exec(date);
  if (!m) throw new RequeteInsiInvalide(`${champ} doit être une date AAAA-MM-JJ (00 pour un jour ou un mois inconnus) : « ${date} » reçu`, champ);
  const [mois, jour] = [Number(m[2]), Number(m[3])];
  if (mois > 12 || jour > 31 || (mois === 0 && jour !== 0)) {
    throw new RequeteInsiInvalide(`${champ} ${date} n'est pas une date de naissance possible`, champ);
  }
  return date;
}

export function verifierLieuNaissance(valeur: string | undefined, champ = 'LieuNaissance'): string | undefined {
  const lieu = valeur?.trim().toUpperCase();
  if (!lieu) return undefined;
  if (!COG.test(lieu)) throw new RequeteInsiInvalide(`${champ} doit être un code COG de 5 caractères (commune, ou 99 + code pays) : « ${lieu} » reçu`, champ);
  return lieu;
}

export function verifierSexe(valeur: string | undefined, champ = 'Sexe'): 'M' | 'F' {
  const sexe = valeur?.trim().toUpperCase();
  if (sexe !== 'M' && sexe !== 'F') throw new RequeteInsiInvalide(`${champ} doit valoir M ou F : « ${valeur ?? ''} » reçu`, champ);
  return sexe;
}

export function verifierNom(valeur: string | undefined, champ = 'NomNaissance'): string {
  const nom = normaliserTrait(valeur ?? '');
  if (!nom) throw new RequeteInsiInvalide(`${champ} est obligatoire (lettres A à Z, tiret, apostrophe, espace)`, champ);
  return nom;
}

/** Checks and normalises the traits of a récupération or vérification request. */
export function criteres(traits: TraitsInsi): CriteresInsi {
  const prenoms = normaliserPrenoms(traits.prenoms);
  return {
    nomNaissance: verifierNom(traits.nomNaissance),
    prenoms: prenoms || undefined,
    sexe: verifierSexe(traits.sexe),
    dateNaissance: verifierDateNaissance(traits.dateNaissance),
    lieuNaissance: verifierLieuNaissance(traits.lieuNaissance),
  };
}
