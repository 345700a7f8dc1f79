// Appointment follow-up: the Appointments the vendors sent back (V3, INT_R03) or booked in the
// agenda SAS, for the regulator who made the orientation (FrAppointmentOperator).
import type { Appointment } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { exigerUtilisateur, html, type Formulaire, type Portail } from './acces.ts';
import { TAG_EDITEUR } from '../agregateur/v3.ts';
import { EXT_OPERATEUR } from './recherche.ts';
import { dateHeure, esc, page } from './pages.ts';

const STATUTS: Record<string, { texte: string; badge: string }> = {
  booked: { texte: 'Réservé', badge: 'info' },
  fulfilled: { texte: 'Honoré', badge: 'success' },
  noshow: { texte: 'Non honoré', badge: 'warning' },
  cancelled: { texte: 'Annulé', badge: 'error' },
  pending: { texte: 'En attente', badge: 'new' },
};

export function routesRendezVous(p: Portail) {
  return async (app: FastifyInstance) => {
    app.get('/sas/rendez-vous', async (req: FastifyRequest<{ Querystring: Formulaire }>, reply) => {
      const u = await exigerUtilisateur(p, req, reply, true);
      if (!u) return reply;
      const found = await p.core.search('Appointment', { _sort: '-_lastUpdated', _count: '500' });
      const rdvs = found.matches
        .map((m) => ({ id: m.id, lastUpdated: m.lastUpdated, a: JSON.parse(m.json) as Appointment }))
        .filter(({ a }) => a.extension?.some((e) => e.url === EXT_OPERATEUR && e.valueReference?.identifier?.value === u.idnat));
      const acteurDe = (a: Appointment) => a.participant?.find((x) => x.actor?.identifier?.value || x.actor?.reference)?.actor;
      const acteurs = rdvs.map(({ a }) => acteurDe(a));
      const offres = await p.index.trouver({
        idnats: acteurs.map((x) => x?.identifier?.value).filter((x): x is string => !!x),
        cles: acteurs.map((x) => x?.reference).filter((x): x is string => !!x),
      });
      const nomDe = (a: Appointment) => {
        const acteur = acteurDe(a);
        const o = offres.find((x) => (acteur?.identifier?.value && x.idnat === acteur.identifier.value) || (acteur?.reference && x.cle === acteur.reference));
        if (o) return o.type === 'ps' ? `${o.civilite ?? ''} ${o.prenom ?? ''} ${o.nom}`.trim() : o.nom;
        return acteur?.display ?? acteur?.identifier?.value ?? acteur?.reference ?? '—';
      };
      const editeurs = new Map((await p.agregateur?.editeurs?.lister().catch(() => []))?.map((e) => [e.id, e.nom]));
      const sourceDe = (a: Appointment) => {
        const editeur = a.meta?.tag?.find((t) => t.system === TAG_EDITEUR)?.code;
        if (editeur) return editeurs.get(editeur) ?? editeur;
        return a.identifier?.[0]?.system?.endsWith('/sas/agenda') ? 'Agenda SAS' : (a.identifier?.[0]?.system ?? '—');
      };
      const lignes = rdvs
        .map(({ a, lastUpdated }) => {
          const s = STATUTS[a.status] ?? { texte: a.status, badge: 'new' };
          return `<tr><td>${esc(a.start ? dateHeure(a.start) : '—')}</td><td>${esc(nomDe(a))}</td><td><p class="fr-badge fr-badge--sm fr-badge--${s.badge}">${esc(s.texte)}</p></td><td>${esc(sourceDe(a))}</td><td>${esc(dateHeure(lastUpdated))}</td></tr>`;
        })
        .join('\n');
      const corps = `<h1>Suivi des rendez-vous</h1>
<p>Les rendez-vous pris à la suite de vos orientations, tels que les logiciels d'agenda des professionnels les ont transmis à la plateforme (statuts réservé, honoré, non honoré, annulé).</p>
${rdvs.length === 0 ? '<p>Aucun rendez-vous pour le moment.</p>' : `<div class="fr-table"><table><caption>${rdvs.length} rendez-vous</caption>
<thead><tr><th scope="col">Date du rendez-vous</th><th scope="col">Professionnel ou structure</th><th scope="col">Statut</th><th scope="col">Transmis par</th><th scope="col">Mis à jour le</th></tr></thead>
<tbody>
${lignes}
</tbody></table></div>`}`;
      const alerte = req.query.reserve ? { type: 'success' as const, texte: 'Le rendez-vous est réservé dans l’agenda SAS.' } : undefined;
      return html(reply, 200, page({ titre: 'Suivi des rendez-vous', utilisateur: u, actif: '/sas/rendez-vous', alerte }, corps));
    });
  };
}
