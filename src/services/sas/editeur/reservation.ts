// Booking page of the vendor software (what Slot.comment points to) and the V3 appointment push to the SAS.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Agenda } from './agenda.ts';
import { envoyerFhir, type ClientSas } from './envoi.ts';
import { EXT_OPERATEUR_RDV, PROFIL, SYSTEME } from './profils.ts';
import { separerJeton, trouverCreneau } from './recherche.ts';
import type { Regulateurs } from './regulateurs.ts';
import type { Sso } from './sso.ts';
import { SYSTEME_EDITEUR } from './ressources.ts';
import { dateSas } from './temps.ts';

export type StatutRdv = 'booked' | 'fulfilled' | 'noshow' | 'cancelled';
const CONSULTATIONS: Record<string, string> = { AMB: 'au cabinet', HH: 'à domicile', VR: 'en téléconsultation' };
const STATUTS: Record<StatutRdv, string> = { booked: 'confirmé', fulfilled: 'honoré', noshow: 'non honoré', cancelled: 'annulé' };

export interface RendezVous {
  id: string; slotId: string; debut: Date; fin: Date; cree: Date; statut: StatutRdv; origine: string;
  operateur: { systeme: string; valeur: string }; idnps?: string; praticien: string; patient?: string;
  envoi?: { statut: number; message: string };
}

interface Dependances {
  agenda: Agenda; regulateurs: Regulateurs; reserves: Set<string>; now: () => Date;
  sasAppointmentUrl?: string; client?: ClientSas;
  /** V2: regulators identified through the professional issuer instead of chosen in a list. */
  sso?: Sso;
}

const echapper = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const heure = (d: Date) => d.toLocaleString('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'full', timeStyle: 'short' });

function page(res: ServerResponse, statut: number, titre: string, contenu: string) {
  const html = `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${echapper(titre)}</title>
<style>body{font-family:Marianne,Arial,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}label{display:block;margin:.75rem 0 .25rem}
input,select{width:100%;padding:.4rem}button{margin-top:1rem;padding:.5rem 1rem}.erreur{color:#ce0500}</style></head>
<body><h1>${echapper(titre)}</h1>${contenu}</body></html>`;
  res.writeHead(statut, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(html);
}

function lireFormulaire(corps: string): Map<string, string> {
  return new Map([...new URLSearchParams(corps)]);
}

export class Reservations {
  private rdv = new Map<string, RendezVous>();
  constructor(private readonly d: Dependances) {}

  async traiter(req: IncomingMessage, res: ServerResponse, chemin: string, params: [string, string][], corps: string) {
    const q = new Map(params);
    if (req.method === 'GET' && chemin === '/reservation') return this.formulaire(req, res, q);
    if (req.method === 'POST' && chemin === '/reservation') return this.confirmer(req, res, lireFormulaire(corps));
    const m = /^\/reservation\/([0-9a-f-]{36})(\/statut)?$/.exec(chemin);
    const rdv = m ? this.rdv.get(m[1]) : undefined;
    if (!rdv) return page(res, 404, 'Rendez-vous inconnu', '<p class="erreur">Ce rendez-vous n’existe pas.</p>');
    if (req.method === 'GET' && !m![2]) return this.afficher(res, 200, rdv);
    if (req.method === 'POST' && m![2]) return this.changerStatut(res, rdv, lireFormulaire(corps).get('statut') ?? '');
    return page(res, 405, 'Méthode non prise en charge', '');
  }

  /**
   * GET /reservation?slot=…&origin=…: the SAS regulator's entry (V2). Without `origin` the page is refused;
   * with single sign-on, a regulator not yet known to this browser is first sent to the issuer.
   */
  private async formulaire(req: IncomingMessage, res: ServerResponse, q: Map<string, string>) {
    const origine = q.get('origin');
    if (!origine) {
      return page(res, 403, 'Accès refusé', '<p class="erreur">La prise de rendez-vous pour un régulateur n’est ouverte que depuis la plateforme SAS (paramètre <code>origin</code> absent).</p>');
    }
    const connecte = this.d.sso?.connecte(req);
    if (this.d.sso && !connecte) return this.d.sso.authentifier(res, req.url ?? '/reservation');
    const trouve = q.get('slot') ? trouverCreneau(this.d.agenda, q.get('slot')!, this.d.now()) : undefined;
    if (!trouve) return page(res, 404, 'Créneau introuvable', '<p class="erreur">Ce créneau n’existe pas ou est passé.</p>');
    const { creneau } = trouve;
    if (this.d.reserves.has(creneau.id)) return page(res, 409, 'Créneau indisponible', '<p class="erreur">Ce créneau vient d’être réservé.</p>');
    const actifs = this.d.regulateurs.actifs();
    const champRegulateur = connecte
      ? `<p id="regulateur">${echapper(`${connecte.prenom} ${connecte.nom} (${connecte.idnat})`)}, connecté par Pro Santé Connect</p>`
      : actifs.length > 0
      ? `<select id="regulateur" name="regulateur">${actifs.map((r) => `<option value="${echapper(`${r.systeme}|${r.valeur}`)}">${echapper(`${r.prenom} ${r.nom} (${r.valeur})`)}</option>`).join('')}</select>`
      : `<input id="regulateur" name="regulateur" required value="${echapper(q.get('regulateur') ?? '')}" placeholder="${SYSTEME.idnps}|3…">`;
    page(res, 200, 'Prise de rendez-vous', `
<p>Créneau du <strong>${echapper(heure(creneau.debut))}</strong> avec <strong>${echapper(this.nomPraticien(trouve))}</strong>,
${echapper(creneau.consultations.map((c) => CONSULTATIONS[c]).join(' ou '))}.</p>
<p>${echapper(this.adresse(trouve))}</p>
<form method="post" action="/reservation">
<input type="hidden" name="slot" value="${echapper(creneau.id)}"><input type="hidden" name="origin" value="${echapper(origine)}">
<label for="regulateur">Régulateur</label>${champRegulateur}
<label for="patient">Patient (nom et prénom)</label><input id="patient" name="patient" autocomplete="off">
<button type="submit">Confirmer le rendez-vous</button></form>`);
  }

  private adresse(t: NonNullable<ReturnType<typeof trouverCreneau>>): string {
    const l = t.praticien?.roles.find((r) => r.scheduleId === t.creneau.scheduleId)?.lieu ?? t.sos?.lieux.find((x) => x.scheduleId === t.creneau.scheduleId);
    return l ? `${l.ligne}, ${l.codePostal} ${l.ville}` : '';
  }

  private nomPraticien(t: NonNullable<ReturnType<typeof trouverCreneau>>): string {
    return t.praticien ? `Dr ${t.praticien.prenom} ${t.praticien.nom}` : t.sos!.nom;
  }

  private async confirmer(req: IncomingMessage, res: ServerResponse, f: Map<string, string>) {
    const trouve = f.get('slot') ? trouverCreneau(this.d.agenda, f.get('slot')!, this.d.now()) : undefined;
    if (!trouve || !f.get('origin')) return page(res, 400, 'Demande invalide', '<p class="erreur">Créneau ou origine manquant.</p>');
    const connecte = this.d.sso?.connecte(req);
    if (this.d.sso && !connecte) return page(res, 401, 'Session expirée', '<p class="erreur">Reprenez le lien de réservation depuis la plateforme SAS.</p>');
    // With single sign-on, the regulator is who the issuer said, never what the form says.
    const saisi = connecte ? `${SYSTEME.idnps}|${connecte.idnat}` : (f.get('regulateur') ?? '').trim();
    if (!saisi) return page(res, 400, 'Demande invalide', '<p class="erreur">Le régulateur est obligatoire.</p>');
    const [sys, valeur] = separerJeton(saisi);
    const systeme = sys || SYSTEME.idnps;
    if (systeme !== SYSTEME.idnps && systeme !== SYSTEME.sas) {
      return page(res, 400, 'Demande invalide', `<p class="erreur">Identifiant de régulateur inconnu : ${echapper(saisi)}.</p>`);
    }
    const { creneau } = trouve;
    if (this.d.reserves.has(creneau.id)) return page(res, 409, 'Créneau indisponible', '<p class="erreur">Ce créneau vient d’être réservé.</p>');
    this.d.reserves.add(creneau.id);
    const rdv: RendezVous = {
      id: randomUUID(), slotId: creneau.id, debut: creneau.debut, fin: creneau.fin, cree: this.d.now(), statut: 'booked',
      origine: f.get('origin')!, operateur: { systeme, valeur }, idnps: trouve.praticien?.idnps,
      praticien: this.nomPraticien(trouve), patient: f.get('patient') || undefined,
    };
    this.rdv.set(rdv.id, rdv);
    await this.pousser(rdv, 'POST');
    this.afficher(res, 201, rdv);
  }

  private async changerStatut(res: ServerResponse, rdv: RendezVous, statut: string) {
    if (!(statut in STATUTS) || statut === 'booked') return page(res, 400, 'Statut invalide', `<p class="erreur">Statut inconnu : ${echapper(statut)}.</p>`);
    rdv.statut = statut as StatutRdv;
    if (rdv.statut === 'cancelled') this.d.reserves.delete(rdv.slotId);
    await this.pousser(rdv, 'PUT');
    this.afficher(res, 200, rdv);
  }

  private afficher(res: ServerResponse, statut: number, rdv: RendezVous) {
    const envoi = rdv.envoi
      ? `<p id="envoi-sas" data-statut="${rdv.envoi.statut}">Transmission au SAS : ${echapper(rdv.envoi.message)}</p>` : '';
    const actions = rdv.statut === 'booked'
      ? (['fulfilled', 'noshow', 'cancelled'] as const).map((s) => `<form method="post" action="/reservation/${rdv.id}/statut">
<input type="hidden" name="statut" value="${s}"><button type="submit">Marquer ${STATUTS[s]}</button></form>`).join('') : '';
    page(res, statut, `Rendez-vous ${STATUTS[rdv.statut]}`, `
<p>Le <strong>${echapper(heure(rdv.debut))}</strong> avec <strong>${echapper(rdv.praticien)}</strong>.</p>
<p>Référence : <code id="reference">${rdv.id}</code></p>${envoi}${actions}`);
  }

  /** V3 (INT_R03): POST the appointment on booking, conditional PUT by identifier on every change. */
  private async pousser(rdv: RendezVous, methode: 'POST' | 'PUT') {
    if (!this.d.sasAppointmentUrl) return;
    const base = this.d.sasAppointmentUrl.replace(/\/+$/, '');
    const url = methode === 'POST' ? `${base}/Appointment`
      : `${base}/Appointment?identifier=${encodeURIComponent(`${SYSTEME_EDITEUR}|${rdv.id}`)}`;
    try {
      const r = await envoyerFhir(url, methode, rendezVousFhir(rdv), this.d.client);
      rdv.envoi = { statut: r.statut, message: r.statut < 300 ? `accepté (HTTP ${r.statut})` : `refusé (HTTP ${r.statut}) ${r.corps.slice(0, 300)}` };
    } catch (err) {
      rdv.envoi = { statut: 0, message: `échec : ${(err as Error).message}` };
    }
  }
}

const idnps = (value: string, code: 'IDNPS' | 'INTRN' = 'IDNPS', system: string = SYSTEME.idnps) =>
  ({ type: { coding: [{ system: SYSTEME.v20203, code }] }, system, value });

/** The appointment as FrAppointmentSAS (or the SOS Médecins profile when no practitioner is known). */
export function rendezVousFhir(rdv: RendezVous): Record<string, unknown> {
  const operateur = rdv.operateur.systeme === SYSTEME.sas
    ? idnps(rdv.operateur.valeur, 'INTRN', SYSTEME.sas) : idnps(rdv.operateur.valeur);
  return {
    resourceType: 'Appointment',
    meta: { profile: [rdv.idnps ? PROFIL.rendezVous : PROFIL.rendezVousSos] },
    extension: [{ url: EXT_OPERATEUR_RDV, valueReference: { identifier: operateur } }],
    identifier: [{ system: SYSTEME_EDITEUR, value: rdv.id }],
    status: rdv.statut, start: dateSas(rdv.debut), end: dateSas(rdv.fin), created: dateSas(rdv.cree),
    participant: rdv.idnps
      ? [{ actor: { identifier: idnps(rdv.idnps) }, status: 'accepted' }]
      : [{ type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'ADM' }] }], status: 'needs-action' }],
  };
}
