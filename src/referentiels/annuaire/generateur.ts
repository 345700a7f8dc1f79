// Synthetic Annuaire Santé extracts in the exact public layouts, deterministic by seed, streamed (each
// professional and structure is drawn from the seed and its index alone, so memory stays flat at
// national scale): RPPS PS_LibreAcces_Personne_activite (56 columns), SavoirFaire, Dipl_AutExerc
// (UTF-8), and FINESS etalab-cs1100507 (Latin-1, geolocation in Lambert-93 for metropolitan communes).
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { Alea, Tirage } from '../ins/alea.ts';
import { CHEMIN_COMMUNES_DEFAUT } from '../ins/lieux.ts';
import { NOMS_NAISSANCE, PRENOMS_FEMININS, PRENOMS_MASCULINS } from '../ins/data/noms.ts';
import { cleLuhn } from './identifiants.ts';
import { versLambert93 } from './lambert93.ts';
import { savoirFaireParSysteme } from './nomenclatures.ts';
import { nos } from './profils.ts';
import { ENTETE_ACTIVITE_56, ENTETE_DIPLOME, ENTETE_SAVOIR_FAIRE } from './rpps.ts';

export interface OptionsGeneration {
  dossier: string;
  graine: string;
  professionnels: number;
  structures: number;
  /** Only communes of these departments (a regional subset). */
  departements?: string[];
  /** Date of the extract in the file names (YYYYMMDDHHMM). */
  horodatage?: string;
}

interface Commune { insee: string; nom: string; departement: string; codePostal: string; lat: number; lon: number }

// Professions (TRE_G15) with their share of the RPPS/ADELI population and identifier type.
const PROFESSIONS = [
  { code: '60', libelle: 'Infirmier', poids: 40, type: '8' }, { code: '10', libelle: 'Médecin', poids: 19, type: '8' },
  { code: '70', libelle: 'Masseur-Kinésithérapeute', poids: 8, type: '8' }, { code: '21', libelle: 'Pharmacien', poids: 6, type: '8' },
  { code: '40', libelle: 'Chirurgien-Dentiste', poids: 4, type: '8' }, { code: '50', libelle: 'Sage-Femme', poids: 2, type: '8' },
  { code: '80', libelle: 'Pédicure-Podologue', poids: 1.5, type: '8' }, { code: '91', libelle: 'Orthophoniste', poids: 2, type: '8' },
  { code: '92', libelle: 'Orthoptiste', poids: 0.5, type: '8' }, { code: '26', libelle: 'Audioprothésiste', poids: 0.5, type: '8' },
  { code: '28', libelle: 'Opticien-Lunetier', poids: 3, type: '8' }, { code: '93', libelle: 'Psychologue', poids: 6, type: '0' },
  { code: '94', libelle: 'Ergothérapeute', poids: 1.5, type: '0' }, { code: '96', libelle: 'Psychomotricien', poids: 1, type: '0' },
];
const MODES = [{ code: 'L', libelle: 'Libéral' }, { code: 'S', libelle: 'Salarié' }, { code: 'B', libelle: 'Bénévole' }];
const CATEGORIES_EG = [
  { code: '355', libelle: 'Centre Hospitalier (C.H.)', agr: '1102', mft: '03', sph: '1' }, { code: '365', libelle: 'Etablissement de Soins Pluridisciplinaire', agr: '1106', mft: '07', sph: '0' },
  { code: '620', libelle: 'Pharmacie d\'Officine', agr: '3101', mft: '99', sph: '0' }, { code: '500', libelle: 'Etablissement d\'hébergement pour personnes âgées dépendantes', agr: '4401', mft: '40', sph: '0' },
  { code: '124', libelle: 'Centre de Santé', agr: '2202', mft: '99', sph: '0' }, { code: '611', libelle: 'Laboratoire de biologie médicale', agr: '3202', mft: '99', sph: '0' },
];
const VOIES = [['R', 'Rue'], ['AV', 'Avenue'], ['BD', 'Boulevard'], ['PL', 'Place'], ['CHE', 'Chemin'], ['RTE', 'Route']] as const;
const NOMS_VOIE = ['DE LA REPUBLIQUE', 'VICTOR HUGO', 'JEAN JAURES', 'DE LA GARE', 'DU GENERAL DE GAULLE', 'PASTEUR', 'DES ECOLES', 'DE L\'EGLISE', 'DU MOULIN', 'GAMBETTA'];

function chargerCommunes(departements?: string[]): { liste: Commune[]; tirage: Tirage } {
  const lignes = readFileSync(CHEMIN_COMMUNES_DEFAUT, 'utf8').split('\n');
  const liste: Commune[] = [];
  const poids: number[] = [];
  for (const ligne of lignes.slice(1)) {
    const [insee, nom, departement, cps, population, lat, lon] = ligne.trim().split(',');
    if (!insee || (departements && !departements.includes(departement!))) continue;
    liste.push({ insee, nom: nom!, departement: departement!, codePostal: cps!.split(' ')[0]!, lat: Number(lat), lon: Number(lon) });
    poids.push(Math.max(Number(population), 1));
  }
  if (liste.length === 0) throw new Error(`aucune commune pour les départements ${departements?.join(', ')}`);
  return { liste, tirage: new Tirage(poids) };
}

const choisir = <T>(a: Alea, t: readonly T[]): T => t[a.entier(t.length)]!;

/** FINESS number of the n-th structure: department, six digits, Luhn key (Corsica numbered under 20). */
function numeroFiness(departement: string, n: number): string {
  const debut = `${departement.length === 2 ? departement.replace(/^2[AB]$/, '20') : departement.slice(0, 2)}${String(n % 1_000_000).padStart(6, '0')}`;
  return debut + cleLuhn(debut);
}

const siret = (n: number): string => {
  const debut = `4${String(n).padStart(12, '0')}`;
  return debut + cleLuhn(debut);
};

interface Structure { finess: string; finessEj: string; rs: string; commune: Commune; numero: string; voie: readonly [string, string]; nomVoie: string; categorie: (typeof CATEGORIES_EG)[number]; siret: string; ouverture: string }

/** The i-th FINESS établissement, drawn from the seed and i alone. */
function structure(graine: string, i: number, communes: { liste: Commune[]; tirage: Tirage }): Structure {
  const a = new Alea(`${graine}/st/${i}`);
  const commune = communes.liste[communes.tirage.indice(a)]!;
  const categorie = choisir(a, CATEGORIES_EG);
  // About three établissements per entité juridique, numbered in the department of the first one
  // (whose commune is the first draw of its own sequence).
  const ej = Math.floor(i / 3);
  const communeEj = i % 3 === 0 ? commune : communes.liste[communes.tirage.indice(new Alea(`${graine}/st/${ej * 3}`))]!;
  const finessEj = numeroFiness(communeEj.departement, 500_000 + ej);
  return {
    finess: numeroFiness(commune.departement, i), finessEj, commune, categorie, numero: String(1 + a.entier(120)), voie: choisir(a, VOIES), nomVoie: choisir(a, NOMS_VOIE),
    rs: `${categorie.code === '620' ? 'PHARMACIE' : categorie.code === '355' ? 'CH' : 'ETABLISSEMENT'} ${commune.nom.toUpperCase()} ${i}`,
    siret: siret(1_000_000 + i), ouverture: `${1950 + a.entier(70)}-${String(1 + a.entier(12)).padStart(2, '0')}-01`,
  };
}

class Sortie {
  private tampon = '';
  constructor(private readonly flux: WriteStream, private readonly encodage: BufferEncoding) {}
  async ligne(texte: string): Promise<void> {
    this.tampon += `${texte}\n`;
    if (this.tampon.length < 1 << 16) return;
    const ok = this.flux.write(Buffer.from(this.tampon, this.encodage));
    this.tampon = '';
    if (!ok) await once(this.flux, 'drain');
  }
  async fermer(): Promise<void> {
    this.flux.end(Buffer.from(this.tampon, this.encodage));
    await once(this.flux, 'finish');
  }
}

const ligneRpps = (entete: string[], champs: Record<string, string>) => `${entete.map((h) => champs[h] ?? '').join('|')}|`;
const champCsv = (v: string) => (/[;"]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

export async function genererExtraits(o: OptionsGeneration): Promise<Record<string, string>> {
  mkdirSync(o.dossier, { recursive: true });
  const h = o.horodatage ?? '202601150830';
  const communes = chargerCommunes(o.departements);
  const fichiers = {
    activite: join(o.dossier, `PS_LibreAcces_Personne_activite_${h}.txt`),
    savoirFaire: join(o.dossier, `PS_LibreAcces_SavoirFaire_${h}.txt`),
    diplomes: join(o.dossier, `PS_LibreAcces_Dipl_AutExerc_${h}.txt`),
    finess: join(o.dossier, `etalab-cs1100507-stock-${h.slice(0, 8)}-${h.slice(8)}.csv`),
  };
  await genererFiness(o, communes, fichiers.finess, h);
  await genererRpps(o, communes, fichiers);
  return fichiers;
}

async function genererFiness(o: OptionsGeneration, communes: { liste: Commune[]; tirage: Tirage }, chemin: string, h: string): Promise<void> {
  const sortie = new Sortie(createWriteStream(chemin), 'latin1');
  const date = `${h.slice(0, 4)}-${h.slice(4, 6)}-${h.slice(6, 8)}`;
  await sortie.ligne(`finess;etalab;100;${date}`);
  for (let i = 0; i < o.structures; i++) {
    const s = structure(o.graine, i, communes);
    const dep = s.commune.departement;
    const depFiness = dep.length === 3 ? `9${'ABCD F'[Number(dep[2]) - 1] ?? 'Z'}` : dep;
    await sortie.ligne(['structureet', s.finess, s.finessEj, s.rs, s.rs, '', '', s.numero, s.voie[0], s.nomVoie, '', '', s.commune.insee.slice(-3), depFiness,
      '', `${s.commune.codePostal} ${s.commune.nom.toUpperCase()}`, `0${4 + (i % 5)}${String(10_000_000 + i).slice(-8)}`, '', s.categorie.code, s.categorie.libelle,
      s.categorie.agr, '', s.siret, '8610Z', s.categorie.mft, '', s.categorie.sph, '', s.ouverture, s.ouverture, date, ''].map(champCsv).join(';'));
  }
  for (let i = 0; i < o.structures; i++) {
    const s = structure(o.graine, i, communes);
    if (s.commune.departement.length !== 2) continue; // overseas: local UTM projections, not generated
    const { x, y } = versLambert93(s.commune.lat, s.commune.lon);
    await sortie.ligne(`geolocalisation;${s.finess};${x.toFixed(1)};${y.toFixed(1)};1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93;${date}`);
  }
  await sortie.fermer();
}

async function genererRpps(o: OptionsGeneration, communes: { liste: Commune[]; tirage: Tirage }, f: { activite: string; savoirFaire: string; diplomes: string }): Promise<void> {
  const activite = new Sortie(createWriteStream(f.activite), 'utf8');
  const savoirFaire = new Sortie(createWriteStream(f.savoirFaire), 'utf8');
  const diplomes = new Sortie(createWriteStream(f.diplomes), 'utf8');
  await activite.ligne(`${ENTETE_ACTIVITE_56.join('|')}|`);
  await savoirFaire.ligne(`${ENTETE_SAVOIR_FAIRE.join('|')}|`);
  await diplomes.ligne(`${ENTETE_DIPLOME.join('|')}|`);
  const professions = new Tirage(PROFESSIONS.map((p) => p.poids));
  const specialites = savoirFaireParSysteme(nos('TRE_R38-SpecialiteOrdinale')).filter((s) => s.code.startsWith('SM'));
  const capacites = savoirFaireParSysteme(nos('TRE_R43-CapaciteSavoirFaire'));
  for (let p = 0; p < o.professionnels; p++) {
    const a = new Alea(`${o.graine}/ps/${p}`);
    const profession = PROFESSIONS[professions.indice(a)]!;
    const femme = a.suivant() < 0.6;
    const nom = choisir(a, NOMS_NAISSANCE);
    const prenom = choisir(a, femme ? PRENOMS_FEMININS : PRENOMS_MASCULINS);
    const rpps = profession.type === '8' ? `10${String(p).padStart(8, '0')}` : '';
    const id = rpps ? rpps + cleLuhn(rpps) : `${String(1 + (p % 95)).padStart(2, '0')}${profession.code.slice(0, 1)}${String(p).padStart(6, '0').slice(-6)}`;
    const idNat = profession.type + id;
    const medecin = profession.code === '10';
    // Médecine générale for four doctors out of ten, another ordinal specialty for the others.
    const specialite = medecin ? (a.suivant() < 0.4 ? specialites.find((s) => s.code === 'SM54') ?? specialites[0]! : choisir(a, specialites)) : undefined;
    const base: Record<string, string> = {
      "Type d'identifiant PP": profession.type, 'Identifiant PP': id, 'Identification nationale PP': idNat,
      ...(medecin || profession.code === '40' || profession.code === '21' ? { "Code civilité d'exercice": 'DR', "Libellé civilité d'exercice": 'Docteur' } : {}),
      'Code civilité': femme ? 'MME' : 'M', 'Libellé civilité': femme ? 'Madame' : 'Monsieur', "Nom d'exercice": nom, "Prénom d'exercice": prenom,
      'Code profession': profession.code, 'Libellé profession': profession.libelle, 'Code catégorie professionnelle': 'C', 'Libellé catégorie professionnelle': 'Civil',
      ...(specialite ? { 'Code type savoir-faire': 'S', 'Libellé type savoir-faire': 'Spécialité ordinale', 'Code savoir-faire': specialite.code, 'Libellé savoir-faire': specialite.display } : {}),
    };
    const situations = a.suivant() < 0.55 ? 1 : a.suivant() < 0.7 ? 2 : 3;
    for (let s = 0; s < situations; s++) {
      const mode = profession.code === '60' || profession.type === '0' ? (a.suivant() < 0.7 ? MODES[1]! : MODES[0]!) : a.suivant() < 0.6 ? MODES[0]! : a.suivant() < 0.95 ? MODES[1]! : MODES[2]!;
      await activite.ligne(ligneRpps(ENTETE_ACTIVITE_56, { ...base, ...situation(o, a, p, s, mode, profession.code, communes, nom, prenom) }));
    }
    const court = { "Type d'identifiant PP": profession.type, 'Identifiant PP': id, 'Identification nationale PP': idNat, "Nom d'exercice": nom, "Prénom d'exercice": prenom };
    if (specialite) {
      await savoirFaire.ligne(ligneRpps(ENTETE_SAVOIR_FAIRE, { ...court, 'Code profession': '10', 'Libellé profession': 'Médecin', 'Code catégorie professionnelle': 'C', 'Code type savoir-faire': 'S', 'Libellé type savoir-faire': 'Spécialité ordinale', 'Code savoir-faire': specialite.code, 'Libellé savoir-faire': specialite.display }));
      if (a.suivant() < 0.1) {
        const c = choisir(a, capacites);
        await savoirFaire.ligne(ligneRpps(ENTETE_SAVOIR_FAIRE, { ...court, 'Code profession': '10', 'Libellé profession': 'Médecin', 'Code catégorie professionnelle': 'C', 'Code type savoir-faire': 'CAPA', 'Libellé type savoir-faire': 'Capacité', 'Code savoir-faire': c.code, 'Libellé savoir-faire': c.display }));
      }
    }
    await diplomes.ligne(ligneRpps(ENTETE_DIPLOME, { ...court, 'Code type diplôme obtenu': 'DE', 'Libellé type diplôme obtenu': "Diplôme d'État français", 'Code diplôme obtenu': medecin ? 'DE01' : 'DE05', 'Libellé diplôme obtenu': `Diplôme d'État (${profession.libelle})` }));
  }
  await Promise.all([activite.fermer(), savoirFaire.fermer(), diplomes.fermer()]);
}

/** One activity line's structure columns: a FINESS site for salaried work, a cabinet (SIRET) otherwise. */
function situation(o: OptionsGeneration, a: Alea, p: number, s: number, mode: { code: string; libelle: string }, profession: string, communes: { liste: Commune[]; tirage: Tirage }, nom: string, prenom: string): Record<string, string> {
  const commun = { 'Code mode exercice': mode.code, 'Libellé mode exercice': mode.libelle, 'Code genre activité': 'GENR01', 'Libellé genre activité': 'Activité standard de soin', 'Code pays (coord. structure)': '99100', 'Libellé pays (coord. structure)': 'France' };
  if (mode.code !== 'L' && o.structures > 0) {
    const st = structure(o.graine, a.entier(o.structures), communes);
    return {
      ...commun, 'Numéro FINESS site': st.finess, 'Numéro FINESS établissement juridique': st.finessEj, 'Identifiant technique de la structure': `F${st.finess}`, 'Raison sociale site': st.rs,
      ...adresse(st.commune, st.numero, st.voie, st.nomVoie), "Code secteur d'activité": 'SA01', "Libellé secteur d'activité": 'Etablissement public de santé',
      "Autorité d'enregistrement": 'ARS/ARS/ARS',
    };
  }
  // Libéraux: a cabinet of their own, or one shared by a group of ten (a maison de santé).
  const cabinet = s === 0 && a.suivant() < 0.7 ? 2_000_000 + p : 3_000_000 + Math.floor(p / 10) * 3 + s;
  const c = new Alea(`${o.graine}/cab/${cabinet}`);
  const commune = communes.liste[communes.tirage.indice(c)]!;
  const numero = siret(cabinet);
  const email = a.suivant() < 0.5 ? `${`${prenom}.${nom}`.toLowerCase().normalize('NFD').replace(/[^a-z.]/g, '')}${p}@pro.mssante.fr` : '';
  return {
    ...commun, 'Numéro SIRET site': numero, 'Numéro SIREN site': numero.slice(0, 9), 'Identifiant technique de la structure': `C${numero}`,
    'Raison sociale site': cabinet >= 3_000_000 ? `MAISON DE SANTE ${commune.nom.toUpperCase()}` : `CABINET ${nom}`, ...adresse(commune, String(1 + c.entier(80)), choisir(c, VOIES), choisir(c, NOMS_VOIE)),
    'Adresse e-mail (coord. structure)': email, "Code secteur d'activité": 'SA07', "Libellé secteur d'activité": 'Cabinet individuel',
    ...(profession === '21' ? { 'Code rôle': 'FON-03', 'Libellé rôle': "Titulaire d'officine" } : { 'Code rôle': 'FON-01', 'Libellé rôle': 'Titulaire de cabinet' }),
    "Autorité d'enregistrement": 'CNOM/CNOM/CNOM',
  };
}

function adresse(c: Commune, numero: string, voie: readonly [string, string], nomVoie: string): Record<string, string> {
  return {
    'Numéro Voie (coord. structure)': numero, 'Code type de voie (coord. structure)': voie[0], 'Libellé type de voie (coord. structure)': voie[1],
    'Libellé Voie (coord. structure)': nomVoie, 'Bureau cedex (coord. structure)': `${c.codePostal} ${c.nom.toUpperCase()}`, 'Code postal (coord. structure)': c.codePostal,
    'Code commune (coord. structure)': c.insee, 'Libellé commune (coord. structure)': c.nom, 'Code Département (structure)': c.departement,
  };
}
