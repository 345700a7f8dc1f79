// The places and specialties a search understands: commune centres (data/referentiels/communes.csv),
// the default search radius of each department (data/sas/rayons-recherche.csv, the national
// platform's 2025 table) and the labels of the specialties (TRE_R38) and professions (TRE_G15).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DATA = (rel: string) => fileURLToPath(new URL(`../../../../data/${rel}`, import.meta.url));

const OID_R38 = '1.2.250.1.213.2.28';
const OID_G15 = '1.2.250.1.71.1.2.7';
/** Where the department table has no value (Mayotte, Guyane): the national default. */
const RAYON_PAR_DEFAUT_KM = 20;

export interface Commune {
  insee: string;
  nom: string;
  departement: string;
  codesPostaux: string[];
  population: number;
  lat: number;
  lon: number;
}

export interface Specialite {
  /** "R38:SM54" or "G15:10". */
  cle: string;
  code: string;
  libelle: string;
  type: 'specialite' | 'profession';
}

export const normaliser = (s: string) =>
  s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

export class Referentiel {
  readonly communes = new Map<string, Commune>();
  private readonly parCodePostal = new Map<string, Commune[]>();
  private readonly parNom = new Map<string, Commune[]>();
  private readonly rayons = new Map<string, number>();
  readonly specialites: Specialite[] = [];

  constructor() {
    const lines = readFileSync(DATA('referentiels/communes.csv'), 'utf8').split('\n').filter(Boolean);
    const header = lines[0].split(',');
    const col = (n: string) => header.indexOf(n);
    const [ci, cn, cd, cp, cpop, clat, clon] = ['insee', 'nom', 'departement', 'codes_postaux', 'population', 'lat', 'lon'].map(col);
    for (const line of lines.slice(1)) {
      const c = line.split(',');
      const commune: Commune = {
        insee: c[ci],
        nom: c[cn],
        departement: c[cd],
        codesPostaux: c[cp].split(' ').filter(Boolean),
        population: Number(c[cpop]) || 0,
        lat: Number(c[clat]),
        lon: Number(c[clon]),
      };
      if (!Number.isFinite(commune.lat) || !Number.isFinite(commune.lon)) continue;
      this.communes.set(commune.insee, commune);
      for (const code of commune.codesPostaux) push(this.parCodePostal, code, commune);
      push(this.parNom, normaliser(commune.nom), commune);
    }
    // Most populated first: "Saint-Denis" means the larger one unless a postal code says otherwise.
    for (const list of [...this.parCodePostal.values(), ...this.parNom.values()]) list.sort((a, b) => b.population - a.population);

    for (const line of readFileSync(DATA('sas/rayons-recherche.csv'), 'utf8').split('\n').slice(1).filter(Boolean)) {
      const [dep, , rayon] = line.split(',');
      if (Number(rayon) > 0) this.rayons.set(dep, Number(rayon));
    }

    const concepts = (file: string) =>
      (JSON.parse(readFileSync(DATA(`terminologies/nos/${file}`), 'utf8')) as { concept: { code: string; display: string; property?: { code: string; valueCode?: string }[] }[] }).concept.filter(
        (c) => !c.property?.some((p) => p.code === 'status' && p.valueCode === 'deprecated'),
      );
    for (const c of concepts('CodeSystem-TRE-G15-ProfessionSante.json')) this.specialites.push({ cle: `G15:${c.code}`, code: c.code, libelle: c.display, type: 'profession' });
    for (const c of concepts('CodeSystem-TRE-R38-SpecialiteOrdinale.json')) this.specialites.push({ cle: `R38:${c.code}`, code: c.code, libelle: c.display, type: 'specialite' });
  }

  /** The default radius (km) of searches around a place of this department. */
  rayon(departement: string): number {
    return this.rayons.get(departement) ?? RAYON_PAR_DEFAUT_KM;
  }

  /** A commune from what an address gives: INSEE code, else postal code and name, else name alone. */
  commune(p: { insee?: string; codePostal?: string; nom?: string }): Commune | undefined {
    if (p.insee) {
      const c = this.communes.get(p.insee.trim()) ?? this.arrondissement(p.insee.trim());
      if (c) return c;
    }
    const nom = p.nom ? normaliser(p.nom.replace(/\s+\d+(e|er|eme)?\s*(arrondissement)?$/i, '')) : undefined;
    if (p.codePostal) {
      const list = this.parCodePostal.get(p.codePostal.trim()) ?? [];
      return (nom && list.find((c) => normaliser(c.nom) === nom)) || list[0] || (nom ? this.parNom.get(nom)?.[0] : undefined);
    }
    return nom ? this.parNom.get(nom)?.[0] : undefined;
  }

  /** Communes whose name starts with the text, most populated first (the search form's suggestions). */
  suggestions(texte: string, max = 10): Commune[] {
    const n = normaliser(texte);
    if (n.length < 2) return [];
    const out: Commune[] = [];
    for (const [nom, list] of this.parNom) if (nom.startsWith(n)) out.push(...list);
    return out.sort((a, b) => b.population - a.population).slice(0, max);
  }

  /** "R38:SM54", "SM54", "urn:oid:1.2.250.1.213.2.28|SM54", a system|code, or a label (free text). */
  specialite(valeur: string | undefined): Specialite | undefined {
    if (!valeur) return undefined;
    const v = valeur.trim();
    const direct = this.specialites.find((s) => s.cle === v);
    if (direct) return direct;
    const coded = /^(.*)\|([A-Za-z0-9]+)$/.exec(v);
    if (coded) {
      const [, system, code] = coded;
      const type = system.includes(OID_G15) || /G15/.test(system) ? 'profession' : system.includes(OID_R38) || /R38/.test(system) ? 'specialite' : undefined;
      return this.specialites.find((s) => s.code === code && (!type || s.type === type));
    }
    const byCode = this.specialites.find((s) => s.type === 'specialite' && s.code === v.toUpperCase());
    if (byCode) return byCode;
    const n = normaliser(v);
    return this.specialites.find((s) => normaliser(s.libelle) === n) ?? this.specialites.find((s) => normaliser(s.libelle).includes(n));
  }

  // Paris, Lyon and Marseille arrondissements (75101…, 69381…, 13201…) are not communes of the file.
  private arrondissement(insee: string): Commune | undefined {
    if (/^751\d\d$/.test(insee)) return this.communes.get('75056');
    if (/^6938\d$/.test(insee)) return this.communes.get('69123');
    if (/^132\d\d$/.test(insee)) return this.communes.get('13055');
    return undefined;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Great-circle distance in km (haversine). */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

let shared: Referentiel | undefined;
/** Loaded once per process (≈ 35,000 communes). */
export const referentiel = () => (shared ??= new Referentiel());
