// The statistics page (chart and table per week and department) and its CSV export.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { exigerUtilisateur, html, type Formulaire, type Portail } from '../portail/acces.ts';
import { esc, page } from '../portail/pages.ts';
import { effectifs, enCsv, graphiqueSvg, parSemaine, statistiques } from './index.ts';

const filtreDe = (q: Formulaire) => ({
  departement: q.departement && /^(\d{2,3}|2[AB])$/.test(q.departement) ? q.departement : undefined,
  semaines: q.semaines && /^\d{1,3}$/.test(q.semaines) ? Math.max(1, Number(q.semaines)) : 12,
});

export function routesStatistiques(p: Portail) {
  return async (app: FastifyInstance) => {
    app.get('/sas/statistiques', async (req: FastifyRequest<{ Querystring: Formulaire }>, reply) => {
      const u = await exigerUtilisateur(p, req, reply, true);
      if (!u) return reply;
      const filtre = filtreDe(req.query);
      const lignes = await statistiques(p.core.db, filtre);
      const { participants, refus } = await effectifs(p.core.db);
      const total = (k: 'recherches' | 'orientations') => lignes.reduce((s, l) => s + l[k], 0);
      const export_ = `/sas/statistiques.csv?${new URLSearchParams({ semaines: String(filtre.semaines), ...(filtre.departement ? { departement: filtre.departement } : {}) })}`;
      const corps = `<h1>Statistiques d'orientation</h1>
<form method="get" action="/sas/statistiques" class="fr-mb-3w"><div class="fr-grid-row fr-grid-row--gutters">
<div class="fr-col-6 fr-col-md-3"><div class="fr-input-group"><label class="fr-label" for="departement">Territoire (département)<span class="fr-hint-text">Code, par exemple 69 ; vide pour tous</span></label><input class="fr-input" id="departement" name="departement" value="${esc(filtre.departement ?? '')}"></div></div>
<div class="fr-col-6 fr-col-md-3"><div class="fr-input-group"><label class="fr-label" for="semaines">Période (semaines)</label><input class="fr-input" id="semaines" name="semaines" inputmode="numeric" value="${filtre.semaines}"></div></div>
</div><button class="fr-btn" type="submit">Afficher</button></form>
<ul class="fr-tags-group">
<li><p class="fr-tag">${total('recherches')} recherche(s)</p></li><li><p class="fr-tag">${total('orientations')} orientation(s)</p></li>
<li><p class="fr-tag">${participants} professionnel(s) participant(s)</p></li><li><p class="fr-tag">${refus} refus de participation</p></li>
</ul>
<h2>Évolution du nombre d'orientations</h2>
${graphiqueSvg(parSemaine(lignes))}
<p><a class="fr-link" href="${esc(export_)}" download>Exporter en CSV</a></p>
<div class="fr-table"><table><caption>Par semaine et par territoire</caption>
<thead><tr><th scope="col">Semaine du</th><th scope="col">Département</th><th scope="col">Recherches</th><th scope="col">Orientations</th><th scope="col">Participations déclarées</th><th scope="col">Refus déclarés</th></tr></thead>
<tbody>${lignes.map((l) => `<tr><td>${esc(l.semaine)}</td><td>${esc(l.departement || '—')}</td><td>${l.recherches}</td><td>${l.orientations}</td><td>${l.participations}</td><td>${l.refus}</td></tr>`).join('')}</tbody>
</table></div>`;
      return html(reply, 200, page({ titre: 'Statistiques', utilisateur: u, actif: '/sas/statistiques' }, corps));
    });

    app.get('/sas/statistiques.csv', async (req: FastifyRequest<{ Querystring: Formulaire }>, reply) => {
      const u = await exigerUtilisateur(p, req, reply, true);
      if (!u) return reply;
      const lignes = await statistiques(p.core.db, filtreDe(req.query));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="sas-statistiques.csv"')
        .send(enCsv(lignes));
    });
  };
}
