// The regulators' portal at /sas: login through the professional issuer, search, booking
// redirects, appointment follow-up, statistics; and the practitioners' own pages (participation,
// agenda SAS). Pages are rendered on the server; forms are protected against CSRF.
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { exigerUtilisateur, html, type Formulaire, type Portail } from './acces.ts';
import { message, page, type Cadre } from './pages.ts';
import { routesProfessionnel } from './professionnel.ts';
import { routesRecherche } from './recherche.ts';
import { routesRendezVous } from './rendez-vous.ts';
import { routesStatistiques } from '../statistiques/routes.ts';

export type { Portail };

const CSS = new URL('../../../../web/sas/portail.css', import.meta.url);

export function routesPortail(p: Portail) {
  return async (app: FastifyInstance) => {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    app.addHook('onSend', async (req, reply) => {
      if (!req.url.startsWith('/sas/api/') && !req.url.startsWith('/sas/fhir')) {
        reply.header('cache-control', 'no-store');
        reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'");
        reply.header('x-frame-options', 'DENY');
        reply.header('referrer-policy', 'no-referrer');
      }
    });

    app.get('/sas/assets/portail.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(await readFile(CSS)));

    app.get('/sas', async (req, reply) => {
      const u = await p.sessions.utilisateur(req);
      const c: Cadre = { titre: "Service d'accès aux soins", utilisateur: u };
      if (!u) {
        return html(reply, 200, page(c, `<h1>Service d'accès aux soins</h1>
<p>Ce portail permet aux régulateurs et opérateurs de soins non programmés de trouver un professionnel disponible près du patient et de lui réserver un rendez-vous dans l'agenda du professionnel.</p>
<p>Les professionnels de santé y déclarent leur participation au SAS et, s'ils n'ont pas de logiciel d'agenda connecté, leurs créneaux dans l'agenda SAS.</p>
<a class="fr-btn" href="/sas/connexion">Se connecter avec e-CPS</a>`));
      }
      if (u.regulateur) return reply.redirect('/sas/recherche', 303);
      return reply.redirect('/sas/participation', 303);
    });

    app.get('/sas/connexion', async (req, reply) => {
      const retour = String((req.query as Formulaire).retour ?? '/sas');
      // Only back into the portal: the parameter must not send the user elsewhere.
      const sur = /^\/sas(\/|\?|$)/.test(retour) && !retour.startsWith('//') ? retour : '/sas';
      return reply.redirect(await p.sessions.debutConnexion(reply, sur), 303);
    });

    app.get('/sas/callback', async (req, reply) => {
      try {
        const r = await p.sessions.finConnexion(req, reply);
        // V1: the regulator's account is pushed to the vendors at login (creation or update).
        const regulateur = await p.core.db.query('SELECT 1 FROM sas_regulateur WHERE idnat = $1 AND actif', [r.idnat]);
        if (regulateur.rows.length > 0) await p.synchroniserRegulateur?.(r.idnat, true);
        return reply.redirect(r.retour, 303);
      } catch (err) {
        p.log.info({ err: (err as Error).message }, 'sas: login failed');
        return html(reply, 400, message({ titre: 'Connexion impossible' }, `La connexion n'a pas abouti : ${(err as Error).message}`, { href: '/sas/connexion', texte: 'Réessayer' }));
      }
    });

    app.post('/sas/deconnexion', async (req, reply) => {
      const u = await exigerUtilisateur(p, req, reply, false);
      if (!u) return reply;
      return reply.redirect(await p.sessions.deconnexion(req, reply, u), 303);
    });

    await app.register(routesRecherche(p));
    await app.register(routesRendezVous(p));
    await app.register(routesProfessionnel(p));
    await app.register(routesStatistiques(p));
  };
}
