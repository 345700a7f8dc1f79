// Search (form, LRM contextual entry, JSON API) and orientation: a booking button sends the
// regulator to the vendor's booking page with the `origin` parameter (V2: the vendor's login goes
// through the same professional issuer, whose session the regulator already has); a slot of the
// agenda SAS is booked on the platform itself.
import { randomUUID } from 'node:crypto';
import type { Appointment, Slot } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withContext } from '../../../access/context.ts';
import { PLATFORM } from '../../../access/principal.ts';
import { ErreurLrm, estLrm, lireLrm, type ParametresLrm } from '../lrm/index.ts';
import { LieuInconnu, rechercher, trouverLieu, type Criteres, type Lieu, type OffreClassee, type Resultats } from '../recherche/moteur.ts';
import { RPPS_SYSTEM } from '../recherche/offres.ts';
import { referentiel } from '../recherche/referentiel.ts';
import { enregistrer } from '../statistiques/index.ts';
import { creneauxDesOffres, type CreneauAffiche } from './creneaux.ts';
import { exigerUtilisateur, html, type Formulaire, type Portail } from './acces.ts';
import { esc, message, page } from './pages.ts';
import type { Utilisateur } from './session.ts';
import { formulaire, resultats as vueResultats } from './vue-recherche.ts';

export const EXT_OPERATEUR = 'http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator';
const IDNPS = { coding: [{ system: 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203', code: 'IDNPS' }] };

interface Execution {
  lieu?: Lieu;
  resultats?: Resultats;
  creneaux: Map<string, CreneauAffiche[]>;
  graine: string;
  form: Record<string, string | undefined>;
  avertissements: string[];
}

/** Runs a search from the query string of the form, of the LRM entry or of the API. Throws ErreurLrm. */
async function executer(p: Portail, q: Formulaire, u: Utilisateur): Promise<Execution> {
  const graine = q.graine && /^[A-Za-z0-9-]{8,64}$/.test(q.graine) ? q.graine : randomUUID();
  const avertissements: string[] = [];
  const form: Execution['form'] = { specialite: q.specialite, lieu: q.lieu, rayon: q.rayon, nom: q.nom };
  let medecinTraitant: Criteres['medecinTraitant'];
  let insee = q.insee;
  if (estLrm(q as ParametresLrm)) {
    const lrm = lireLrm(q as ParametresLrm, p.originesLrm);
    avertissements.push(...lrm.avertissements);
    medecinTraitant = lrm.medecinTraitant;
    form.specialite ??= lrm.specialite?.libelle ?? lrm.specialiteTexte;
    form.lieu ??= lrm.adresse ?? lrm.lieuTexte;
    insee ??= lrm.insee;
    if (lrm.specialiteTexte) avertissements.push(`Spécialité transmise en texte libre : « ${lrm.specialiteTexte} ».`);
  }
  const specialite = form.specialite ? referentiel().specialite(form.specialite) : undefined;
  if (form.specialite && !specialite) avertissements.push(`Spécialité inconnue : « ${form.specialite} ». Choisissez-la dans la liste.`);
  let lieu: Lieu | undefined;
  try {
    if ((q.lat && q.lon) || insee || form.lieu) lieu = trouverLieu({ lat: q.lat, lon: q.lon, insee, texte: form.lieu });
  } catch (err) {
    if (!(err instanceof LieuInconnu)) throw err;
    avertissements.push(err.message);
  }
  const creneaux = new Map<string, CreneauAffiche[]>();
  if (!lieu || (form.specialite && !specialite)) return { lieu, creneaux, graine, form, avertissements };
  if (!form.lieu) form.lieu = lieu.commune ? `${lieu.commune.codesPostaux[0] ?? ''} ${lieu.commune.nom}`.trim() : lieu.libelle;
  const rayon = q.rayon && /^\d{1,3}$/.test(q.rayon) && Number(q.rayon) > 0 ? Number(q.rayon) : undefined;
  const resultats = await rechercher(p.core.db, {
    lieu,
    rayonKm: rayon,
    specialite,
    nom: form.nom,
    graine,
    page: q.page ? Number(q.page) || 1 : 1,
    parPage: q.parPage ? Number(q.parPage) || undefined : undefined,
    medecinTraitant,
  });
  // A new search, not another page of one: counted in the statistics.
  if (!q.page) {
    await enregistrer(p.core.db, { type: 'recherche', departement: lieu.departement, acteur: u.idnat, details: { specialite: specialite?.cle, resultats: resultats.total, lrm: q.origin } });
  }
  const vus = await creneauxDesOffres(p.core, p.agregateur, resultats.offres, p.log);
  return { lieu, resultats, creneaux: vus, graine, form, avertissements };
}

export function routesRecherche(p: Portail) {
  return async (app: FastifyInstance) => {
    app.get('/sas/recherche', async (req: FastifyRequest<{ Querystring: Formulaire }>, reply) => {
      const q = req.query;
      // An unknown origin is refused before any login: the LRM must see the error, not a login page.
      if (estLrm(q as ParametresLrm) && !p.originesLrm.includes(String(q.origin ?? '').trim())) {
        return html(reply, 400, erreurLrm(String(q.origin ?? '')));
      }
      const u = await exigerUtilisateur(p, req, reply, true);
      if (!u) return reply;
      let ex: Execution;
      try {
        ex = await executer(p, q, u);
      } catch (err) {
        if (err instanceof ErreurLrm) return html(reply, 400, erreurLrm(String(q.origin ?? '')));
        throw err;
      }
      const cache = Object.fromEntries(Object.entries(q).filter(([k, v]) => ['origin', 'practitioner'].includes(k) && v !== undefined) as [string, string][]);
      const lien = (n: number) => `/sas/recherche?${new URLSearchParams({ ...(q as Record<string, string>), graine: ex.graine, page: String(n) })}`;
      const corps = `<h1>Recherche d'offre de soins</h1>
${ex.avertissements.map((a) => `<div class="fr-alert fr-alert--warning fr-alert--sm fr-mb-2w" role="status"><p>${esc(a)}</p></div>`).join('')}
${formulaire(ex.form, cache)}
${ex.lieu && ex.resultats ? vueResultats({ lieu: ex.lieu, resultats: ex.resultats, creneaux: ex.creneaux, lienPage: lien, reservation: (o, c) => champsReservation(p, u, o, c) }) : ''}`;
      return html(reply, 200, page({ titre: "Recherche d'offre de soins", utilisateur: u, actif: '/sas/recherche' }, corps));
    });

    // The same search as JSON, for the portal's tests and for other front ends (session or bearer token).
    app.get('/sas/api/offres', async (req: FastifyRequest<{ Querystring: Formulaire }>, reply) => {
      const u = await utilisateurApi(p, req, reply);
      if (!u) return reply;
      try {
        const ex = await executer(p, req.query, u);
        if (!ex.lieu || !ex.resultats) return reply.code(400).send({ erreur: ex.avertissements.join(' ') || 'Lieu de recherche manquant.' });
        return {
          graine: ex.graine,
          lieu: { libelle: ex.lieu.libelle, lat: ex.lieu.lat, lon: ex.lieu.lon, departement: ex.lieu.departement },
          avertissements: ex.avertissements,
          ...ex.resultats,
          offres: ex.resultats.offres.map((o) => ({ ...o, commune: o.commune?.nom, creneaux: ex.creneaux.get(o.cle) ?? [] })),
        };
      } catch (err) {
        if (err instanceof ErreurLrm) return reply.code(400).send({ erreur: err.message });
        throw err;
      }
    });

    app.post('/sas/orientation', async (req: FastifyRequest<{ Body: Formulaire }>, reply) => {
      const u = await exigerUtilisateur(p, req, reply, true);
      if (!u) return reply;
      const f = req.body ?? {};
      const champs = [f.cle, f.creneau, f.debut, f.fin, f.url, f.idnat, f.departement].map((v) => v ?? '');
      if (!p.sessions.verifier(f.signature, u.idnat, ...champs)) {
        return html(reply, 400, message({ titre: 'Réservation impossible', utilisateur: u }, "Ce créneau ne provient pas d'une recherche de ce portail.", { href: '/sas/recherche', texte: 'Nouvelle recherche' }));
      }
      const evenement = { type: 'orientation' as const, departement: f.departement || undefined, acteur: u.idnat, idnat: f.idnat || undefined };
      if (f.url) {
        await enregistrer(p.core.db, { ...evenement, details: { creneau: f.creneau, debut: f.debut, editeur: f.editeur } });
        const url = new URL(f.url);
        url.searchParams.set('origin', p.config.sasOrigin);
        return reply.redirect(url.toString(), 303);
      }
      const reserve = await reserverAgenda(p, u, f);
      if (!reserve) return html(reply, 409, message({ titre: 'Créneau indisponible', utilisateur: u }, "Ce créneau vient d'être réservé ou retiré.", { href: '/sas/recherche', texte: 'Nouvelle recherche' }));
      await enregistrer(p.core.db, { ...evenement, details: { creneau: f.creneau, debut: f.debut, agenda: true } });
      return reply.redirect('/sas/rendez-vous?reserve=1', 303);
    });
  };
}

function champsReservation(p: Portail, u: Utilisateur, o: OffreClassee, c: CreneauAffiche): Record<string, string> {
  const v = { cle: o.cle, creneau: c.id, debut: c.debut, fin: c.fin, url: c.urlReservation ?? '', idnat: o.idnat ?? '', departement: o.commune?.departement ?? '' };
  return { csrf: u.csrf, ...v, editeur: c.editeur ?? '', signature: p.sessions.signer(u.idnat, v.cle, v.creneau, v.debut, v.fin, v.url, v.idnat, v.departement) };
}

/** Books a slot of the agenda SAS: an Appointment in the store, the slot withdrawn, in one transaction. */
async function reserverAgenda(p: Portail, u: Utilisateur, f: Formulaire): Promise<boolean> {
  const id = /^Slot\/([A-Za-z0-9.-]+)$/.exec(f.creneau ?? '')?.[1];
  if (!id) return false;
  return withContext({ principal: PLATFORM }, () =>
    p.core.db.transaction(async (tx) => {
      const stored = await p.core.read('Slot', id, tx).catch(() => undefined);
      if (!stored || stored.deleted) return false;
      const slot = JSON.parse(stored.json) as Slot;
      if (slot.status !== 'free') return false;
      const acteur = f.idnat
        ? { identifier: { type: IDNPS, system: RPPS_SYSTEM, value: f.idnat } }
        : { reference: f.cle };
      const rdv: Appointment = {
        resourceType: 'Appointment',
        identifier: [{ system: `${p.config.baseUrl}/sas/agenda`, value: randomUUID() }],
        extension: [{ url: EXT_OPERATEUR, valueReference: { identifier: { type: IDNPS, system: RPPS_SYSTEM, value: u.idnat } } }],
        status: 'booked',
        start: slot.start,
        end: slot.end,
        created: new Date().toISOString(),
        participant: [{ actor: acteur, status: 'accepted' }],
      };
      await p.core.create(rdv, {}, tx);
      await p.core.delete('Slot', id, {}, tx);
      return true;
    }),
  );
}

/** The API answers a session of the portal or a regulator's bearer token. */
async function utilisateurApi(p: Portail, req: FastifyRequest, reply: FastifyReply): Promise<Utilisateur | undefined> {
  let u = await p.sessions.utilisateur(req);
  const auth = req.headers.authorization;
  if (!u && auth?.startsWith('Bearer ') && p.verifyToken) {
    const principal = await p.verifyToken(auth.slice(7)).catch(() => undefined);
    if (principal?.kind === 'professional' && principal.idNatPs) {
      const { rows } = await p.core.db.query('SELECT 1 FROM sas_regulateur WHERE idnat = $1 AND actif', [principal.idNatPs]);
      u = { idnat: principal.idNatPs, nom: '', csrf: '', regulateur: rows.length > 0 };
    }
  }
  if (!u) {
    reply.code(401).send({ erreur: 'Authentification requise (session du portail ou jeton de professionnel).' });
    return undefined;
  }
  if (!u.regulateur) {
    reply.code(403).send({ erreur: 'Réservé aux régulateurs habilités du SAS.' });
    return undefined;
  }
  return u;
}

function erreurLrm(origin: string): string {
  return message(
    { titre: 'Recherche contextualisée refusée' },
    `Le logiciel de régulation à l'origine de cette demande (origine « ${origin || 'absente'} ») n'est pas autorisé : le flux de recherche contextualisée est désactivé pour lui. Contactez l'administrateur de la plateforme SAS pour l'activer, ou lancez la recherche depuis le portail.`,
    { href: '/sas/recherche', texte: 'Ouvrir la recherche du portail' },
  );
}
