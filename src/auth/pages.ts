// The login pages, in French and in the style of the État's design system (DSFR), served from the
// platform itself (no third-party origin). Every value placed in a page goes through esc().
import type { IssuerName } from './clients.ts';

// Named after the platform, not the national services it stands in for: a user must not take it for them.
const SERVICE: Record<IssuerName, { title: string; tagline: string }> = {
  pro: { title: 'Socle — professionnels de santé', tagline: 'Connexion compatible Pro Santé Connect' },
  patient: { title: 'Socle — usagers', tagline: 'Connexion à Mon espace santé' },
};

export const esc = (value: unknown) =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface Field {
  name: string;
  label: string;
  hint?: string;
  type?: string;
  autocomplete?: string;
  inputmode?: string;
  value?: string;
}

export interface FormPage {
  issuer: IssuerName;
  title: string;
  intro?: string;
  alert?: { kind: 'error' | 'success' | 'info'; text: string };
  action: string;
  csrf: string;
  fields: Field[];
  submit: string;
  links?: { href: string; text: string }[];
  /** A security-key ceremony instead of a plain submit, driven by /auth/assets/webauthn.js (which enables the button once ready). */
  webauthn?: { mode: 'login' | 'enrol'; options: string; verify: string };
}

export function layout(issuer: IssuerName, title: string, body: string): string {
  const service = SERVICE[issuer];
  return `<!doctype html>
<html lang="fr" data-fr-scheme="light">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, shrink-to-fit=no">
<meta name="referrer" content="no-referrer">
<title>${esc(title)} — ${esc(service.title)}</title>
<link rel="stylesheet" href="/auth/assets/dsfr/dsfr.min.css">
</head>
<body>
<header role="banner" class="fr-header">
  <div class="fr-header__body"><div class="fr-container"><div class="fr-header__body-row">
    <div class="fr-header__brand">
      <div class="fr-header__brand-top"><div class="fr-header__logo"><p class="fr-logo">République<br>Française</p></div></div>
      <div class="fr-header__service">
        <p class="fr-header__service-title">${esc(service.title)}</p>
        <p class="fr-header__service-tagline">${esc(service.tagline)}</p>
      </div>
    </div>
  </div></div></div>
</header>
<main role="main" id="contenu" class="fr-container fr-my-6w">
  <div class="fr-grid-row fr-grid-row--center"><div class="fr-col-12 fr-col-md-8 fr-col-lg-6">
${body}
  </div></div>
</main>
<footer class="fr-footer" role="contentinfo"><div class="fr-container"><div class="fr-footer__body">
  <div class="fr-footer__brand"><p class="fr-logo">République<br>Française</p></div>
  <div class="fr-footer__content"><p class="fr-footer__content-desc">Plateforme Socle — environnement de démonstration et d'intégration.</p></div>
</div></div></footer>
</body>
</html>`;
}

export function formPage(p: FormPage): string {
  const alert = p.alert
    ? `<div class="fr-alert fr-alert--${p.alert.kind} fr-alert--sm fr-mb-3w" role="${p.alert.kind === 'error' ? 'alert' : 'status'}"><p>${esc(p.alert.text)}</p></div>`
    : '';
  const fields = p.fields
    .map(
      (f) => `    <div class="fr-input-group">
      <label class="fr-label" for="${esc(f.name)}">${esc(f.label)}${f.hint ? `<span class="fr-hint-text">${esc(f.hint)}</span>` : ''}</label>
      <input class="fr-input" id="${esc(f.name)}" name="${esc(f.name)}" type="${esc(f.type ?? 'text')}" required${
        f.autocomplete ? ` autocomplete="${esc(f.autocomplete)}"` : ''
      }${f.inputmode ? ` inputmode="${esc(f.inputmode)}"` : ''}${f.value ? ` value="${esc(f.value)}"` : ''}>
    </div>`,
    )
    .join('\n');
  const links = (p.links ?? []).map((l) => `<li><a class="fr-link" href="${esc(l.href)}">${esc(l.text)}</a></li>`).join('');
  return layout(
    p.issuer,
    p.title,
    `    <h1 class="fr-h3">${esc(p.title)}</h1>
    ${p.intro ? `<p>${esc(p.intro)}</p>` : ''}
    ${alert}
    <form method="post" action="${esc(p.action)}" novalidate>
    <input type="hidden" name="csrf" value="${esc(p.csrf)}">
${fields}
    <ul class="fr-btns-group fr-btns-group--inline-md"><li>${
      p.webauthn
        ? `<button class="fr-btn" type="button" disabled data-webauthn="${p.webauthn.mode}" data-options="${esc(p.webauthn.options)}" data-verify="${esc(p.webauthn.verify)}">${esc(p.submit)}</button>`
        : `<button class="fr-btn" type="submit">${esc(p.submit)}</button>`
    }</li></ul>
    ${p.webauthn ? '<p class="fr-error-text" id="webauthn-status" role="alert" hidden></p>' : ''}
    </form>
    ${p.webauthn ? '<script src="/auth/assets/webauthn.js" defer></script>' : ''}
    ${links ? `<ul class="fr-links-group">${links}</ul>` : ''}`,
  );
}

export function messagePage(issuer: IssuerName, title: string, text: string): string {
  return layout(issuer, title, `    <h1 class="fr-h3">${esc(title)}</h1>\n    <p>${esc(text)}</p>`);
}

/** RP-initiated logout confirmation; form is oidc-provider's own (it carries its anti-CSRF token). */
export function logoutPage(issuer: IssuerName, form: string): string {
  return layout(
    issuer,
    'Déconnexion',
    `    <h1 class="fr-h3">Voulez-vous vous déconnecter ?</h1>
    ${form}
    <ul class="fr-btns-group fr-btns-group--inline-md">
      <li><button class="fr-btn" autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Me déconnecter</button></li>
      <li><button class="fr-btn fr-btn--secondary" type="submit" form="op.logoutForm">Rester connecté</button></li>
    </ul>`,
  );
}

const ERRORS: Record<string, string> = {
  invalid_request: 'La demande de connexion est invalide.',
  invalid_client: "L'application à l'origine de la demande n'est pas reconnue.",
  invalid_redirect_uri: "L'adresse de retour de l'application n'est pas enregistrée.",
  unauthorized_client: "L'application n'est pas autorisée à faire cette demande.",
  access_denied: 'La connexion a été refusée.',
  invalid_scope: "L'application demande des autorisations qui ne lui sont pas accordées.",
  server_error: 'Une erreur est survenue. Veuillez réessayer plus tard.',
};

/** The description is oidc-provider's (English, for the developer of the relying party). */
export function errorPage(issuer: IssuerName, error: string, description?: string): string {
  const text = ERRORS[error] ?? `La demande n'a pas pu aboutir (${error}).`;
  return messagePage(issuer, 'Connexion impossible', description ? `${text} Détail : ${description}` : text);
}
