// `socle import rpps`: the RPPS extract (PS_LibreAcces_Personne_activite and its SavoirFaire and
// Dipl_AutExerc companions) into Practitioner, PractitionerRole and Organization resources.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FhirCore } from '../../fhir/core.ts';
import { desactiverDisparus, ecrireLot, ouvrirRun, prevaliderLot, rejeter, sauverCompteurs, terminerRun, type AEcrire, type Bilan, type Rejet, type Run } from './ecriture.ts';
import { detecterEncodage, lireLignes } from './lignes.ts';
import { cleStructureRpps, finessSite, idSituation, organisationRpps, practitioner, practitionerRole } from './mapping.ts';
import { LigneRejetee, lecteurActivite, lecteurDiplome, lecteurSavoirFaire, NOMS_FICHIERS, type LigneActivite, type LigneDiplome, type LigneSavoirFaire } from './rpps.ts';

export interface FichiersRpps {
  activite: string;
  savoirFaire?: string;
  diplomes?: string;
}

export const SOURCES_RPPS = ['rpps-ps', 'rpps-se', 'rpps-st'];

/** A directory: the three files by their published names (the newest of each when several). */
export function fichiersRpps(chemin: string, savoirFaire?: string, diplomes?: string): FichiersRpps {
  if (!statSync(chemin).isDirectory()) return { activite: chemin, savoirFaire, diplomes };
  const noms = readdirSync(chemin).sort().reverse();
  const trouver = (re: RegExp) => noms.find((n) => re.test(n));
  const activite = trouver(NOMS_FICHIERS.activite);
  if (!activite) throw new Error(`${chemin} : aucun fichier PS_LibreAcces_Personne_activite_*.txt`);
  const sf = savoirFaire ?? trouver(NOMS_FICHIERS.savoirFaire);
  const dip = diplomes ?? trouver(NOMS_FICHIERS.diplomes);
  return {
    activite: join(chemin, activite),
    savoirFaire: sf && !savoirFaire ? join(chemin, sf) : savoirFaire,
    diplomes: dip && !diplomes ? join(chemin, dip) : diplomes,
  };
}

export interface OptionsImport {
  /** Professionals per transaction. */
  lot?: number;
  surProgression?: (lignes: number) => void;
}

async function premiereLigne(chemin: string, encodage: 'utf-8' | 'latin1'): Promise<string> {
  for await (const l of lireLignes(chemin, encodage)) return l.texte;
  throw new Error(`${chemin} : fichier vide (ni en-tête ni données)`);
}

/** Reads the headers only: a file without its required columns is refused before anything is opened. */
export async function verifierEntetesRpps(fichiers: FichiersRpps): Promise<void> {
  lecteurActivite(await premiereLigne(fichiers.activite, await detecterEncodage(fichiers.activite)), fichiers.activite);
  if (fichiers.savoirFaire) lecteurSavoirFaire(await premiereLigne(fichiers.savoirFaire, await detecterEncodage(fichiers.savoirFaire)), fichiers.savoirFaire);
  if (fichiers.diplomes) lecteurDiplome(await premiereLigne(fichiers.diplomes, await detecterEncodage(fichiers.diplomes)), fichiers.diplomes);
}

export async function importerRpps(core: FhirCore, fichiers: FichiersRpps, options: OptionsImport = {}): Promise<Bilan> {
  const debut = performance.now();
  const taille = options.lot ?? 200;
  const encodage = await detecterEncodage(fichiers.activite);
  const lire = lecteurActivite(await premiereLigne(fichiers.activite, encodage), fichiers.activite);
  const run = await ouvrirRun(core, 'rpps', fichiers.activite);
  const reprisApres = run.reprisApres;
  if (!run.compteurs.etapePreparee) await preparerCompagnons(core, run, fichiers);

  let groupe: LigneActivite[] = [];
  let lot: LigneActivite[][] = [];
  let rejetsEnAttente: Rejet[] = [];
  let derniere = Math.max(run.reprisApres, 1);
  // One batch is written while the next is read, mapped and validated (on the validation threads).
  let enCours: Promise<void> = Promise.resolve();
  const valider = async (jusqua: number) => {
    const rejets = rejetsEnAttente;
    const ecrits = await aEcrire(core, run, lot);
    rejetsEnAttente = [];
    lot = [];
    await prevaliderLot(core, ecrits);
    await enCours;
    for (const r of rejets) rejeter(run.compteurs, r);
    run.compteurs.lignes = jusqua - 1;
    const ecriture = ecrireLot(core, run, ecrits, jusqua).then(() => options.surProgression?.(run.compteurs.lignes));
    ecriture.catch(() => undefined); // awaited by the next batch or at the end of the file
    enCours = ecriture;
  };
  const finGroupe = async (ligneAvant: number) => {
    if (groupe.length > 0) lot.push(groupe);
    groupe = [];
    if (lot.length >= taille) await valider(ligneAvant);
  };
  for await (const { numero, texte } of lireLignes(fichiers.activite, encodage, Math.max(run.reprisApres + 1, 2))) {
    if (texte === '') continue;
    let ligne: LigneActivite;
    try {
      ligne = lire(texte, numero);
    } catch (err) {
      if (!(err instanceof LigneRejetee)) throw err;
      rejetsEnAttente.push({ fichier: fichiers.activite, ligne: numero, motif: err.message });
      derniere = numero;
      continue;
    }
    // Lines of one professional follow each other: a new idNat closes the previous group.
    if (groupe.length > 0 && groupe[0]!.idNat !== ligne.idNat) await finGroupe(derniere);
    groupe.push(ligne);
    derniere = numero;
  }
  await finGroupe(derniere);
  if (lot.length > 0 || rejetsEnAttente.length > 0) await valider(derniere);
  await enCours;
  await desactiverDisparus(core, run, SOURCES_RPPS);
  await core.db.query('DELETE FROM annuaire_qualification_stage WHERE run = $1', [run.id]);
  return { ...(await terminerRun(core, run, debut)), reprisApres };
}

/** The companion files go to a staging table, read back per batch of professionals. */
async function preparerCompagnons(core: FhirCore, run: Run, fichiers: FichiersRpps): Promise<void> {
  await core.db.query('DELETE FROM annuaire_qualification_stage WHERE run = $1', [run.id]);
  const compagnons: [string | undefined, 'savoir-faire' | 'diplome'][] = [[fichiers.savoirFaire, 'savoir-faire'], [fichiers.diplomes, 'diplome']];
  for (const [chemin, nature] of compagnons) {
    if (!chemin) continue;
    const encodage = await detecterEncodage(chemin);
    const entete = await premiereLigne(chemin, encodage);
    const lire = nature === 'savoir-faire' ? lecteurSavoirFaire(entete, chemin) : lecteurDiplome(entete, chemin);
    let tampon: { idNat: string; champs: string }[] = [];
    const vider = async () => {
      if (tampon.length === 0) return;
      await core.db.query(
        `INSERT INTO annuaire_qualification_stage (run, id_nat, kind, fields) SELECT $1, i, $2, f FROM unnest($3::text[], $4::text[]) AS u(i, f)`,
        [run.id, nature, tampon.map((t) => t.idNat), tampon.map((t) => t.champs)],
      );
      tampon = [];
    };
    for await (const { numero, texte } of lireLignes(chemin, encodage, 2)) {
      if (texte === '') continue;
      try {
        const l = lire(texte);
        tampon.push({ idNat: l.idNat, champs: JSON.stringify(l) });
      } catch (err) {
        if (!(err instanceof LigneRejetee)) throw err;
        rejeter(run.compteurs, { fichier: chemin, ligne: numero, motif: err.message });
      }
      if (tampon.length >= 5000) await vider();
    }
    await vider();
  }
  run.compteurs.etapePreparee = true;
  await sauverCompteurs(core, run);
}

async function aEcrire(core: FhirCore, run: Run, lot: LigneActivite[][]): Promise<AEcrire[]> {
  const { rows } = await core.db.query<{ id_nat: string; kind: string; fields: string }>(
    'SELECT id_nat, kind, fields FROM annuaire_qualification_stage WHERE run = $1 AND id_nat = ANY($2::text[])',
    [run.id, lot.map((g) => g[0]!.idNat)],
  );
  const savoirs = new Map<string, LigneSavoirFaire[]>();
  const diplomes = new Map<string, LigneDiplome[]>();
  for (const r of rows) {
    const cible = r.kind === 'diplome' ? diplomes : savoirs;
    cible.set(r.id_nat, [...(cible.get(r.id_nat) ?? []), JSON.parse(r.fields)]);
  }
  const sortie: AEcrire[] = [];
  for (const groupe of lot) {
    const idNat = groupe[0]!.idNat;
    for (const l of groupe) {
      const structure = cleStructureRpps(l);
      if (structure) sortie.push({ source: 'rpps-st', cle: structure, resource: organisationRpps(l) as AEcrire['resource'], partagee: !!finessSite(l) });
    }
    sortie.push({ source: 'rpps-ps', cle: idNat, resource: practitioner(groupe, savoirs.get(idNat) ?? [], diplomes.get(idNat) ?? []) as AEcrire['resource'] });
    for (const l of groupe) sortie.push({ source: 'rpps-se', cle: idSituation(l), resource: practitionerRole(l) as AEcrire['resource'] });
  }
  return sortie;
}
