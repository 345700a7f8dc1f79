// The care-offer search, ranked as the national platform ranks it: practitioners participating in
// the SAS first, then by distance, then in a random order drawn from the search's seed (so that
// the pages of one search do not shuffle, and no practitioner is always first at equal distance).
// In an LRM search the patient's médecin traitant is pinned first.
import { createHash } from 'node:crypto';
import { distanceKm, normaliser, referentiel, type Commune, type Specialite } from './referentiel.ts';
import type { Offre } from './offres.ts';

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

export function rechercher(offres: Offre[], participation: Map<string, boolean>, c: Criteres): Resultats {
  const rayonKm = Math.min(c.rayonKm ?? referentiel().rayon(c.lieu.departement ?? ''), RAYON_MAX_KM);
  const nom = c.nom ? normaliser(c.nom) : undefined;
  const classer = (o: Offre): OffreClassee => {
    const decision = o.idnat ? participation.get(o.idnat) : undefined;
    return {
      ...o,
      distanceKm: o.lat !== undefined && o.lon !== undefined ? distanceKm(c.lieu, { lat: o.lat, lon: o.lon }) : undefined,
      participe: decision === true,
      refuse: decision === false,
    };
  };
  const traitant = c.medecinTraitant ? offres.find((o) => estTraitant(o, c.medecinTraitant!)) : undefined;
  // A box around the circle first: the exact distance is computed for few offers.
  const dLat = rayonKm / 110;
  const dLon = rayonKm / (110 * Math.max(0.05, Math.cos((c.lieu.lat * Math.PI) / 180)));
  const retenues: OffreClassee[] = [];
  for (const o of offres) {
    if (o === traitant || o.lat === undefined || o.lon === undefined) continue;
    if (Math.abs(o.lat - c.lieu.lat) > dLat || Math.abs(o.lon - c.lieu.lon) > dLon) continue;
    if (!correspond(o, c.specialite) || (nom && !normaliser(`${o.prenom ?? ''} ${o.nom} ${o.structure ?? ''}`).includes(nom))) continue;
    const classee = classer(o);
    if (classee.distanceKm! <= rayonKm) retenues.push(classee);
  }
  const alea = new Map(retenues.map((o) => [o.cle, tirage(c.graine, o.cle)]));
  retenues.sort((a, b) => Number(b.participe) - Number(a.participe) || a.distanceKm! - b.distanceKm! || alea.get(a.cle)! - alea.get(b.cle)!);
  const tous = traitant ? [{ ...classer(traitant), medecinTraitant: true }, ...retenues] : retenues;
  const parPage = Math.max(1, Math.min(c.parPage ?? PAR_PAGE, 100));
  const pages = Math.max(1, Math.ceil(tous.length / parPage));
  const page = Math.max(1, Math.min(c.page ?? 1, pages));
  return { total: tous.length, page, pages, parPage, rayonKm, offres: tous.slice((page - 1) * parPage, page * parPage) };
}

/** Qualifications of general practice: a search for one finds the others. */
const MEDECINE_GENERALE = ['SM26', 'SM53', 'SM54'];

function correspond(o: Offre, s: Specialite | undefined): boolean {
  if (!s) return true;
  if (s.type === 'profession') return o.professions.includes(s.code);
  if (!MEDECINE_GENERALE.includes(s.code)) return o.specialites.includes(s.code);
  // A doctor whose record carries no specialty (savoir-faire missing from the source) is taken for a general practitioner.
  return o.specialites.some((c) => MEDECINE_GENERALE.includes(c)) || (o.specialites.length === 0 && o.professions.includes('10'));
}

function estTraitant(o: Offre, t: { idnat?: string; nom?: string }): boolean {
  if (o.type !== 'ps') return false;
  if (t.idnat) return o.idnat === t.idnat;
  const n = normaliser(t.nom ?? '');
  return !!n && (normaliser(`${o.nom} ${o.prenom ?? ''}`) === n || normaliser(`${o.prenom ?? ''} ${o.nom}`) === n || normaliser(o.nom) === n);
}

/** A number in [0, 1) fixed by the search's seed and the offer. */
function tirage(graine: string, cle: string): number {
  return createHash('sha256').update(`${graine}\0${cle}`).digest().readUInt32BE(0) / 2 ** 32;
}
