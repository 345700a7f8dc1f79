// The RPPS extracts of the Annuaire Santé, read by column name: `PS_LibreAcces_Personne_activite`
// (52 columns in 2021, 56 since), its two companions `PS_LibreAcces_SavoirFaire` and
// `PS_LibreAcces_Dipl_AutExerc` (13 columns each), and the Pro Santé Connect extraction of the same
// family (`Extraction_ProSanteConnect_Personne_activite`). '|'-separated, one header line, a trailing '|'.
import { adeliValide, rppsValide } from './identifiants.ts';

/** A line that cannot be imported: reported with its place and reason, never fatal. */
export class LigneRejetee extends Error {}

/** Each field: the header names it goes by (public file first, then the Pro Santé Connect variant). */
const ACTIVITE = {
  typeId: ["Type d'identifiant PP"],
  id: ['Identifiant PP'],
  idNat: ['Identification nationale PP'],
  civiliteExercice: ["Code civilité d'exercice"],
  civilite: ['Code civilité'],
  nom: ["Nom d'exercice"],
  prenom: ["Prénom d'exercice"],
  nomFamille: ['Nom de famille'],
  prenoms: ['Prénoms'],
  dateNaissance: ['Date de naissance'],
  profession: ['Code profession'],
  libelleProfession: ['Libellé profession'],
  categorie: ['Code catégorie professionnelle'],
  typeSavoirFaire: ['Code type savoir-faire'],
  savoirFaire: ['Code savoir-faire'],
  libelleSavoirFaire: ['Libellé savoir-faire'],
  modeExercice: ['Code mode exercice'],
  siret: ['Numéro SIRET site'],
  siren: ['Numéro SIREN site'],
  finessSite: ['Numéro FINESS site'],
  finessEj: ['Numéro FINESS établissement juridique'],
  idStructure: ['Identifiant technique de la structure'],
  raisonSociale: ['Raison sociale site'],
  enseigne: ['Enseigne commerciale site'],
  complementDestinataire: ['Complément destinataire (coord. structure)'],
  complementPoint: ['Complément point géographique (coord. structure)'],
  numeroVoie: ['Numéro Voie (coord. structure)'],
  indiceRepetition: ['Indice répétition voie (coord. structure)'],
  typeVoie: ['Code type de voie (coord. structure)'],
  voie: ['Libellé Voie (coord. structure)'],
  mentionDistribution: ['Mention distribution (coord. structure)'],
  bureauCedex: ['Bureau cedex (coord. structure)'],
  codePostal: ['Code postal (coord. structure)'],
  codeCommune: ['Code commune (coord. structure)'],
  libelleCommune: ['Libellé commune (coord. structure)'],
  codePays: ['Code pays (coord. structure)'],
  telephone: ['Téléphone (coord. structure)'],
  telephone2: ['Téléphone 2 (coord. structure)'],
  telecopie: ['Télécopie (coord. structure)'],
  email: ['Adresse e-mail (coord. structure)'],
  departement: ['Code Département (structure)', 'Code département (coord. structure)'],
  ancienId: ["Ancien identifiant de la structure"],
  autorite: ["Autorité d'enregistrement"],
  secteur: ["Code secteur d'activité"],
  libelleSecteur: ["Libellé secteur d'activité"],
  sectionPharmacien: ['Code section tableau pharmaciens'],
  role: ['Code rôle'],
  genreActivite: ['Code genre activité', "Code genre d'activité"],
} as const;

const SAVOIR_FAIRE = {
  idNat: ['Identification nationale PP'],
  typeSavoirFaire: ['Code type savoir-faire'],
  savoirFaire: ['Code savoir-faire'],
  libelle: ['Libellé savoir-faire'],
} as const;

const DIPLOME = {
  idNat: ['Identification nationale PP'],
  typeDiplome: ['Code type diplôme obtenu'],
  diplome: ['Code diplôme obtenu'],
  libelle: ['Libellé diplôme obtenu'],
} as const;

type Champs<T> = { -readonly [K in keyof T]: string };
export type LigneActivite = Champs<typeof ACTIVITE> & { numero: number };
export type LigneSavoirFaire = Champs<typeof SAVOIR_FAIRE>;
export type LigneDiplome = Champs<typeof DIPLOME>;

const OBLIGATOIRES_ACTIVITE = ['typeId', 'id', 'idNat', 'profession'] as const;

/** Splits a '|' line, dropping the empty field after the trailing separator. */
export function decouper(texte: string): string[] {
  const champs = texte.split('|');
  if (champs.length > 1 && champs[champs.length - 1] === '') champs.pop();
  return champs;
}

/** Builds a reader of data lines from the header: positions by name; unknown columns are ignored. */
function lecteur<T extends Record<string, readonly string[]>>(entete: string, schema: T, obligatoires: readonly (keyof T)[], fichier: string) {
  const noms = decouper(entete.replace(/^\ufeff/, '')).map((n) => n.trim());
  const positions = {} as Record<keyof T, number>;
  for (const [champ, alias] of Object.entries(schema) as [keyof T, readonly string[]][]) {
    positions[champ] = noms.findIndex((n) => alias.includes(n));
  }
  const manquantes = obligatoires.filter((c) => positions[c] < 0).map((c) => `« ${schema[c]![0]} »`);
  if (manquantes.length > 0) throw new Error(`${fichier} : colonne(s) obligatoire(s) absente(s) de l'en-tête : ${manquantes.join(', ')}`);
  const cles = Object.keys(schema) as (keyof T)[];
  return (texte: string): Champs<T> => {
    const champs = decouper(texte);
    if (champs.length !== noms.length) throw new LigneRejetee(`${champs.length} champs au lieu de ${noms.length}`);
    const ligne = {} as Champs<T>;
    for (const c of cles) ligne[c] = positions[c] >= 0 ? champs[positions[c]]!.trim() : '';
    return ligne;
  };
}

/** The identifier checks shared by the three files: idNat = type + identifier, RPPS with its key, ADELI format. */
function verifierIdentite(typeId: string, id: string, idNat: string): void {
  if (!idNat) throw new LigneRejetee('Identification nationale PP vide');
  if (typeId && id && idNat !== typeId + id) throw new LigneRejetee(`Identification nationale PP ${idNat} ≠ type ${typeId} + identifiant ${id}`);
  if (typeId === '8' && !rppsValide(id)) throw new LigneRejetee(`numéro RPPS invalide : ${id} (11 chiffres avec clé de Luhn)`);
  if (typeId === '0' && !adeliValide(id)) throw new LigneRejetee(`numéro ADELI invalide : ${id}`);
  if (typeId !== '8' && typeId !== '0') throw new LigneRejetee(`type d'identifiant PP inconnu : « ${typeId} » (0 ADELI, 8 RPPS)`);
}

export function lecteurActivite(entete: string, fichier: string): (texte: string, numero: number) => LigneActivite {
  const lire = lecteur(entete, ACTIVITE, OBLIGATOIRES_ACTIVITE, fichier);
  return (texte, numero) => {
    const l = lire(texte) as LigneActivite;
    l.numero = numero;
    verifierIdentite(l.typeId, l.id, l.idNat);
    // The Pro Santé Connect variant has civil names beside the names of practice.
    if (!l.nom) l.nom = l.nomFamille;
    if (!l.prenom) l.prenom = l.prenoms.split("'").find((p) => p) ?? '';
    if (!l.nom) throw new LigneRejetee("nom d'exercice vide");
    if (!/^\d{2}$/.test(l.profession)) throw new LigneRejetee(`code profession invalide : « ${l.profession} »`);
    if (l.dateNaissance && !dateValide(l.dateNaissance)) throw new LigneRejetee(`date invalide : « ${l.dateNaissance} » (JJ/MM/AAAA)`);
    return l;
  };
}

export function lecteurSavoirFaire(entete: string, fichier: string): (texte: string) => LigneSavoirFaire {
  const lire = lecteur(entete, SAVOIR_FAIRE, ['idNat', 'savoirFaire'], fichier);
  return (texte) => {
    const l = lire(texte);
    verifierIdentite(l.idNat.slice(0, 1), l.idNat.slice(1), l.idNat);
    if (!l.savoirFaire) throw new LigneRejetee('code savoir-faire vide');
    return l;
  };
}

export function lecteurDiplome(entete: string, fichier: string): (texte: string) => LigneDiplome {
  const lire = lecteur(entete, DIPLOME, ['idNat', 'diplome'], fichier);
  return (texte) => {
    const l = lire(texte);
    verifierIdentite(l.idNat.slice(0, 1), l.idNat.slice(1), l.idNat);
    return l;
  };
}

/** dd/MM/yyyy, a real calendar date. */
export function dateValide(texte: string): boolean {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(texte);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[3]!, +m[2]! - 1, +m[1]!));
  return d.getUTCDate() === +m[1]! && d.getUTCMonth() === +m[2]! - 1;
}

/** The three files of an extract, by their published names. */
export const NOMS_FICHIERS = {
  activite: /^(PS_LibreAcces_Personne_activite|Extraction_ProSanteConnect_Personne_activite|Extraction_Pro_sante_connect)/i,
  savoirFaire: /^PS_LibreAcces_SavoirFaire/i,
  diplomes: /^PS_LibreAcces_Dipl_AutExerc/i,
};

/** The header lines the generator writes and the tests use: the published 56-column layout. */
export const ENTETE_ACTIVITE_56 = [
  "Type d'identifiant PP", 'Identifiant PP', 'Identification nationale PP', "Code civilité d'exercice", "Libellé civilité d'exercice",
  'Code civilité', 'Libellé civilité', "Nom d'exercice", "Prénom d'exercice", 'Code profession', 'Libellé profession',
  'Code catégorie professionnelle', 'Libellé catégorie professionnelle', 'Code type savoir-faire', 'Libellé type savoir-faire',
  'Code savoir-faire', 'Libellé savoir-faire', 'Code mode exercice', 'Libellé mode exercice', 'Numéro SIRET site', 'Numéro SIREN site',
  'Numéro FINESS site', 'Numéro FINESS établissement juridique', 'Identifiant technique de la structure', 'Raison sociale site',
  'Enseigne commerciale site', 'Complément destinataire (coord. structure)', 'Complément point géographique (coord. structure)',
  'Numéro Voie (coord. structure)', 'Indice répétition voie (coord. structure)', 'Code type de voie (coord. structure)',
  'Libellé type de voie (coord. structure)', 'Libellé Voie (coord. structure)', 'Mention distribution (coord. structure)',
  'Bureau cedex (coord. structure)', 'Code postal (coord. structure)', 'Code commune (coord. structure)', 'Libellé commune (coord. structure)',
  'Code pays (coord. structure)', 'Libellé pays (coord. structure)', 'Téléphone (coord. structure)', 'Téléphone 2 (coord. structure)',
  'Télécopie (coord. structure)', 'Adresse e-mail (coord. structure)', 'Code Département (structure)', 'Libellé Département (structure)',
  'Ancien identifiant de la structure', "Autorité d'enregistrement", "Code secteur d'activité", "Libellé secteur d'activité",
  'Code section tableau pharmaciens', 'Libellé section tableau pharmaciens', 'Code rôle', 'Libellé rôle', 'Code genre activité', 'Libellé genre activité',
];

export const ENTETE_SAVOIR_FAIRE = [
  "Type d'identifiant PP", 'Identifiant PP', 'Identification nationale PP', "Nom d'exercice", "Prénom d'exercice", 'Code profession',
  'Libellé profession', 'Code catégorie professionnelle', 'Libellé catégorie professionnelle', 'Code type savoir-faire',
  'Libellé type savoir-faire', 'Code savoir-faire', 'Libellé savoir-faire',
];

export const ENTETE_DIPLOME = [
  "Type d'identifiant PP", 'Identifiant PP', 'Identification nationale PP', "Nom d'exercice", "Prénom d'exercice", 'Code type diplôme obtenu',
  'Libellé type diplôme obtenu', 'Code diplôme obtenu', 'Libellé diplôme obtenu', 'Code type autorisation', 'Libellé type autorisation',
  'Code discipline autorisation', 'Libellé discipline autorisation',
];
