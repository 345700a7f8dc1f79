// The portal's page frame, in French and in the style of the État's design system (DSFR, served by
// the platform at /auth/assets/dsfr): header with the portal's menu, main content, footer. Every
// value placed in a page goes through esc().
import { esc } from '../../../auth/pages.ts';
import type { Utilisateur } from './session.ts';

export { esc };

export interface Cadre {
  titre: string;
  utilisateur?: Utilisateur;
  /** The menu entry of the page (its href). */
  actif?: string;
  alerte?: { type: 'error' | 'success' | 'info' | 'warning'; texte: string };
}

const MENU_REGULATEUR = [
  { href: '/sas/recherche', texte: "Recherche d'offre de soins" },
  { href: '/sas/rendez-vous', texte: 'Suivi des rendez-vous' },
  { href: '/sas/statistiques', texte: 'Statistiques' },
];
const MENU_PS = [
  { href: '/sas/participation', texte: 'Ma participation' },
  { href: '/sas/agenda', texte: 'Agenda SAS' },
];

export function page(c: Cadre, corps: string): string {
  const u = c.utilisateur;
  const menu = u ? [...(u.regulateur ? MENU_REGULATEUR : []), ...MENU_PS] : [];
  const nav = menu.length
    ? `<div class="fr-header__menu"><div class="fr-container"><nav class="fr-nav" role="navigation" aria-label="Menu principal"><ul class="fr-nav__list">${menu
        .map((m) => `<li class="fr-nav__item"><a class="fr-nav__link" href="${m.href}"${m.href === c.actif ? ' aria-current="page"' : ''}>${esc(m.texte)}</a></li>`)
        .join('')}</ul></nav></div></div>`
    : '';
  const outils = u
    ? `<div class="fr-header__tools"><div class="fr-header__tools-links"><ul class="fr-btns-group">
        <li><span class="fr-btn">${esc(u.nom || u.idnat)}${u.regulateur ? ' — régulateur' : ''}</span></li>
        <li><form method="post" action="/sas/deconnexion"><input type="hidden" name="csrf" value="${esc(u.csrf)}"><button class="fr-btn" type="submit">Se déconnecter</button></form></li>
      </ul></div></div>`
    : '';
  const alerte = c.alerte
    ? `<div class="fr-alert fr-alert--${c.alerte.type} fr-alert--sm fr-mb-3w" role="${c.alerte.type === 'error' ? 'alert' : 'status'}"><p>${esc(c.alerte.texte)}</p></div>`
    : '';
  return `<!doctype html>
<html lang="fr" data-fr-scheme="light">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, shrink-to-fit=no">
<meta name="referrer" content="no-referrer">
<title>${esc(c.titre)} — Socle SAS</title>
<link rel="stylesheet" href="/auth/assets/dsfr/dsfr.min.css">
<link rel="stylesheet" href="/sas/assets/portail.css">
</head>
<body>
<div class="fr-skiplinks"><nav class="fr-container" role="navigation" aria-label="Accès rapide"><ul class="fr-skiplinks__list"><li><a class="fr-link" href="#contenu">Contenu</a></li></ul></nav></div>
<header role="banner" class="fr-header">
  <div class="fr-header__body"><div class="fr-container"><div class="fr-header__body-row">
    <div class="fr-header__brand">
      <div class="fr-header__brand-top"><div class="fr-header__logo"><p class="fr-logo">République<br>Française</p></div></div>
      <div class="fr-header__service">
        <a href="/sas" title="Accueil — Socle SAS"><p class="fr-header__service-title">Socle — Service d'accès aux soins</p></a>
        <p class="fr-header__service-tagline">Portail des régulateurs</p>
      </div>
    </div>
    ${outils}
  </div></div></div>
  ${nav}
</header>
<main role="main" id="contenu" class="fr-container fr-my-4w" tabindex="-1">
${alerte}
${corps}
</main>
<footer class="fr-footer" role="contentinfo"><div class="fr-container"><div class="fr-footer__body">
  <div class="fr-footer__brand"><p class="fr-logo">République<br>Française</p></div>
  <div class="fr-footer__content"><p class="fr-footer__content-desc">Plateforme Socle — environnement de démonstration et d'intégration du service d'accès aux soins.</p></div>
</div></div></footer>
</body>
</html>`;
}

export function message(c: Cadre, texte: string, lien?: { href: string; texte: string }): string {
  return page(c, `<h1>${esc(c.titre)}</h1>\n<p>${esc(texte)}</p>${lien ? `\n<p><a class="fr-link" href="${esc(lien.href)}">${esc(lien.texte)}</a></p>` : ''}`);
}

export const heure = (iso: string) => new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
export const dateLongue = (iso: string) =>
  new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', weekday: 'long', day: 'numeric', month: 'long' }).format(new Date(`${iso.slice(0, 10)}T12:00:00Z`));
export const dateHeure = (iso: string) =>
  new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
