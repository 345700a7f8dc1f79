// The write side of the Annuaire imports: one run per imported file (resumable), and batches written
// through the FHIR core in one transaction each, as the platform (new resources in bulk). A resource whose mapped content has
// the same hash as last time is not written again (no new version); a changed one is updated (history
// kept); a new one is created; after a complete read, what the file no longer has becomes active=false.
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { withContext } from '../../access/context.ts';
import { PLATFORM } from '../../access/principal.ts';
import type { Queryable } from '../../db/index.ts';
import type { FhirCore } from '../../fhir/core.ts';
import { currentTable } from '../../fhir/schema.ts';
import { clePart, ecrireFusions, partsStockees, sansSuivi, type Part } from './fusion.ts';

export interface Rejet {
  fichier: string;
  ligne: number;
  motif: string;
}

export interface Compteurs {
  lignes: number;
  crees: number;
  modifies: number;
  inchanges: number;
  desactives: number;
  rejetes: number;
  premiersRejets: Rejet[];
  /** Companion files staged (RPPS), so that a resumed run does not stage them twice. */
  etapePreparee?: boolean;
}

export interface Bilan extends Compteurs {
  run: number;
  /** The line a resumed run started after (0 for a fresh run). */
  reprisApres: number;
  secondes: number;
  lignesParSeconde: number;
}

export interface AEcrire {
  source: string;
  cle: string;
  resource: Resource & { id: string };
  /** A structure another source describes too: written as the merge of the sources' parts (fusion.ts). */
  partagee?: boolean;
}

const PREMIERS_REJETS = 20;

export interface Run {
  id: number;
  reprisApres: number;
  compteurs: Compteurs;
}

/** Identity of a file: name, size and a hash of its first MiB (cheap, yet tells two daily extracts apart). */
async function identite(chemin: string): Promise<{ nom: string; taille: number; empreinte: string }> {
  const { size } = await stat(chemin);
  const f = await open(chemin, 'r');
  try {
    const tampon = Buffer.alloc(Math.min(size, 1024 * 1024));
    await f.read(tampon, 0, tampon.length, 0);
    return { nom: basename(chemin), taille: size, empreinte: createHash('sha256').update(tampon).digest('hex') };
  } finally {
    await f.close();
  }
}

/** Resumes the unfinished run of this very file, or starts a new one. */
export async function ouvrirRun(core: FhirCore, source: string, chemin: string): Promise<Run> {
  const id = await identite(chemin);
  const { rows } = await core.db.query<{ id: string; last_line: string; counts: string }>(
    `SELECT id, last_line, counts FROM annuaire_import_run
      WHERE source = $1 AND file_name = $2 AND file_size = $3 AND file_head_hash = $4 AND status = 'running' ORDER BY id DESC LIMIT 1`,
    [source, id.nom, id.taille, id.empreinte],
  );
  if (rows[0]) return { id: Number(rows[0].id), reprisApres: Number(rows[0].last_line), compteurs: JSON.parse(rows[0].counts) as Compteurs };
  const cree = await core.db.query<{ id: string }>(
    `INSERT INTO annuaire_import_run (source, file_name, file_size, file_head_hash, status) VALUES ($1, $2, $3, $4, 'running') RETURNING id`,
    [source, id.nom, id.taille, id.empreinte],
  );
  const compteurs: Compteurs = { lignes: 0, crees: 0, modifies: 0, inchanges: 0, desactives: 0, rejetes: 0, premiersRejets: [] };
  return { id: Number(cree.rows[0]!.id), reprisApres: 0, compteurs };
}

export function rejeter(c: Compteurs, rejet: Rejet): void {
  c.rejetes++;
  if (c.premiersRejets.length < PREMIERS_REJETS) c.premiersRejets.push(rejet);
}

/** Canonical JSON of the mapped resource: what decides "unchanged". */
export const empreinte = (r: Resource): string => createHash('sha256').update(JSON.stringify(r)).digest('base64url');

const enPlateforme = <T>(fn: () => Promise<T>): Promise<T> => withContext({ principal: PLATFORM }, fn);

/** One write per business key and batch (an RPPS structure repeats on many lines). */
function parCle(lot: AEcrire[]): Map<string, AEcrire> {
  const uniques = new Map<string, AEcrire>();
  for (const a of lot) uniques.set(clePart(a.source, a.cle), a);
  return uniques;
}

/**
 * Starts the validation of what the batch will likely create (keys the store does not know yet) on the
 * validation threads, while the previous batch is still being written. A hint only: ecrireLot decides again
 * in its transaction, and validates there what was not started here.
 */
export async function prevaliderLot(core: FhirCore, lot: AEcrire[]): Promise<void> {
  const uniques = parCle(lot);
  const connus = await clesConnues(core.db, [...uniques.values()]);
  core.prevalidate([...uniques].filter(([k, a]) => !a.partagee && !connus.has(k)).map(([, a]) => a.resource));
}

/** Writes one batch and records the run's progress in the same transaction. */
export async function ecrireLot(core: FhirCore, run: Run, lot: AEcrire[], derniereLigne: number): Promise<void> {
  const uniques = parCle(lot);
  const c = run.compteurs;
  const avant = { ...c };
  try {
    await enPlateforme(() =>
      core.db.transaction(async (tx) => {
        const connus = await clesConnues(tx, [...uniques.values()]);
        const touches: Touche[] = [];
        const partagees: { a: AEcrire; connu?: Connu }[] = [];
        // New resources go in bulk, one statement and one AuditEvent per type and batch.
        const nouveaux = new Map<string, Resource[]>();
        const nouveau = (r: Resource) => nouveaux.set(r.resourceType, [...(nouveaux.get(r.resourceType) ?? []), r]);
        for (const [k, a] of uniques) {
          const hash = empreinte(a.resource);
          const connu = connus.get(k);
          touches.push({ a, hash });
          // A structure repeats on many lines: counted once per run.
          if (connu && connu.hash === hash && connu.active) c.inchanges += connu.run === run.id ? 0 : 1;
          else if (a.partagee) partagees.push({ a, connu });
          else if (connu) {
            await core.update(a.resource.resourceType, a.resource.id, a.resource, {}, tx);
            c.modifies++;
          } else {
            nouveau(a.resource);
            c.crees++;
          }
        }
        if (partagees.length > 0) await ecrirePartagees(core, tx, run, partagees, nouveau);
        for (const lot of nouveaux.values()) await core.createMany(lot, tx);
        await enregistrerCles(tx, run.id, touches);
        await avancer(tx, run, derniereLigne);
      }),
    );
  } catch (err) {
    Object.assign(c, avant);
    throw err;
  }
  run.reprisApres = derniereLigne;
}

/** The changed parts of shared structures (fusion.ts): each resource is merged again from all its parts. */
async function ecrirePartagees(core: FhirCore, tx: Queryable, run: Run, partagees: { a: AEcrire; connu?: Connu }[], nouveau: (r: Resource) => void): Promise<void> {
  // A key that pointed to another resource before (the site's FINESS number changed, or an RPPS structure
  // of a FINESS site had its own resource before the two were merged) leaves that one.
  const quittees = partagees.filter(({ a, connu }) => connu?.active && connu.resourceId !== a.resource.id);
  const ids = [...new Set([...partagees.map((p) => p.a.resource.id), ...quittees.map((q) => q.connu!.resourceId)])];
  const { parts, existants } = await partsStockees(tx, ids);
  // Written before parts were kept (an établissement of an older FINESS import): known by the store only.
  const { rows: stockees } = await tx.query<{ id: string }>(`SELECT id FROM ${currentTable('Organization')} WHERE id = ANY($1::text[])`, [ids]);
  for (const r of stockees) existants.add(r.id);
  const fusions = new Map<string, { parts: Part[]; existe: boolean }>();
  for (const { a, connu } of quittees) {
    if (!connu!.partagee) {
      await desactiverRessource(core, tx, connu!.resourceType, connu!.resourceId);
      run.compteurs.desactives++;
      continue;
    }
    parts.get(connu!.resourceId)?.delete(clePart(a.source, a.cle));
    fusions.set(connu!.resourceId, { parts: [...(parts.get(connu!.resourceId)?.values() ?? [])], existe: true });
  }
  for (const { a, connu } of partagees) {
    const id = a.resource.id;
    const deLaRessource = parts.get(id) ?? new Map<string, Part>();
    deLaRessource.set(clePart(a.source, a.cle), { source: a.source, cle: a.cle, resource: a.resource as Part['resource'] });
    parts.set(id, deLaRessource);
    fusions.set(id, { parts: [...deLaRessource.values()], existe: existants.has(id) || connu?.resourceId === id || !!fusions.get(id)?.existe });
  }
  const nouvelles: Resource[] = [];
  const issues = await ecrireFusions(core, tx, fusions, nouvelles);
  nouvelles.forEach(nouveau);
  for (const { connu } of quittees) if (issues.get(connu!.resourceId) === 'desactive') run.compteurs.desactives++;
  for (const { a } of partagees) {
    const issue = issues.get(a.resource.id);
    if (issue === 'cree') run.compteurs.crees++;
    else if (issue === 'modifie') run.compteurs.modifies++;
    else run.compteurs.inchanges++;
    // Counted once per resource, not once per part.
    issues.set(a.resource.id, 'inchange');
  }
}

interface Connu {
  hash: string;
  active: boolean;
  run: number;
  resourceType: string;
  resourceId: string;
  /** Its part is kept (a shared structure). */
  partagee: boolean;
}

async function clesConnues(tx: Queryable, lot: AEcrire[]): Promise<Map<string, Connu>> {
  const parSource = new Map<string, string[]>();
  for (const a of lot) parSource.set(a.source, [...(parSource.get(a.source) ?? []), a.cle]);
  const connus = new Map<string, Connu>();
  for (const [source, cles] of parSource) {
    const { rows } = await tx.query<{ business_key: string; content_hash: string; active: boolean; last_run: string; resource_type: string; resource_id: string; partagee: boolean }>(
      `SELECT business_key, content_hash, active, last_run, resource_type, resource_id, content IS NOT NULL AS partagee
         FROM annuaire_source_key WHERE source = $1 AND business_key = ANY($2::text[])`,
      [source, cles],
    );
    for (const r of rows) {
      connus.set(clePart(source, r.business_key), {
        hash: r.content_hash,
        active: r.active,
        run: Number(r.last_run),
        resourceType: r.resource_type,
        resourceId: r.resource_id,
        partagee: r.partagee,
      });
    }
  }
  return connus;
}

interface Touche {
  a: AEcrire;
  hash: string;
}

/** Records the keys written; a shared structure's part is kept with its key. */
async function enregistrerCles(tx: Queryable, run: number, touches: Touche[], active = true): Promise<void> {
  if (touches.length === 0) return;
  await tx.query(
    `INSERT INTO annuaire_source_key (source, business_key, resource_type, resource_id, content_hash, active, last_run, content)
     SELECT s, k, t, i, h, $6, $7, c FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $8::text[]) AS u(s, k, t, i, h, c)
     ON CONFLICT (source, business_key) DO UPDATE SET resource_type = excluded.resource_type, resource_id = excluded.resource_id,
       content_hash = excluded.content_hash, active = excluded.active, last_run = excluded.last_run, content = excluded.content`,
    [
      touches.map((t) => t.a.source),
      touches.map((t) => t.a.cle),
      touches.map((t) => t.a.resource.resourceType),
      touches.map((t) => t.a.resource.id),
      touches.map((t) => t.hash),
      active,
      run,
      touches.map((t) => (t.a.partagee ? JSON.stringify(t.a.resource) : null)),
    ],
  );
}

async function avancer(tx: Queryable, run: Run, derniereLigne: number): Promise<void> {
  await tx.query('UPDATE annuaire_import_run SET last_line = $2, counts = $3 WHERE id = $1', [run.id, derniereLigne, JSON.stringify(run.compteurs)]);
}

/** Saves the counters without moving the line (rejections at the end of a file, staging done). */
export async function sauverCompteurs(core: FhirCore, run: Run): Promise<void> {
  await core.db.query('UPDATE annuaire_import_run SET counts = $2 WHERE id = $1', [run.id, JSON.stringify(run.compteurs)]);
}

/** The resource as it stands, made active=false (a new version, history kept). */
async function desactiverRessource(core: FhirCore, tx: Queryable, type: string, id: string): Promise<Resource & { id: string }> {
  const courant = JSON.parse((await core.read(type, id, tx)).json) as Resource & { id: string };
  const inactif = { ...courant, meta: sansSuivi(courant.meta), active: false } as Resource & { id: string };
  await core.update(type, id, inactif, {}, tx);
  return inactif;
}

/**
 * After a complete read: what these sources held and this run did not see becomes active=false. A shared
 * structure only loses this source's part, and stays active while another source lists it.
 */
export async function desactiverDisparus(core: FhirCore, run: Run, sources: string[], taille = 200): Promise<void> {
  for (;;) {
    const { rows } = await core.db.query<{ source: string; business_key: string; resource_type: string; resource_id: string; content_hash: string; content: string | null }>(
      `SELECT source, business_key, resource_type, resource_id, content_hash, content FROM annuaire_source_key
        WHERE source = ANY($1::text[]) AND active AND last_run < $2 LIMIT $3`,
      [sources, run.id, taille],
    );
    if (rows.length === 0) return;
    await enPlateforme(() =>
      core.db.transaction(async (tx) => {
        const touches: Touche[] = [];
        const partagees = rows.filter((r) => r.content !== null);
        for (const r of rows) {
          if (r.content !== null) {
            touches.push({ a: { source: r.source, cle: r.business_key, resource: JSON.parse(r.content), partagee: true }, hash: r.content_hash });
            continue;
          }
          const inactif = await desactiverRessource(core, tx, r.resource_type, r.resource_id);
          run.compteurs.desactives++;
          touches.push({ a: { source: r.source, cle: r.business_key, resource: inactif }, hash: empreinte(inactif) });
        }
        if (partagees.length > 0) {
          const { parts } = await partsStockees(tx, [...new Set(partagees.map((r) => r.resource_id))]);
          const fusions = new Map<string, { parts: Part[]; existe: boolean }>();
          for (const r of partagees) {
            const restantes = parts.get(r.resource_id) ?? new Map<string, Part>();
            for (const p of partagees) if (p.resource_id === r.resource_id) restantes.delete(clePart(p.source, p.business_key));
            fusions.set(r.resource_id, { parts: [...restantes.values()], existe: true });
          }
          for (const issue of (await ecrireFusions(core, tx, fusions, [])).values()) {
            if (issue === 'desactive') run.compteurs.desactives++;
            else if (issue === 'modifie') run.compteurs.modifies++;
          }
        }
        await enregistrerCles(tx, run.id, touches, false);
        await tx.query('UPDATE annuaire_import_run SET counts = $2 WHERE id = $1', [run.id, JSON.stringify(run.compteurs)]);
      }),
    );
  }
}

export async function terminerRun(core: FhirCore, run: Run, debut: number): Promise<Bilan> {
  await core.db.query(`UPDATE annuaire_import_run SET status = 'done', finished = now(), counts = $2 WHERE id = $1`, [run.id, JSON.stringify(run.compteurs)]);
  const secondes = (performance.now() - debut) / 1000;
  return { ...run.compteurs, run: run.id, reprisApres: 0, secondes, lignesParSeconde: Math.round(run.compteurs.lignes / Math.max(secondes, 0.001)) };
}
