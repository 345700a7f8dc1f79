// The care-offer search, ranked as the national platform ranks it: practitioners participating in
// the SAS first, then by distance, then in a random order drawn from the search's seed (so that
// the pages of one search do not shuffle, and no practitioner is always first at equal distance).
// In an LRM search the patient's médecin traitant is pinned first.
import type { Queryable } from '../../../db/index.ts';
import { distanceSql } from '../../../fhir/search/near.ts';
import { Sql } from '../../../fhir/search/sql.ts';
import { COLONNES_OFFRE, depuisLigne, type LigneOffre } from './index-offres.ts';
import type { Offre } from './offres.ts';
import { distanceKm, normaliser, referentiel, type Commune, type Specialite } from './referentiel.ts';

export const PAR_PAGE = 25;
const RAYON_MAX_KM = 200;

export interface Lieu {
  lat: number;
  lon: number;
  libelle: string;
  commune?: Commune;
  /** Department the search counts for in the statistics. */
  departement?: string;
}

export interface Criteres {
  lieu: Lieu;
  rayonKm?: number;
  specialite?: Specialite;
  /** Part of a name or of a structure's name. */
  nom?: string;
  graine: string;
  page?: number;
  parPage?: number;
  /** LRM: the patient's médecin traitant, by idNat_PS or by name. */
  medecinTraitant?: { idnat?: string; nom?: string };
}

export interface OffreClassee extends Offre {
  distanceKm?: number;
  participe: boolean;
  refuse: boolean;
  medecinTraitant?: boolean;
}

export interface Resultats {
  total: number;
  page: number;
  pages: number;
  parPage: number;
  rayonKm: number;
  offres: OffreClassee[];
}

export class LieuInconnu extends Error {}

/** A place from coordinates, an INSEE code, or text ("69003 Lyon", "Lyon", "2 rue X, 33000 Bordeaux"; five digits alone: a postal code, else an INSEE code). */
export function trouverLieu(p: { lat?: string; lon?: string; insee?: string; texte?: string }): Lieu {
  const ref = referentiel();
  if (p.lat && p.lon) {
    const lat = Number(p.lat);
    const lon = Number(p.lon);
    if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) throw new LieuInconnu('Les coordonnées sont invalides.');
    const proche = [...ref.communes.values()].reduce((best, c) => (distanceKm(c, { lat, lon }) < distanceKm(best, { lat, lon }) ? c : best));
    return { lat, lon, libelle: `${lat.toFixed(4)}, ${lon.toFixed(4)}`, commune: proche, departement: proche.departement };
  }
  let commune: Commune | undefined;
  if (p.insee) commune = ref.commune({ insee: p.insee });
  else if (p.texte) {
    const texte = p.texte.trim();
    const cp = /\b(\d{5}|2[AB]\d{3})\b/.exec(texte)?.[1];
    const nom = texte.replace(/^.*\b(\d{5}|2[AB]\d{3})\b/, '').replace(/^[\s,]+/, '').split(',').pop()?.trim();
    commune = /^(\d{5}|2[AB]\d{3})$/.test(texte) ? (ref.commune({ codePostal: texte }) ?? ref.commune({ insee: texte })) : ref.commune({ codePostal: cp, nom: nom || undefined });
  }
  if (!commune) throw new LieuInconnu(`Lieu introuvable : ${p.insee ?? p.texte ?? ''}`.trim());
  return { lat: commune.lat, lon: commune.lon, libelle: `${commune.nom} (${commune.departement})`, commune, departement: commune.departement };
}

/**
 * The search, in SQL: the offers in a box around the circle (btree on the position), then the exact
 * distance, the specialty (GIN on the codes) and the name; ranked and paged by the database, so that
 * a search reads the offers of its circle only.
 */
export async function rechercher(db: Queryable, c: Criteres): Promise<Resultats> {
  const rayonKm = Math.min(c.rayonKm ?? referentiel().rayon(c.lieu.departement ?? ''), RAYON_MAX_KM);
  const parPage = Math.max(1, Math.min(Math.trunc(c.parPage ?? PAR_PAGE) || PAR_PAGE, 100));
  const traitant = c.medecinTraitant ? await trouverTraitant(db, c.lieu, c.medecinTraitant) : undefined;
  const sql = new Sql();
  const distance = distanceSql(sql, { latitude: c.lieu.lat, longitude: c.lieu.lon, km: rayonKm });
  const dLat = rayonKm / 110;
  const dLon = rayonKm / (110 * Math.max(0.05, Math.cos((c.lieu.lat * Math.PI) / 180)));
  const filtres = [
    `latitude BETWEEN ${sql.p(c.lieu.lat - dLat)} AND ${sql.p(c.lieu.lat + dLat)}`,
    `longitude BETWEEN ${sql.p(c.lieu.lon - dLon)} AND ${sql.p(c.lieu.lon + dLon)}`,
    `${distance} <= ${sql.p(rayonKm)}`,
    ...filtreSpecialite(sql, c.specialite),
    ...(c.nom && normaliser(c.nom) ? [`strpos(recherche, ${sql.p(normaliser(c.nom))}) > 0`] : []),
    ...(traitant ? [`cle <> ${sql.p(traitant.cle)}`] : []),
  ];
  const retenues = `SELECT ${COLONNES_OFFRE}, ${distance} AS distance_km FROM sas_offre o WHERE ${filtres.join(' AND ')}`;
  const compte = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${retenues}) r`, sql.params);
  const total = compte.rows[0].n + (traitant ? 1 : 0);
  const pages = Math.max(1, Math.ceil(total / parPage));
  const page = Math.max(1, Math.min(Math.trunc(c.page ?? 1) || 1, pages)); // a whole page number: it becomes an OFFSET
  // The médecin traitant takes the first place of the first page.
  const debut = (page - 1) * parPage - (traitant && page > 1 ? 1 : 0);
  const nombre = parPage - (traitant && page === 1 ? 1 : 0);
  const graine = sql.p(c.graine);
  const { rows } = await db.query<LigneClassee>(
    `SELECT r.*, p.participe FROM (${retenues}) r LEFT JOIN sas_participation p ON p.idnat = r.idnat
     ORDER BY p.participe IS TRUE DESC, r.distance_km, ${tirageSql(graine, 'r.cle')}
     LIMIT ${nombre} OFFSET ${debut}`,
    sql.params,
  );
  const offres = rows.map(classer);
  return { total, page, pages, parPage, rayonKm, offres: traitant && page === 1 ? [{ ...traitant, medecinTraitant: true }, ...offres] : offres };
}

interface LigneClassee extends LigneOffre {
  distance_km: number | null;
  participe: boolean | null;
}

function classer(l: LigneClassee): OffreClassee {
  return {
    ...depuisLigne(l),
    ...(l.distance_km === null ? {} : { distanceKm: l.distance_km }),
    participe: l.participe === true,
    refuse: l.participe === false,
  };
}

/** Qualifications of general practice: a search for one finds the others. */
const MEDECINE_GENERALE = ['SM26', 'SM53', 'SM54'];

function filtreSpecialite(sql: Sql, s: Specialite | undefined): string[] {
  if (!s) return [];
  if (s.type === 'profession') return [`professions @> ARRAY[${sql.p(s.code)}]::text[]`];
  if (!MEDECINE_GENERALE.includes(s.code)) return [`specialites @> ARRAY[${sql.p(s.code)}]::text[]`];
  // A doctor whose record carries no specialty (savoir-faire missing from the source) is taken for a general practitioner.
  return [`(specialites && ${sql.p(MEDECINE_GENERALE)}::text[] OR (specialites = '{}' AND professions @> ARRAY['10']::text[]))`];
}

/** The patient's médecin traitant among the offers (by idNat_PS, else by name: indexed on the folded family name). */
async function trouverTraitant(db: Queryable, lieu: Lieu, t: { idnat?: string; nom?: string }): Promise<OffreClassee | undefined> {
  const n = normaliser(t.nom ?? '');
  if (!t.idnat && !n) return undefined;
  // The family name is the whole text, or its words before or after the given name.
  const mots = n.split(' ');
  const noms = t.idnat ? [] : [n, ...mots.flatMap((_, i) => (i === 0 ? [] : [mots.slice(0, i).join(' '), mots.slice(i).join(' ')]))];
  const sql = new Sql();
  const distance = distanceSql(sql, { latitude: lieu.lat, longitude: lieu.lon, km: 0 });
  const critere = t.idnat ? `idnat = ${sql.p(t.idnat)}` : `nom_normalise = ANY(${sql.p(noms)}::text[])`;
  const { rows } = await db.query<LigneClassee>(
    `SELECT r.*, p.participe FROM (SELECT ${COLONNES_OFFRE}, ${distance} AS distance_km FROM sas_offre o WHERE type = 'ps' AND ${critere}) r
     LEFT JOIN sas_participation p ON p.idnat = r.idnat ORDER BY r.cle`,
    sql.params,
  );
  return rows.map(classer).find((o) => t.idnat || normaliser(`${o.nom} ${o.prenom ?? ''}`) === n || normaliser(`${o.prenom ?? ''} ${o.nom}`) === n || normaliser(o.nom) === n);
}

/** The search's random order: the first bytes of SHA-256(seed, NUL, key), fixed by the search's seed and the offer. */
function tirageSql(graine: string, cle: string): string {
  return `sha256(convert_to(${graine}::text, 'UTF8') || '\\x00'::bytea || convert_to(${cle}, 'UTF8'))`;
}
