// V1 (INT_R02): regulator accounts pushed to every connected vendor, on the same endpoint and mutual
// TLS as the slot search. An account a vendor does not know yet is created (POST /Practitioner), a
// known one updated by its identifier (PUT /Practitioner?identifier=…); removal is an update with
// active=false. A push that fails for a transient reason is kept in a table and retried with backoff
// until the vendor accepts it; a newer state of the same regulator replaces the waiting one.
import type { Practitioner } from '@medplum/fhirtypes';
import type { Database } from '../../../db/index.ts';
import type { Logger } from '../../../log.ts';
import type { EditeurSas } from './index.ts';
import type { ReglagesAgregateur } from './reglages.ts';
import type { Registre } from './registre.ts';
import { SYSTEME_IDNPS } from './requetes.ts';
import { Expiration, type Reponse, type Transport } from './transport.ts';

export const SOURCE_SAS = 'urn:oid:1.2.250.1.213.3.6';
const PROFIL_REGULATEUR = 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/FrPractitionerRegul';
const FR_V2_0203 = 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;
const TENTATIVES_MAX = 10;
const PAUSE_MAX_MS = 60 * 60 * 1000;
/** A claimed queue row is left alone by other instances this long. */
const RESERVATION_MS = 5 * 60 * 1000;

export interface RegulateurSas {
  /** National id of the regulator's CPx card (e.g. 3456780581/11242343), or the SAS technical id (UUID) while there is none. */
  identifiant: string;
  nom: string;
  prenom: string;
  email: string;
  /** false removes the regulator habilitation at every vendor. */
  actif: boolean;
  /** The id the vendors know the regulator by, when it changes (a UUID replaced by the national id). */
  identifiantPrecedent?: string;
}

export interface ResultatSynchro {
  editeur: string;
  statut: 'ok' | 'en-attente' | 'refuse';
  http?: number;
  erreur?: string;
}

export class RegulateurInvalide extends Error {}

/** system|value of a regulator id: the SAS technical id for a UUID, the national PS id otherwise. */
export const cleRegulateur = (identifiant: string) => `${UUID.test(identifiant) ? SOURCE_SAS : SYSTEME_IDNPS}|${identifiant}`;

export function practitionerRegulateur(r: RegulateurSas): Practitioner {
  const technique = UUID.test(r.identifiant);
  return {
    resourceType: 'Practitioner',
    meta: { source: SOURCE_SAS, profile: [PROFIL_REGULATEUR] },
    identifier: [{ type: { coding: [{ system: FR_V2_0203, code: technique ? 'INTRN' : 'IDNPS' }] }, system: technique ? SOURCE_SAS : SYSTEME_IDNPS, value: r.identifiant }],
    active: r.actif,
    name: [{ family: r.nom, given: [r.prenom] }],
    telecom: [{ system: 'email', value: r.email }],
  };
}

export function verifierRegulateur(r: Partial<RegulateurSas>): RegulateurSas {
  const texte = (v: unknown, nom: string) => {
    if (typeof v !== 'string' || !v.trim()) throw new RegulateurInvalide(`${nom} : obligatoire`);
    return v.trim();
  };
  const identifiant = texte(r.identifiant, 'identifiant');
  if (!UUID.test(identifiant) && !/^[0-9A-Za-z/]{8,40}$/u.test(identifiant)) throw new RegulateurInvalide(`identifiant : « ${identifiant} » n'est ni un identifiant national (carte CPx) ni un UUID`);
  const email = texte(r.email, 'email');
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/u.test(email)) throw new RegulateurInvalide(`email : « ${email} » n'est pas une adresse`);
  if (typeof r.actif !== 'boolean') throw new RegulateurInvalide('actif : true ou false');
  return {
    identifiant,
    nom: texte(r.nom, 'nom'),
    prenom: texte(r.prenom, 'prenom'),
    email,
    actif: r.actif,
    ...(r.identifiantPrecedent ? { identifiantPrecedent: texte(r.identifiantPrecedent, 'identifiantPrecedent') } : {}),
  };
}

interface LigneFile {
  editeur_id: string;
  regulateur: string;
  practitioner: string;
  tentatives: number;
}

export class SynchroRegulateurs {
  private minuteur?: NodeJS.Timeout;
  private enCours?: Promise<number>;

  constructor(
    private readonly db: Database,
    private readonly registre: Registre,
    private readonly transport: Transport,
    private readonly reglages: ReglagesAgregateur,
    private readonly log: Logger,
  ) {}

  demarrer(): void {
    if (this.reglages.v1IntervalleMs === 0) return;
    this.minuteur = setInterval(() => this.relancer().catch((err) => this.log.warn({ err }, 'SAS V1 retry failed')), this.reglages.v1IntervalleMs);
    this.minuteur.unref();
  }

  arreter(): void {
    clearInterval(this.minuteur);
  }

  /** Pushes the regulator to every active vendor now; what fails for a transient reason waits in the queue. */
  async synchroniser(entree: RegulateurSas): Promise<ResultatSynchro[]> {
    const r = verifierRegulateur(entree);
    const cle = cleRegulateur(r.identifiant);
    const cible = r.identifiantPrecedent ? cleRegulateur(r.identifiantPrecedent) : cle;
    const corps = JSON.stringify({ cible, practitioner: practitionerRegulateur(r) });
    const editeurs = await this.registre.actifs();
    return Promise.all(
      editeurs.map(async (e) => {
        const resultat = await this.envoyer(e, cle, corps);
        if (resultat.statut === 'ok') await this.db.query('DELETE FROM sas_v1_file WHERE editeur_id = $1 AND regulateur = $2', [e.id, cle]);
        else await this.mettreEnFile(e.id, cle, corps, resultat, 0);
        return resultat;
      }),
    );
  }

  /** Works through the queue rows that are due; returns how many the vendors accepted. */
  relancer(): Promise<number> {
    this.enCours ??= this.travailler().finally(() => (this.enCours = undefined));
    return this.enCours;
  }

  async file(): Promise<{ editeur: string; regulateur: string; tentatives: number; prochainEssai: string; derniereErreur?: string; abandonne: boolean }[]> {
    const { rows } = await this.db.query<{ editeur_id: string; regulateur: string; tentatives: number; prochain_essai: Date | string; derniere_erreur: string | null; abandonne: boolean }>(
      'SELECT editeur_id, regulateur, tentatives, prochain_essai, derniere_erreur, abandonne FROM sas_v1_file ORDER BY prochain_essai',
    );
    return rows.map((l) => ({
      editeur: l.editeur_id,
      regulateur: l.regulateur,
      tentatives: l.tentatives,
      prochainEssai: new Date(l.prochain_essai).toISOString(),
      ...(l.derniere_erreur ? { derniereErreur: l.derniere_erreur } : {}),
      abandonne: l.abandonne,
    }));
  }

  private async travailler(): Promise<number> {
    // Claimed by moving their due time forward, so that another instance does not send them too.
    const { rows } = await this.db.query<LigneFile>(
      `UPDATE sas_v1_file SET prochain_essai = now() + $1 * interval '1 millisecond'
       WHERE NOT abandonne AND prochain_essai <= now() RETURNING editeur_id, regulateur, practitioner, tentatives`,
      [RESERVATION_MS],
    );
    let acceptes = 0;
    for (const l of rows) {
      const editeur = (await this.registre.actifs()).find((e) => e.id === l.editeur_id);
      if (!editeur) continue;
      const resultat = await this.envoyer(editeur, l.regulateur, l.practitioner);
      if (resultat.statut === 'ok') {
        acceptes++;
        // Only if no newer state replaced it meanwhile.
        await this.db.query('DELETE FROM sas_v1_file WHERE editeur_id = $1 AND regulateur = $2 AND practitioner = $3', [l.editeur_id, l.regulateur, l.practitioner]);
      } else await this.mettreEnFile(l.editeur_id, l.regulateur, l.practitioner, resultat, l.tentatives + 1);
    }
    return acceptes;
  }

  private async mettreEnFile(editeur: string, regulateur: string, corps: string, r: ResultatSynchro, tentatives: number): Promise<void> {
    const abandonne = r.statut === 'refuse' || tentatives >= TENTATIVES_MAX;
    const pause = Math.min(PAUSE_MAX_MS, Math.max(1000, this.reglages.v1IntervalleMs) * 2 ** tentatives);
    await this.db.query(
      `INSERT INTO sas_v1_file (editeur_id, regulateur, practitioner, tentatives, prochain_essai, derniere_erreur, abandonne)
       VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond', $6, $7)
       ON CONFLICT (editeur_id, regulateur) DO UPDATE SET practitioner = $3, tentatives = $4, prochain_essai = now() + $5 * interval '1 millisecond',
         derniere_erreur = $6, abandonne = $7, maj = now()`,
      [editeur, regulateur, corps, tentatives, pause, `${r.http ? `HTTP ${r.http} ` : ''}${r.erreur ?? ''}`.trim(), abandonne],
    );
    this.log.warn({ editeur, statut: r.statut, http: r.http, tentatives, abandonne }, 'SAS V1 push deferred');
  }

  /** One push: POST for an account the vendor has not accepted yet (PUT if it already has it), PUT otherwise. */
  private async envoyer(editeur: EditeurSas, cle: string, corps: string): Promise<ResultatSynchro> {
    const { cible, practitioner } = JSON.parse(corps) as { cible: string; practitioner: Practitioner };
    const { rows } = await this.db.query('SELECT 1 FROM sas_v1_compte WHERE editeur_id = $1 AND regulateur = $2', [editeur.id, cible]);
    const connu = rows.length > 0;
    const echeance = () => Date.now() + this.reglages.deadlineMs;
    const mettre = () => this.appel(editeur, { methode: 'PUT', chemin: `/Practitioner?identifier=${encodeURIComponent(cible)}`, corps: practitioner, echeance: echeance(), idempotent: true });
    let r = connu ? await mettre() : await this.appel(editeur, { methode: 'POST', chemin: '/Practitioner', corps: practitioner, echeance: echeance(), idempotent: false });
    // Already there (created by an earlier push whose answer was lost, or by hand): update it.
    if (!connu && r.statut >= 400 && r.statut < 500 && r.statut !== 401 && r.statut !== 403) r = await mettre();
    if (r.statut >= 200 && r.statut < 300) {
      await this.db.transaction(async (tx) => {
        if (cible !== cle) await tx.query('DELETE FROM sas_v1_compte WHERE editeur_id = $1 AND regulateur = $2', [editeur.id, cible]);
        await tx.query(
          `INSERT INTO sas_v1_compte (editeur_id, regulateur, actif) VALUES ($1, $2, $3)
           ON CONFLICT (editeur_id, regulateur) DO UPDATE SET actif = $3, synchronise_le = now()`,
          [editeur.id, cle, practitioner.active],
        );
      });
      return { editeur: editeur.id, statut: 'ok', http: r.statut };
    }
    const transitoire = r.statut === 0 || r.statut === 408 || r.statut === 429 || r.statut >= 500;
    return { editeur: editeur.id, statut: transitoire ? 'en-attente' : 'refuse', ...(r.statut ? { http: r.statut } : {}), erreur: r.erreur };
  }

  private async appel(editeur: EditeurSas, appel: Parameters<Transport['appeler']>[1]): Promise<{ statut: number; erreur?: string }> {
    try {
      const r: Reponse = await this.transport.appeler(editeur, appel);
      return { statut: r.statut, ...(r.statut >= 300 ? { erreur: diagnostic(r.corps) } : {}) };
    } catch (err) {
      return { statut: 0, erreur: err instanceof Expiration ? `délai dépassé (${err.message})` : (err as Error).message };
    }
  }
}

function diagnostic(corps: string): string {
  try {
    const oo = JSON.parse(corps) as { issue?: { diagnostics?: string }[] };
    return (oo.issue ?? []).map((i) => i.diagnostics).filter(Boolean).join(' ; ').slice(0, 500) || corps.slice(0, 200);
  } catch {
    return corps.slice(0, 200);
  }
}
