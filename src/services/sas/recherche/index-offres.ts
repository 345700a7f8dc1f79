// The care-offer index: the offers of offres.ts kept in the sas_offre table, recomputed inside the
// writing transaction of every resource they are computed from, so that a search reads a few indexed
// rows and a bulk import pays a handful of statements per batch. What a write recomputes:
// a PractitionerRole or a HealthcareService, its own offer; a Practitioner, an Organization or a
// Location, the offers of the roles and services that reference it (found in sp_reference).
import type { HealthcareService, Location, Organization, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../../../db/index.ts';
import type { FhirCore } from '../../../fhir/core.ts';
import type { StoredResource } from '../../../fhir/repository.ts';
import { currentTable } from '../../../fhir/schema.ts';
import type { Logger } from '../../../log.ts';
import { offreDuRole, offreDuService, referencesDe, type Offre, type Sources } from './offres.ts';
import { normaliser, referentiel } from './referentiel.ts';

const TYPES_OFFRE = ['PractitionerRole', 'HealthcareService'] as const;
type TypeOffre = (typeof TYPES_OFFRE)[number];
const TYPES_SOURCE = ['Practitioner', 'Organization', 'Location'];
/** Offers recomputed per statement: bounds the memory taken by a structure with thousands of roles, and by the filling. */
const LOT = 1000;

/** A row of sas_offre. */
export interface LigneOffre {
  cle: string;
  type: 'ps' | 'structure';
  idnat: string | null;
  practitioner_id: string | null;
  nom: string;
  prenom: string | null;
  civilite: string | null;
  professions: string[];
  specialites: string[];
  categorie: Offre['categorie'] | null;
  structure: string | null;
  organisation: string | null;
  adresse: string | null;
  commune_insee: string | null;
  latitude: number | null;
  longitude: number | null;
  telephone: string | null;
  nom_normalise: string;
  recherche: string;
}

const COLONNES: (keyof LigneOffre)[] = ['cle', 'type', 'idnat', 'practitioner_id', 'nom', 'prenom', 'civilite', 'professions', 'specialites', 'categorie', 'structure', 'organisation', 'adresse', 'commune_insee', 'latitude', 'longitude', 'telephone', 'nom_normalise', 'recherche'];
export const COLONNES_OFFRE = COLONNES.map((c) => `o.${c}`).join(', ');

function versLigne(o: Offre): LigneOffre {
  return {
    cle: o.cle,
    type: o.type,
    idnat: o.idnat ?? null,
    practitioner_id: o.practitionerId ?? null,
    nom: o.nom,
    prenom: o.prenom ?? null,
    civilite: o.civilite ?? null,
    professions: o.professions,
    specialites: o.specialites,
    categorie: o.categorie ?? null,
    structure: o.structure ?? null,
    organisation: o.organisation ?? null,
    adresse: o.adresse ?? null,
    commune_insee: o.commune?.insee ?? null,
    latitude: o.lat ?? null,
    longitude: o.lon ?? null,
    telephone: o.telephone ?? null,
    nom_normalise: normaliser(o.nom),
    recherche: normaliser(`${o.prenom ?? ''} ${o.nom} ${o.structure ?? ''}`),
  };
}

/** The offer of a row; absent values are left out, as the offers computed from the resources leave them. */
export function depuisLigne(l: LigneOffre): Offre {
  const o: Offre = {
    cle: l.cle,
    type: l.type,
    idnat: l.idnat ?? undefined,
    practitionerId: l.practitioner_id ?? undefined,
    nom: l.nom,
    prenom: l.prenom ?? undefined,
    civilite: l.civilite ?? undefined,
    professions: l.professions,
    specialites: l.specialites,
    categorie: l.categorie ?? undefined,
    structure: l.structure ?? undefined,
    organisation: l.organisation ?? undefined,
    adresse: l.adresse ?? undefined,
    commune: l.commune_insee ? referentiel().communes.get(l.commune_insee) : undefined,
    lat: l.latitude ?? undefined,
    lon: l.longitude ?? undefined,
    telephone: l.telephone ?? undefined,
  };
  for (const k of Object.keys(o) as (keyof Offre)[]) if (o[k] === undefined) delete o[k];
  return o;
}

interface Ligne {
  id: string;
  deleted: boolean;
  json: string;
}

/** The practitioners, organizations and locations behind these references that exist (one query per type). */
async function chargerSources(tx: Queryable, refs: Iterable<string>): Promise<Sources> {
  const parType = new Map<string, Set<string>>();
  for (const ref of refs) {
    const [type, id] = ref.split('/');
    if (TYPES_SOURCE.includes(type) && id) parType.set(type, (parType.get(type) ?? new Set()).add(id));
  }
  const lire = async <T>(type: string) => {
    const ids = parType.get(type);
    if (!ids) return new Map<string, T>();
    const { rows } = await tx.query<{ id: string; content: string }>(`SELECT id, content FROM ${currentTable(type)} WHERE id = ANY($1::text[]) AND NOT deleted`, [[...ids]]);
    return new Map(rows.map((r) => [`${type}/${r.id}`, JSON.parse(r.content) as T]));
  };
  return { practitioners: await lire<Practitioner>('Practitioner'), organizations: await lire<Organization>('Organization'), locations: await lire<Location>('Location') };
}

/** Recomputes the offers of these roles or services (their current rows): one statement reads each kind of source, one writes. */
async function recalculer(tx: Queryable, type: TypeOffre, lignes: Ligne[]): Promise<void> {
  if (lignes.length === 0) return;
  const ressources = lignes.filter((l) => !l.deleted).map((l) => JSON.parse(l.json) as PractitionerRole | HealthcareService);
  const sources = await chargerSources(tx, new Set(ressources.flatMap(referencesDe)));
  const offres: Offre[] = [];
  for (const r of ressources) {
    const cle = `${type}/${r.id}`;
    const o = r.resourceType === 'PractitionerRole' ? offreDuRole(cle, r, sources) : offreDuService(cle, r as HealthcareService, sources);
    if (o) offres.push(o);
  }
  const gardees = new Set(offres.map((o) => o.cle));
  const retirees = lignes.map((l) => `${type}/${l.id}`).filter((c) => !gardees.has(c));
  const maj = COLONNES.filter((c) => c !== 'cle').map((c) => `${c} = EXCLUDED.${c}`).join(', ');
  await tx.query(
    `WITH retirees AS (DELETE FROM sas_offre WHERE cle = ANY($1::text[]))
     INSERT INTO sas_offre SELECT * FROM jsonb_populate_recordset(NULL::sas_offre, $2::jsonb) ON CONFLICT (cle) DO UPDATE SET ${maj}`,
    [retirees, JSON.stringify(offres.map(versLigne))],
  );
}

/**
 * Reads and locks the current rows of these roles or services. The lock on an offer's own resource
 * is what every recomputation of that offer takes (a write of the role or service holds it already):
 * two transactions changing two of its sources cannot each compute it from the other's old version.
 * Ascending ids, so that two recomputations never wait for each other in a cycle.
 */
async function verrouiller(tx: Queryable, type: TypeOffre, ids: string[]): Promise<Ligne[]> {
  const { rows } = await tx.query<Ligne>(`SELECT id, deleted, content AS json FROM ${currentTable(type)} WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`, [ids]);
  return rows;
}

/** The write hook: the offers the written resources feed, recomputed in the writing transaction. */
async function apresEcriture(tx: Queryable, ecrites: StoredResource[]): Promise<void> {
  const vues = new Set<string>();
  for (const type of TYPES_OFFRE) {
    const siennes = ecrites.filter((s) => s.resourceType === type);
    for (const s of siennes) vues.add(`${type}/${s.id}`);
    for (let i = 0; i < siennes.length; i += LOT) await recalculer(tx, type, siennes.slice(i, i + LOT));
  }
  const sources = ecrites.filter((s) => TYPES_SOURCE.includes(s.resourceType));
  if (sources.length === 0) return;
  const { rows } = await tx.query<{ resource_type: TypeOffre; resource_id: string }>(
    `SELECT DISTINCT resource_type, resource_id FROM sp_reference
     WHERE target_type = ANY($1::text[]) AND target_id = ANY($2::text[]) AND resource_type = ANY($3::text[])`,
    [[...new Set(sources.map((s) => s.resourceType))], [...new Set(sources.map((s) => s.id))], TYPES_OFFRE],
  );
  for (const type of TYPES_OFFRE) {
    const ids = rows.filter((r) => r.resource_type === type && !vues.has(`${type}/${r.resource_id}`)).map((r) => r.resource_id).sort();
    for (let i = 0; i < ids.length; i += LOT) await recalculer(tx, type, await verrouiller(tx, type, ids.slice(i, i + LOT)));
  }
}

/**
 * Fills sas_offre from the roles and services already stored, LOT at a time, each lot and the
 * position reached committed together: an interrupted filling resumes where it stopped. Returns the
 * number of resources read.
 */
export async function remplirOffres(db: Database, options: { depuisLeDebut?: boolean; continuer?: () => boolean; progression?: (type: string, lus: number) => void } = {}): Promise<number> {
  if (options.depuisLeDebut) await db.query(`UPDATE sas_offre_reprise SET etape = 'PractitionerRole', apres = ''`);
  let lus = 0;
  while (options.continuer?.() ?? true) {
    const lot = await db.transaction(async (tx) => {
      // Locked: two fillers (two processes) share the work instead of doing it twice.
      const { rows } = await tx.query<{ etape: TypeOffre | 'termine'; apres: string }>('SELECT etape, apres FROM sas_offre_reprise FOR UPDATE');
      const { etape, apres } = rows[0];
      if (etape === 'termine') return undefined;
      const { rows: lignes } = await tx.query<Ligne>(`SELECT id, deleted, content AS json FROM ${currentTable(etape)} WHERE id > $1 ORDER BY id LIMIT ${LOT} FOR NO KEY UPDATE`, [apres]);
      await recalculer(tx, etape, lignes);
      const fini = lignes.length < LOT;
      const suivante = fini ? (etape === 'PractitionerRole' ? 'HealthcareService' : 'termine') : etape;
      await tx.query('UPDATE sas_offre_reprise SET etape = $1, apres = $2', [suivante, fini ? '' : lignes[lignes.length - 1].id]);
      return { etape, n: lignes.length };
    });
    if (!lot) break;
    lus += lot.n;
    options.progression?.(lot.etape, lus);
  }
  return lus;
}

/** The offers kept in the table, maintained on every write; filled at start from a store that predates it. */
export class IndexOffres {
  private remplissage?: Promise<void>;
  private arret = false;

  constructor(
    private readonly core: FhirCore,
    private readonly log: Logger,
  ) {
    core.onWrite((tx, stored) => apresEcriture(tx, [stored]), apresEcriture);
  }

  /** Completes the filling of the table in the background, if it is not done (a store written before the index existed). */
  demarrer(): void {
    this.remplissage = (async () => {
      const { rows } = await this.core.db.query<{ etape: string }>('SELECT etape FROM sas_offre_reprise');
      if (rows[0]?.etape === 'termine') return;
      const debut = Date.now();
      const lus = await remplirOffres(this.core.db, { continuer: () => !this.arret });
      if (!this.arret) this.log.info({ ressources: lus, secondes: Math.round((Date.now() - debut) / 1000) }, 'sas: care-offer index filled');
    })().catch((err) => this.log.error({ err: (err as Error).message }, 'sas: care-offer index filling failed'));
  }

  /** Stops the filling after its current lot (it resumes at the next start). */
  async arreter(): Promise<void> {
    this.arret = true;
    await this.remplissage;
  }

  /** The offers of these practitioners (idNat_PS) and of these keys (PractitionerRole/…, HealthcareService/…). */
  async trouver(p: { idnats?: string[]; cles?: string[] }): Promise<Offre[]> {
    const { rows } = await this.core.db.query<LigneOffre>(`SELECT ${COLONNES_OFFRE} FROM sas_offre o WHERE o.idnat = ANY($1::text[]) OR o.cle = ANY($2::text[]) ORDER BY o.cle`, [p.idnats ?? [], p.cles ?? []]);
    return rows.map(depuisLigne);
  }

  /** The services (HealthcareService) of these structures (Organization/…). */
  async servicesDe(organisations: string[]): Promise<Offre[]> {
    const { rows } = await this.core.db.query<LigneOffre>(`SELECT ${COLONNES_OFFRE} FROM sas_offre o WHERE o.organisation = ANY($1::text[]) AND o.type = 'structure' ORDER BY o.cle`, [organisations]);
    return rows.map(depuisLigne);
  }
}
