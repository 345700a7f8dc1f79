// FIDO2 security keys (WebAuthn) for professionals, beside the e-CPS code: a professional enrols a
// key after proving themselves with idNat_PS and their e-CPS code, then logs in with idNat_PS and
// the key. Failed keys count towards the account's lockout like any other factor.
import { randomUUID } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionResults } from 'oidc-provider';
import type { Account } from './accounts.ts';
import type { FormPage } from './pages.ts';
import { ACR, type AuthContext, subjectOf } from './provider.ts';

type Req = FastifyRequest<{ Params: { uid: string }; Body: Record<string, unknown> }>;

/** What the login routes lend to these ones (see interactions.ts). */
export interface InteractionKit {
  /** The pending interaction; answers the request itself (and returns undefined) when expired or forged. */
  interaction(req: Req, reply: FastifyReply): Promise<{ details: { uid: string } } | undefined>;
  resultUrl(req: Req, reply: FastifyReply, result: InteractionResults): Promise<string>;
  page(uid: string, p: Omit<FormPage, 'issuer' | 'csrf'>): string;
  here(uid: string, suffix?: string): string;
  html(reply: FastifyReply, status: number, body: string): FastifyReply;
}

interface Credential {
  id: string;
  public_key: string;
  counter: string;
  transports: string;
}

export function webauthnRoutes(app: FastifyInstance, ctx: AuthContext, kit: InteractionKit): void {
  const base = '/auth/pro/interaction/:uid/key';
  const rp = () => {
    const url = new URL(ctx.config.baseUrl);
    return { id: url.hostname, origin: url.origin };
  };
  const refuse = (reply: FastifyReply, status: number, message: string) => reply.code(status).send({ error: 'access_denied', message });
  const credentials = async (accountId: string) =>
    (await ctx.db.query<Credential>('SELECT * FROM auth_webauthn_credential WHERE account_id = $1', [accountId])).rows;
  const challenge = async (uid: string, purpose: 'webauthn-enrol' | 'webauthn-login') =>
    (
      await ctx.db.query<{ id: string; account_id: string; nonce: string | null }>(
        'SELECT id, account_id, nonce FROM auth_challenge WHERE binding = $1 AND purpose = $2 AND expires_at > now()',
        [uid, purpose],
      )
    ).rows[0];
  const open = async (account: Account, uid: string, purpose: 'webauthn-enrol' | 'webauthn-login', nonce: string | null) => {
    await ctx.db.query('DELETE FROM auth_challenge WHERE binding = $1 AND purpose = $2', [uid, purpose]);
    await ctx.db.query(
      "INSERT INTO auth_challenge (id, account_id, purpose, binding, nonce, expires_at) VALUES ($1, $2, $3, $4, $5, now() + interval '5 minutes')",
      [randomUUID(), account.id, purpose, uid, nonce],
    );
  };
  const loginResult = (account: Account): InteractionResults => ({ login: { accountId: subjectOf(account), acr: ACR.pro.granted, amr: ['hwk'] } });

  const keyPage = (uid: string, alert?: FormPage['alert']) =>
    kit.page(uid, {
      title: 'Connexion avec une clé de sécurité',
      intro: 'Saisissez votre identifiant national, puis utilisez la clé de sécurité (FIDO2) que vous avez enregistrée.',
      alert,
      action: kit.here(uid, '/key'),
      fields: [{ name: 'login', label: 'Identifiant national (idNat_PS)', autocomplete: 'username webauthn', inputmode: 'numeric' }],
      submit: 'Utiliser ma clé de sécurité',
      webauthn: { mode: 'login', options: kit.here(uid, '/key/options'), verify: kit.here(uid, '/key/verify') },
      links: [{ href: kit.here(uid, '/key/enrol'), text: 'Enregistrer une clé de sécurité' }],
    });
  const proofPage = (uid: string, alert?: FormPage['alert']) =>
    kit.page(uid, {
      title: 'Enregistrer une clé de sécurité',
      intro: "Confirmez d'abord votre identité avec votre code e-CPS.",
      alert,
      action: kit.here(uid, '/key/enrol'),
      fields: [
        { name: 'login', label: 'Identifiant national (idNat_PS)', autocomplete: 'username', inputmode: 'numeric' },
        { name: 'code', label: 'Code e-CPS', hint: '6 chiffres', autocomplete: 'one-time-code', inputmode: 'numeric' },
      ],
      submit: 'Continuer',
    });

  app.get(base, async (req: Req, reply) => {
    const found = await kit.interaction(req, reply);
    return found && kit.html(reply, 200, keyPage(found.details.uid));
  });

  app.post(`${base}/options`, async (req: Req, reply) => {
    const found = await kit.interaction(req, reply);
    if (!found) return reply;
    const account = await ctx.accounts.find('professional', String(req.body.login ?? '').replace(/\s/g, ''));
    if (account && (await ctx.accounts.isLocked(account.id))) return refuse(reply, 423, "Trop d'échecs : le compte est verrouillé pendant 15 minutes.");
    // An unknown login gets options too (with no key to use): the answer does not tell who has an account.
    const keys = account ? await credentials(account.id) : [];
    const options = await generateAuthenticationOptions({
      rpID: rp().id,
      userVerification: 'preferred',
      allowCredentials: keys.map((k) => ({ id: k.id, transports: JSON.parse(k.transports) as AuthenticatorTransportFuture[] })),
    });
    if (account) await open(account, found.details.uid, 'webauthn-login', options.challenge);
    return options;
  });

  app.post(`${base}/verify`, async (req: Req, reply) => {
    const found = await kit.interaction(req, reply);
    if (!found) return reply;
    const pending = await challenge(found.details.uid, 'webauthn-login');
    const response = req.body.response as AuthenticationResponseJSON | undefined;
    const account = pending && (await ctx.accounts.get(pending.account_id));
    if (!pending?.nonce || !account || !response?.id) return refuse(reply, 401, 'Clé de sécurité non reconnue.');
    if (await ctx.accounts.isLocked(account.id)) return refuse(reply, 423, "Trop d'échecs : le compte est verrouillé pendant 15 minutes.");
    await ctx.db.query('DELETE FROM auth_challenge WHERE id = $1', [pending.id]);
    const key = (await credentials(account.id)).find((k) => k.id === response.id);
    const verified =
      key &&
      (await verifyAuthenticationResponse({
        response,
        expectedChallenge: pending.nonce,
        expectedOrigin: rp().origin,
        expectedRPID: rp().id,
        credential: { id: key.id, publicKey: Buffer.from(key.public_key, 'base64url'), counter: Number(key.counter) },
      }).catch(() => undefined));
    if (!key || !verified?.verified) {
      const check = await ctx.accounts.recordFailure(account);
      return refuse(reply, check.ok || check.reason === 'invalid' ? 401 : 423, 'Clé de sécurité non reconnue.');
    }
    await ctx.db.query('UPDATE auth_webauthn_credential SET counter = $2, last_used_at = now() WHERE id = $1', [key.id, verified.authenticationInfo.newCounter]);
    return { redirect: await kit.resultUrl(req, reply, loginResult(account)) };
  });

  app.get(`${base}/enrol`, async (req: Req, reply) => {
    const found = await kit.interaction(req, reply);
    return found && kit.html(reply, 200, proofPage(found.details.uid));
  });

  app.post(`${base}/enrol`, async (req: Req, reply) => {
    const found = await kit.interaction(req, reply);
    if (!found) return reply;
    const uid = found.details.uid;
    const check = await ctx.accounts.checkTotpLogin('professional', String(req.body.login ?? '').replace(/\s/g, ''), String(req.body.code ?? ''));
    if (!check.ok) {
      const text = check.reason === 'locked' ? "Trop d'échecs : le compte est verrouillé pendant 15 minutes." : 'Identifiant ou code e-CPS incorrect.';
      return kit.html(reply, check.reason === 'locked' ? 423 : 401, proofPage(uid, { kind: 'error', text }));
    }
    await open(check.account, uid, 'webauthn-enrol', null);
    return kit.html(
      reply,
      200,
      kit.page(uid, {
        title: 'Enregistrer une clé de sécurité',
        intro: 'Branchez votre clé de sécurité puis suivez les instructions de votre navigateur.',
        action: kit.here(uid, '/key/enrol'),
        fields: [],
        submit: 'Enregistrer ma clé',
        webauthn: { mode: 'enrol', options: kit.here(uid, '/key/enrol/options'), verify: kit.here(uid, '/key/enrol/verify') },
      }),
    );
  });

  app.post(`${base}/enrol/options`, async (req: Req, reply) => {
    const found = await kit.interaction(req, reply);
    if (!found) return reply;
    const pending = await challenge(found.details.uid, 'webauthn-enrol');
    const account = pending && (await ctx.accounts.get(pending.account_id));
    if (!account) return refuse(reply, 401, "Confirmez d'abord votre identité avec votre code e-CPS.");
    const options = await generateRegistrationOptions({
      rpName: 'Socle — professionnels de santé',
      rpID: rp().id,
      userName: account.login,
      userID: new TextEncoder().encode(account.id),
      attestationType: 'none',
      excludeCredentials: (await credentials(account.id)).map((k) => ({ id: k.id })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    await open(account, found.details.uid, 'webauthn-enrol', options.challenge);
    return options;
  });

  app.post(`${base}/enrol/verify`, async (req: Req, reply) => {
    const found = await kit.interaction(req, reply);
    if (!found) return reply;
    const pending = await challenge(found.details.uid, 'webauthn-enrol');
    const account = pending && (await ctx.accounts.get(pending.account_id));
    if (!pending?.nonce || !account) return refuse(reply, 401, "Confirmez d'abord votre identité avec votre code e-CPS.");
    await ctx.db.query('DELETE FROM auth_challenge WHERE id = $1', [pending.id]);
    const verified = await verifyRegistrationResponse({
      response: req.body.response as RegistrationResponseJSON,
      expectedChallenge: pending.nonce,
      expectedOrigin: rp().origin,
      expectedRPID: rp().id,
    }).catch(() => undefined);
    if (!verified?.verified) return refuse(reply, 400, "La clé de sécurité n'a pas pu être enregistrée.");
    const { credential } = verified.registrationInfo;
    await ctx.db.query('INSERT INTO auth_webauthn_credential (id, account_id, public_key, counter, transports) VALUES ($1, $2, $3, $4, $5)', [
      credential.id,
      account.id,
      Buffer.from(credential.publicKey).toString('base64url'),
      credential.counter,
      JSON.stringify(credential.transports ?? []),
    ]);
    return { redirect: await kit.resultUrl(req, reply, loginResult(account)) };
  });
}
