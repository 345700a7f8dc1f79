// The fan-out: one search per vendor and batch of practitioners, all at once, each bounded by the
// deadline; a vendor that keeps failing is skipped for a while (circuit breaker); answers are kept
// for a short time. Whatever happens to one vendor, the others' slots are returned.
import type { Validator } from '../../../fhir/validation/index.ts';
import type { Logger } from '../../../log.ts';
import type { CreneauSas, Disponibilites, EditeurSas, RapportEditeur } from './index.ts';
import type { ReglagesAgregateur } from './reglages.ts';
import { idNatPs, type Registre } from './registre.ts';
import { lireReponse, type Lecture, type Rejet } from './reponse.ts';
import { fenetre, LOT_PRATICIENS, LOT_SOS, lots, requeteSlots, requeteSos, type Fenetre } from './requetes.ts';
import { Expiration, Transport, TYPES_FHIR } from './transport.ts';
import { ValidateurSas } from './validation.ts';

/** Rejections listed per vendor and search; beyond, a count. */
const REJETS_MAX = 100;
const CACHE_MAX = 5000;

export type EtatCircuit = 'ferme' | 'ouvert' | 'semi-ouvert';

/** Opens after `seuil` consecutive failed searches; after `pauseMs`, lets one trial search through (half-open). */
export class Disjoncteur {
  private echecs = 0;
  private rouvreA = 0;
  private essai = false;

  constructor(
    private readonly seuil: number,
    private readonly pauseMs: number,
  ) {}

  autorise(maintenant = Date.now()): boolean {
    if (this.echecs < this.seuil) return true;
    if (maintenant < this.rouvreA || this.essai) return false;
    this.essai = true;
    return true;
  }

  succes(): void {
    this.echecs = 0;
    this.essai = false;
  }

  /** The search was abandoned by its caller: no verdict on the vendor, and a half-open trial may go again. */
  abandon(): void {
    this.essai = false;
  }

  echec(maintenant = Date.now()): void {
    this.echecs++;
    this.essai = false;
    if (this.echecs >= this.seuil) this.rouvreA = maintenant + this.pauseMs;
  }

  etat(maintenant = Date.now()): EtatCircuit {
    if (this.echecs < this.seuil) return 'ferme';
    return maintenant < this.rouvreA || this.essai ? 'ouvert' : 'semi-ouvert';
  }
}

interface Resultat {
  statut: RapportEditeur['statut'];
  lecture?: Lecture;
  erreur?: string;
}

export interface Collecte {
  transport: Transport;
  disponibilites(ids: string[], options?: { debut?: Date; jours?: number; signal?: AbortSignal }): Promise<Disponibilites>;
  etat(editeur: string): EtatCircuit;
  close(): void;
}

export function creerCollecte(registre: Registre, validator: Validator, reglages: ReglagesAgregateur, log: Logger): Collecte {
  const transport = new Transport(reglages.tentatives);
  const validateur = new ValidateurSas(validator);
  const disjoncteurs = new Map<string, Disjoncteur>();
  const cache = new Map<string, { expire: number; lecture: Lecture }>();
  const disjoncteur = (id: string) => {
    let d = disjoncteurs.get(id);
    if (!d) disjoncteurs.set(id, (d = new Disjoncteur(reglages.disjoncteurSeuil, reglages.disjoncteurPauseMs)));
    return d;
  };

  async function interroger(editeur: EditeurSas, chemin: string, sos: boolean, demandes: Set<string>, f: Fenetre, maintenant: Date, echeance: number, signal?: AbortSignal): Promise<Resultat> {
    const cle = `${editeur.id}\u0000${editeur.baseUrl}\u0000${chemin}`;
    const garde = cache.get(cle);
    if (garde && garde.expire > Date.now()) return { statut: 'ok', lecture: filtrer(garde.lecture, maintenant) };
    try {
      const r = await transport.appeler(editeur, { methode: 'GET', chemin, echeance, signal, idempotent: true });
      if (r.statut !== 200) return { statut: 'erreur', erreur: `HTTP ${r.statut}${resume(r.corps)}` };
      if (r.type && !TYPES_FHIR.includes(r.type)) return { statut: 'erreur', erreur: `type de contenu « ${r.type} » au lieu de application/fhir+json` };
      let corps: unknown;
      try {
        corps = JSON.parse(r.corps);
      } catch {
        return { statut: 'erreur', erreur: 'corps JSON illisible' };
      }
      const lecture = lireReponse(corps, sos, { editeur: editeur.id, demandes, fenetre: f, maintenant, validateur });
      if (reglages.cacheMs > 0) {
        if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
        cache.set(cle, { expire: Date.now() + reglages.cacheMs, lecture });
      }
      return { statut: 'ok', lecture };
    } catch (err) {
      if (err instanceof Expiration) return { statut: 'timeout', erreur: err.message };
      return { statut: 'erreur', erreur: (err as Error).message };
    }
  }

  async function editeurEntier(editeur: EditeurSas, valeurs: string[], f: Fenetre, maintenant: Date, debut: number, signal?: AbortSignal): Promise<{ rapport: RapportEditeur; creneaux: CreneauSas[] }> {
    const d = disjoncteur(editeur.id);
    if (!d.autorise()) return { rapport: { editeur: editeur.id, statut: 'circuit-ouvert', ms: 0, creneaux: 0, rejets: [] }, creneaux: [] };
    const sos = editeur.type === 'SOS';
    const demandes = new Set(valeurs);
    const echeance = debut + reglages.deadlineMs;
    const resultats = await Promise.all(
      lots(valeurs, sos ? LOT_SOS : LOT_PRATICIENS).map((lot) =>
        interroger(editeur, sos ? requeteSos(lot.map((v) => v.slice(1)), f) : requeteSlots(lot, f, editeur.type === 'R04'), sos, demandes, f, maintenant, echeance, signal),
      ),
    );
    const ms = Date.now() - debut;
    const statut = resultats.find((r) => r.statut === 'timeout')?.statut ?? resultats.find((r) => r.statut === 'erreur')?.statut ?? 'ok';
    if (statut === 'ok') d.succes();
    else if (signal?.aborted) d.abandon();
    else d.echec();
    const creneaux = resultats.flatMap((r) => r.lecture?.creneaux ?? []);
    const rejets: Rejet[] = [
      ...resultats.filter((r) => r.erreur).map((r) => ({ ressource: 'Bundle', raison: r.erreur! })),
      ...resultats.flatMap((r) => r.lecture?.rejets ?? []),
    ];
    if (statut !== 'ok') log.warn({ editeur: editeur.id, statut, ms, erreurs: rejets.filter((r) => r.ressource === 'Bundle').map((r) => r.raison) }, 'SAS vendor search failed');
    const plafonnes = rejets.length > REJETS_MAX ? [...rejets.slice(0, REJETS_MAX - 1), { ressource: '…', raison: `${rejets.length - REJETS_MAX + 1} autres rejets` }] : rejets;
    return { rapport: { editeur: editeur.id, statut, ms, creneaux: creneaux.length, rejets: plafonnes }, creneaux };
  }

  return {
    transport,
    etat: (id) => disjoncteurs.get(id)?.etat() ?? 'ferme',
    async disponibilites(ids, options = {}) {
      const debut = Date.now();
      const maintenant = options.debut ?? new Date(debut);
      const f = fenetre(maintenant, options.jours ?? 2);
      // The caller's strings are the keys of the answer; vendors are asked with normalised identifiers.
      const parCle = new Map<string, string[]>();
      const praticiens: string[] = [];
      const associations: string[] = [];
      for (const id of ids) {
        const idnps = idNatPs(id);
        const siret = /^3?\d{14}$/u.test(id.trim()) ? `3${id.trim().slice(-14)}` : undefined;
        const cle = idnps ?? siret;
        if (!cle) continue;
        if (!parCle.has(cle)) (idnps ? praticiens : associations).push(cle);
        parCle.set(cle, [...(parCle.get(cle) ?? []), id]);
      }
      const cibles = [
        ...(await registre.pour('idnps', praticiens)).filter((c) => c.editeur.type !== 'SOS'),
        ...(await registre.pour('siret', associations.map((s) => s.slice(1))))
          .filter((c) => c.editeur.type === 'SOS')
          .map((c) => ({ ...c, valeurs: c.valeurs.map((s) => `3${s}`) })),
      ];
      const issues = await Promise.all(cibles.map((c) => editeurEntier(c.editeur, c.valeurs, f, maintenant, debut, options.signal)));
      const parPraticien = new Map<string, CreneauSas[]>(ids.map((id) => [id, []]));
      for (const c of issues.flatMap((i) => i.creneaux).sort((a, b) => Date.parse(a.debut) - Date.parse(b.debut))) {
        for (const id of parCle.get(c.rpps) ?? []) parPraticien.get(id)!.push(c);
      }
      return { parPraticien, rapports: issues.map((i) => i.rapport) };
    },
    close: () => transport.close(),
  };
}

/** A cached answer without the slots that have started since. */
function filtrer(lecture: Lecture, maintenant: Date): Lecture {
  return { creneaux: lecture.creneaux.filter((c) => Date.parse(c.debut) >= maintenant.getTime()), rejets: lecture.rejets };
}

function resume(corps: string): string {
  try {
    const oo = JSON.parse(corps) as { resourceType?: string; issue?: { diagnostics?: string }[] };
    const texte = oo.resourceType === 'OperationOutcome' ? oo.issue?.map((i) => i.diagnostics).filter(Boolean).join(' ; ') : undefined;
    return texte ? ` : ${texte.slice(0, 300)}` : '';
  } catch {
    return '';
  }
}
