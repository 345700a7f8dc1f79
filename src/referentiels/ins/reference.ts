// The reference identity base (table ins_reference_identity, migration 004): searched by INSi, loaded
// from the synthetic population by a streaming, batched and resumable loader.
import type { Database, Queryable } from '../../db/index.ts';
import { genererPopulation, type IdentiteSynthetique } from './population.ts';
import { normaliserPrenoms, normaliserTrait, prenomsConcordent, type CriteresInsi } from './traits.ts';

export interface IdentiteReference {
  nir: string;
  oid: string;
  nomNaissance: string;
  prenoms: string[];
  sexe: 'M' | 'F';
  dateNaissance: string;
  lieuNaissance: string;
}

/** The demo base loaded at first start: the demo patients (src/demo/seed.ts) are its first identities. */
export const POPULATION_DEMO = { graine: 'socle-demo', nombre: 5000 };

const COLONNES = 'nir, oid, nom_naissance, prenoms, sexe, date_naissance, lieu_naissance';

interface Ligne {
  nir: string;
  oid: string;
  nom_naissance: string;
  prenoms: string;
  sexe: 'M' | 'F';
  date_naissance: string;
  lieu_naissance: string;
}

const identite = (l: Ligne): IdentiteReference => ({
  nir: l.nir,
  oid: l.oid,
  nomNaissance: l.nom_naissance,
  prenoms: l.prenoms.split(' '),
  sexe: l.sexe,
  dateNaissance: l.date_naissance,
  lieuNaissance: l.lieu_naissance,
});

/** Identities matching the traits, at most `limite` (2 is enough to tell one from several). */
export async function rechercherParTraits(q: Queryable, c: CriteresInsi, limite = 2): Promise<IdentiteReference[]> {
  const { rows } = await q.query<Ligne>(
    `SELECT ${COLONNES} FROM ins_reference_identity
      WHERE nom_naissance_norm = $1 AND sexe = $2 AND date_naissance = $3
        AND ($4::text IS NULL OR prenoms_norm = $4 OR left(prenoms_norm, length($4) + 1) = $4 || ' ')
        AND ($5::text IS NULL OR lieu_naissance = $5)
      LIMIT ${limite}`,
    [c.nomNaissance, c.sexe, c.dateNaissance, c.prenoms ?? null, c.lieuNaissance ?? null],
  );
  return rows.map(identite);
}

/** Carte Vitale of a beneficiary without an individual matricule: birth name and date are all it gives. */
export async function rechercherParNomEtDate(q: Queryable, nomNaissance: string, dateNaissance: string, limite = 2): Promise<IdentiteReference[]> {
  const { rows } = await q.query<Ligne>(
    `SELECT ${COLONNES} FROM ins_reference_identity
      WHERE nom_naissance_norm = $1 AND sexe IN ('M', 'F') AND date_naissance = $2 LIMIT ${limite}`,
    [nomNaissance, dateNaissance],
  );
  return rows.map(identite);
}

export async function lireParNir(q: Queryable, nir: string): Promise<IdentiteReference | undefined> {
  const { rows } = await q.query<Ligne>(`SELECT ${COLONNES} FROM ins_reference_identity WHERE nir = $1`, [nir]);
  return rows[0] && identite(rows[0]);
}

/** Whether an identity of the base has these traits (vérification): same comparison as the search. */
export function traitsConcordent(i: IdentiteReference, c: CriteresInsi): boolean {
  return (
    normaliserTrait(i.nomNaissance) === c.nomNaissance &&
    i.sexe === c.sexe &&
    i.dateNaissance === c.dateNaissance &&
    prenomsConcordent(c.prenoms, normaliserPrenoms(i.prenoms)) &&
    (c.lieuNaissance === undefined || i.lieuNaissance === c.lieuNaissance)
  );
}

export interface OptionsChargement {
  nombre: number;
  graine: string;
  /** Replace a base that holds another population (their NIRs would collide). */
  remplacer?: boolean;
  /** Rows per transaction. */
  taillePaquet?: number;
  surProgression?: (charges: number, nombre: number) => void;
}

export interface BilanChargement {
  graine: string;
  /** Identities already there when the load started (a resumed or extended load). */
  deja: number;
  ajoutes: number;
  total: number;
}

/**
 * Loads the first `nombre` identities of the population of `graine`. The generator is deterministic, so
 * a load that stopped resumes where its last committed batch ended, and a larger count extends the base.
 */
export async function chargerReference(db: Database, options: OptionsChargement): Promise<BilanChargement> {
  const { nombre, graine, taillePaquet = 5000 } = options;
  if (!Number.isInteger(nombre) || nombre < 0) throw new RangeError(`Nombre d'identités invalide : ${nombre}`);
  const deja = await preparer(db, graine, options.remplacer ?? false);
  if (deja >= nombre) return { graine, deja, ajoutes: 0, total: deja };

  const population = genererPopulation({ graine, nombre });
  for (let i = 0; i < deja; i++) population.next();

  let charges = deja;
  let enCours: Promise<void> | undefined;
  for (;;) {
    // The next batch is generated while the previous one is being written.
    const paquet = prendre(population, taillePaquet);
    if (enCours) await enCours;
    if (paquet.length === 0) break;
    const avant = charges;
    charges += paquet.length;
    enCours = db.transaction(async (tx) => {
      await inserer(tx, paquet);
      const { rowCount } = await tx.query('UPDATE ins_reference_population SET charges = $1, maj = now() WHERE charges = $2', [charges, avant]);
      if (rowCount !== 1) throw new Error('Un autre chargement de la base de référence INS est en cours');
    });
    enCours.then(() => options.surProgression?.(charges, nombre), () => undefined);
  }
  return { graine, deja, ajoutes: charges - deja, total: charges };
}

/** Loads the demo base into an empty reference base; returns how many identities it loaded. */
export async function chargerBaseDemo(db: Database): Promise<number> {
  const { rows } = await db.query('SELECT 1 FROM ins_reference_population');
  if (rows.length > 0) return 0;
  return (await chargerReference(db, POPULATION_DEMO)).ajoutes;
}

async function preparer(db: Database, graine: string, remplacer: boolean): Promise<number> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ graine: string; charges: number }>('SELECT graine, charges FROM ins_reference_population FOR UPDATE');
    const etat = rows[0];
    if (etat && etat.graine === graine) return Number(etat.charges);
    if (etat && !remplacer) {
      throw new Error(
        `La base de référence contient la population de graine « ${etat.graine} » (${etat.charges} identités) : ` +
          'la charger à la place demande de remplacer la base (socle ins load-reference --replace), sans quoi les NIR se chevaucheraient',
      );
    }
    await tx.query('TRUNCATE ins_reference_identity');
    await tx.query('DELETE FROM ins_reference_population');
    await tx.query('INSERT INTO ins_reference_population (graine, charges) VALUES ($1, 0)', [graine]);
    return 0;
  });
}

function prendre(population: Iterator<IdentiteSynthetique>, n: number): IdentiteSynthetique[] {
  const paquet: IdentiteSynthetique[] = [];
  for (let r = population.next(); !r.done; r = population.next()) {
    paquet.push(r.value);
    if (paquet.length === n) break;
  }
  return paquet;
}

// One multi-row statement per batch: arrays of columns unnested server-side.
async function inserer(tx: Queryable, paquet: IdentiteSynthetique[]): Promise<void> {
  const colonnes: string[][] = [[], [], [], [], [], [], [], [], []];
  for (const p of paquet) {
    const prenoms = p.prenoms.join(' ');
    const valeurs = [p.nir, p.oid, p.nomNaissance, prenoms, p.sexe, p.dateNaissance, p.lieuNaissance, normaliserTrait(p.nomNaissance), normaliserPrenoms(p.prenoms)];
    for (let c = 0; c < valeurs.length; c++) colonnes[c]!.push(valeurs[c]!);
  }
  await tx.query(
    `INSERT INTO ins_reference_identity (${COLONNES}, nom_naissance_norm, prenoms_norm)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`,
    colonnes,
  );
}
