// The login interactions of both issuers: oidc-provider sends the browser here when it needs an
// authenticated user, and gets the result back. Professionals (e-CPS stand-in): idNat_PS and the
// code of their authenticator. Patients: INS and password, then a TOTP or a code sent to them;
// a forgotten password is reset with a code sent to the account's contact. Professionals may also
// use a FIDO2 security key (webauthn.ts) or a CPS card over mutual TLS (cps.ts).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionResults } from 'oidc-provider';
import type { Check } from './accounts.ts';
import type { IssuerName } from './clients.ts';
import { formPage, messagePage, type FormPage } from './pages.ts';
import { ACR, type AuthContext, type Issuer, subjectOf } from './provider.ts';
import { traceLogin } from './trace.ts';
import { RateLimiter } from './rate-limit.ts';
import { webauthnRoutes } from './webauthn.ts';
import { cpsRoutes } from './cps.ts';
import { cibaRoutes } from './ciba.ts';

// Forms are url-encoded; the security-key routes post JSON through the same checks.
type Form = Record<string, string | undefined>;
type Req = FastifyRequest<{ Params: { uid: string }; Body: Form }>;

const MIN_PASSWORD = 12;

export function interactionRoutes(issuers: Record<IssuerName, Issuer>, ctx: AuthContext, limiter = new RateLimiter()) {
  return async (app: FastifyInstance) => {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    app.addHook('onSend', async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'");
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'no-referrer');
    });
    app.addHook('preHandler', async (req, reply) => {
      if (req.method === 'POST' && !limiter.allow(req.ip)) {
        return html(reply, 429, messagePage(issuerOf(req), 'Trop de tentatives', 'Trop de tentatives de connexion depuis votre poste. Réessayez dans une minute.'));
      }
    });

    for (const name of ['pro', 'patient'] as const) {
      const issuer = issuers[name];
      const base = `/auth/${name}/interaction/:uid`;
      const csrf = (uid: string) => createHmac('sha256', ctx.masterKey).update(`csrf:${name}:${uid}`).digest('base64url');
      const page = (uid: string, p: Omit<FormPage, 'issuer' | 'csrf'>) => formPage({ ...p, issuer: name, csrf: csrf(uid) });
      const here = (uid: string, suffix = '') => `/auth/${name}/interaction/${encodeURIComponent(uid)}${suffix}`;

      /** The pending interaction, or a page saying it expired. Checks the anti-CSRF token of posted forms. */
      const interaction = async (req: Req, reply: FastifyReply) => {
        const provider = await issuer.provider();
        const details = await provider.interactionDetails(req.raw, reply.raw).catch(() => undefined);
        if (!details || details.uid !== req.params.uid) {
          html(reply, 400, messagePage(name, 'Session expirée', "Cette demande de connexion a expiré. Retournez à l'application pour recommencer."));
          return undefined;
        }
        if (req.method === 'POST' && !sameToken(req.body?.csrf, csrf(details.uid))) {
          html(reply, 403, messagePage(name, 'Requête refusée', 'Le formulaire a expiré ou ne provient pas de cette page. Rechargez la page.'));
          return undefined;
        }
        return { provider, details };
      };

      const resultUrl = async (req: Req, reply: FastifyReply, result: InteractionResults) => {
        const provider = await issuer.provider();
        return provider.interactionResult(req.raw, reply.raw, result, { mergeWithLastSubmission: false });
      };
      const finish = async (req: Req, reply: FastifyReply, result: InteractionResults) => reply.redirect(await resultUrl(req, reply, result), 303);

      const loginPage = (uid: string, alert?: FormPage['alert'], login?: string) =>
        name === 'pro'
          ? page(uid, {
              title: 'Connexion avec e-CPS',
              intro: 'Saisissez votre identifiant national et le code à usage unique affiché par votre application e-CPS.',
              alert,
              action: here(uid, '/login'),
              fields: [
                { name: 'login', label: 'Identifiant national (idNat_PS)', hint: 'Celui de votre carte CPS, par exemple 810012345678', autocomplete: 'username', inputmode: 'numeric', value: login },
                { name: 'code', label: 'Code e-CPS', hint: '6 chiffres', autocomplete: 'one-time-code', inputmode: 'numeric' },
              ],
              submit: 'Se connecter',
              links: [
                { href: here(uid, '/key'), text: 'Se connecter avec une clé de sécurité (FIDO2)' },
                ...(ctx.tls ? [{ href: here(uid, '/cps'), text: 'Se connecter avec une carte CPS' }] : []),
              ],
            })
          : page(uid, {
              title: 'Connexion à Mon espace santé',
              alert,
              action: here(uid, '/login'),
              fields: [
                { name: 'login', label: 'Matricule INS', hint: 'Votre numéro de sécurité sociale, 15 chiffres', autocomplete: 'username', inputmode: 'numeric', value: login },
                { name: 'password', label: 'Mot de passe', type: 'password', autocomplete: 'current-password' },
              ],
              submit: 'Continuer',
              links: [{ href: here(uid, '/recovery'), text: 'Mot de passe oublié ?' }],
            });

      const codePage = (uid: string, totp: boolean, alert?: FormPage['alert']) =>
        page(uid, {
          title: 'Vérification en deux étapes',
          intro: totp ? "Saisissez le code affiché par votre application d'authentification." : 'Un code à 6 chiffres vient de vous être envoyé. Saisissez-le ci-dessous.',
          alert,
          action: here(uid, '/verify'),
          fields: [{ name: 'code', label: 'Code de vérification', hint: '6 chiffres', autocomplete: 'one-time-code', inputmode: 'numeric' }],
          submit: 'Valider',
        });

      const failure = (check: Extract<Check, { ok: false }>, invalid: string) =>
        check.reason === 'locked'
          ? { status: 423, alert: { kind: 'error' as const, text: `Trop d'échecs : le compte est verrouillé pendant 15 minutes.${name === 'patient' ? ' Vous pouvez le débloquer en réinitialisant votre mot de passe.' : ''}` } }
          : { status: 401, alert: { kind: 'error' as const, text: invalid } };

      app.get(base, async (req: Req, reply) => {
        const found = await interaction(req, reply);
        if (!found) return reply;
        const { details } = found;
        const requested = String(details.params.acr_values ?? '').split(' ').filter(Boolean);
        if (requested.length > 0 && !requested.some((a) => ACR[name].accepted.includes(a))) {
          return finish(req, reply, { error: 'unmet_authentication_requirements', error_description: `acr_values: ${ACR[name].accepted.join(' ')} only` });
        }
        if (details.prompt.name !== 'login') return finish(req, reply, {});
        const pending = name === 'patient' ? await ctx.accounts.challenged(details.uid, 'login') : undefined;
        return html(reply, 200, pending ? codePage(details.uid, pending.secondFactor === 'totp') : loginPage(details.uid));
      });

      app.post(`${base}/login`, async (req: Req, reply) => {
        const found = await interaction(req, reply);
        if (!found) return reply;
        const uid = found.details.uid;
        const login = (req.body.login ?? '').replace(/\s/g, '');
        if (name === 'pro') {
          const check = await ctx.accounts.checkTotpLogin('professional', login, req.body.code ?? '');
          if (!check.ok) {
            await traceLogin(ctx, { issuer: 'pro', event: 'login', ok: false, login, reason: check.reason, ip: req.ip });
            const f = failure(check, 'Identifiant ou code e-CPS incorrect.');
            return html(reply, f.status, loginPage(uid, f.alert, login));
          }
          await traceLogin(ctx, { issuer: 'pro', event: 'login', ok: true, login, resourceId: check.account.resourceId ?? undefined, ip: req.ip });
          return finish(req, reply, { login: { accountId: subjectOf(check.account), acr: ACR.pro.granted, amr: ['otp'] } });
        }
        const check = await ctx.accounts.checkPassword('patient', login, req.body.password ?? '');
        if (!check.ok) {
          await traceLogin(ctx, { issuer: 'patient', event: 'login', ok: false, login, reason: check.reason, ip: req.ip });
          const f = failure(check, 'Matricule INS ou mot de passe incorrect.');
          return html(reply, f.status, loginPage(uid, f.alert, login));
        }
        await ctx.accounts.openChallenge(check.account, 'login', uid);
        return reply.redirect(here(uid), 303);
      });

      if (name === 'pro') {
        webauthnRoutes(app, ctx, { interaction, resultUrl, page, here, html });
        cpsRoutes(app, ctx, { interaction, resultUrl, page, here, html, messagePage: (title, text) => messagePage('pro', title, text) });
        cibaRoutes(app, issuer, ctx, html);
        continue;
      }

      app.post(`${base}/verify`, async (req: Req, reply) => {
        const found = await interaction(req, reply);
        if (!found) return reply;
        const uid = found.details.uid;
        const pending = await ctx.accounts.challenged(uid, 'login');
        const check = await ctx.accounts.checkChallenge(uid, 'login', req.body.code ?? '');
        if (!check.ok) {
          await traceLogin(ctx, { issuer: 'patient', event: 'login', ok: false, login: pending?.login ?? 'unknown', resourceId: pending?.resourceId ?? undefined, reason: `second factor: ${check.reason}`, ip: req.ip });
          const f = failure(check, 'Code incorrect ou expiré.');
          const still = await ctx.accounts.challenged(uid, 'login');
          return html(reply, f.status, still ? codePage(uid, still.secondFactor === 'totp', f.alert) : loginPage(uid, f.alert));
        }
        const amr = ['pwd', pending?.secondFactor === 'totp' ? 'otp' : 'sms', 'mfa'];
        await traceLogin(ctx, { issuer: 'patient', event: 'login', ok: true, login: check.account.login, resourceId: check.account.resourceId ?? undefined, ip: req.ip });
        return finish(req, reply, { login: { accountId: subjectOf(check.account), acr: ACR.patient.granted, amr } });
      });

      const recoveryPage = (uid: string, alert?: FormPage['alert']) =>
        page(uid, {
          title: 'Réinitialiser mon mot de passe',
          intro: 'Saisissez votre matricule INS : un code vous sera envoyé à votre adresse de contact.',
          alert,
          action: here(uid, '/recovery'),
          fields: [{ name: 'login', label: 'Matricule INS', hint: '15 chiffres', autocomplete: 'username', inputmode: 'numeric' }],
          submit: 'Recevoir un code',
        });
      const confirmPage = (uid: string, alert?: FormPage['alert']) =>
        page(uid, {
          title: 'Choisir un nouveau mot de passe',
          intro: 'Si un compte correspond à ce matricule, un code à 6 chiffres vient de lui être envoyé.',
          alert,
          action: here(uid, '/recovery/confirm'),
          fields: [
            { name: 'code', label: 'Code reçu', hint: '6 chiffres', autocomplete: 'one-time-code', inputmode: 'numeric' },
            { name: 'password', label: 'Nouveau mot de passe', hint: `${MIN_PASSWORD} caractères au moins`, type: 'password', autocomplete: 'new-password' },
            { name: 'password2', label: 'Confirmez le mot de passe', type: 'password', autocomplete: 'new-password' },
          ],
          submit: 'Enregistrer',
        });

      app.get(`${base}/recovery`, async (req: Req, reply) => {
        const found = await interaction(req, reply);
        if (!found) return reply;
        return html(reply, 200, recoveryPage(found.details.uid));
      });

      app.post(`${base}/recovery`, async (req: Req, reply) => {
        const found = await interaction(req, reply);
        if (!found) return reply;
        const account = await ctx.accounts.find('patient', (req.body.login ?? '').replace(/\s/g, ''));
        // The same answer whether or not the account exists.
        if (account && !account.disabled) await ctx.accounts.openChallenge(account, 'recovery', found.details.uid);
        return html(reply, 200, confirmPage(found.details.uid));
      });

      app.post(`${base}/recovery/confirm`, async (req: Req, reply) => {
        const found = await interaction(req, reply);
        if (!found) return reply;
        const uid = found.details.uid;
        const { password = '', password2 = '' } = req.body;
        if (password.length < MIN_PASSWORD || password !== password2) {
          const text = password !== password2 ? 'Les deux mots de passe diffèrent.' : `Le mot de passe doit compter ${MIN_PASSWORD} caractères au moins.`;
          return html(reply, 400, confirmPage(uid, { kind: 'error', text }));
        }
        const check = await ctx.accounts.checkChallenge(uid, 'recovery', req.body.code ?? '');
        if (!check.ok) {
          const f = failure(check, 'Code incorrect ou expiré.');
          return html(reply, f.status, confirmPage(uid, f.alert));
        }
        await ctx.accounts.setPassword(check.account.id, password);
        return html(reply, 200, loginPage(uid, { kind: 'success', text: 'Votre mot de passe a été modifié. Vous pouvez vous connecter.' }, check.account.login));
      });
    }
  };
}

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}

function sameToken(given: string | undefined, expected: string): boolean {
  return !!given && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

const issuerOf = (req: FastifyRequest): IssuerName => (req.url.startsWith('/auth/pro/') ? 'pro' : 'patient');
