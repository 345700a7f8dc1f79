// CIBA (OpenID Connect Client-Initiated Backchannel Authentication, poll mode), as Pro Santé Connect
// offers it to software without a browser: the client posts login_hint=<idNat_PS> and a
// binding_message to .../ext/ciba/auth, then polls the token endpoint. The professional approves on
// their e-CPS: here the approval page /auth/pro/ciba (their idNat_PS and e-CPS code, then the pending
// requests with their binding message), notified through the one-time code outbox.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { esc, formPage, layout, messagePage } from './pages.ts';
import { ACR, type AuthContext, type Issuer, subjectOf } from './provider.ts';
import { traceLogin } from './trace.ts';

const APPROVAL_COOKIE = 'socle_pro_ciba';
const APPROVAL_MINUTES = 5;
const BINDING_MESSAGE = /^[\p{L}\p{N} .,:;!?'()#-]{1,40}$/u;

interface Pending {
  id: string;
  clientId: string;
  bindingMessage?: string;
  scope: string;
}

/** The provider side: who login_hint names, what a binding message may hold, the "push" to the e-CPS. */
export function cibaFeature(ctx: AuthContext) {
  return {
    enabled: true,
    deliveryModes: ['poll' as const],
    processLoginHint: async (_kctx: KoaContextWithOIDC, loginHint?: string) => {
      if (!loginHint) return undefined;
      const account = await ctx.accounts.find('professional', loginHint.trim());
      return account && !account.disabled ? subjectOf(account) : undefined;
    },
    processLoginHintToken: async () => {
      throw new errors.InvalidRequest('login_hint_token is not supported: send login_hint=<idNat_PS>');
    },
    validateBindingMessage: async (_kctx: KoaContextWithOIDC, message?: string) => {
      if (message !== undefined && !BINDING_MESSAGE.test(message)) throw new errors.InvalidBindingMessage('binding_message: 1 to 40 letters, digits, spaces or punctuation');
    },
    validateRequestContext: async () => undefined,
    verifyUserCode: async () => undefined,
    triggerAuthenticationDevice: async (_kctx: KoaContextWithOIDC, request: { params?: Record<string, unknown> }, account: { accountId: string }) => {
      const login = account.accountId.split(':')[2] ?? account.accountId;
      await ctx.accounts.notify({ login, purpose: 'ciba', code: String(request.params?.binding_message ?? '') });
    },
  };
}

/** The e-CPS stand-in: log in with idNat_PS and the e-CPS code, then approve or refuse the pending requests. */
export function cibaRoutes(app: FastifyInstance, issuer: Issuer, ctx: AuthContext, html: (reply: FastifyReply, status: number, body: string) => FastifyReply): void {
  const sign = (value: string) => createHmac('sha256', ctx.masterKey).update(`ciba:${value}`).digest('base64url');
  const same = (a: string | undefined, b: string) => !!a && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const loginForm = (csrf: string, alert?: { kind: 'error'; text: string }) =>
    formPage({
      issuer: 'pro',
      title: 'Demandes de connexion (e-CPS)',
      intro: "Un logiciel demande à agir en votre nom. Identifiez-vous avec votre code e-CPS pour voir ses demandes et les accepter ou les refuser.",
      alert,
      action: '/auth/pro/ciba',
      csrf,
      fields: [
        { name: 'login', label: 'Identifiant national (idNat_PS)', autocomplete: 'username', inputmode: 'numeric' },
        { name: 'code', label: 'Code e-CPS', hint: '6 chiffres', autocomplete: 'one-time-code', inputmode: 'numeric' },
      ],
      submit: 'Voir mes demandes',
    });
  const csrfToken = () => {
    const r = randomBytes(16).toString('base64url');
    return `${r}.${sign(`form:${r}`)}`;
  };
  const csrfValid = (t?: string) => !!t && same(t.split('.')[1], sign(`form:${t.split('.')[0]}`));
  /** The approval session: the account, until when; signed, in a cookie scoped to these pages. */
  const session = (req: FastifyRequest): string | undefined => {
    const raw = /(?:^|;\s*)socle_pro_ciba=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    const [sub, until, mac] = decodeURIComponent(raw ?? '').split('|');
    return sub && until && same(mac, sign(`${sub}|${until}`)) && Number(until) > Date.now() ? sub : undefined;
  };

  const pending = async (sub: string): Promise<Pending[]> => {
    const { rows } = await ctx.db.query<{ id: string; payload: string }>(
      "SELECT id, payload FROM auth_oidc_payload WHERE issuer = 'pro' AND model = 'BackchannelAuthenticationRequest' AND consumed_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
    );
    return rows
      .map((r) => ({ id: r.id, p: JSON.parse(r.payload) as { accountId: string; clientId: string; grantId?: string; error?: string; params: Record<string, string> } }))
      .filter(({ p }) => p.accountId === sub && !p.grantId && !p.error)
      .map(({ id, p }) => ({ id, clientId: p.clientId, bindingMessage: p.params.binding_message, scope: p.params.scope ?? '' }));
  };

  const list = async (reply: FastifyReply, sub: string, notice?: string) => {
    const requests = await pending(sub);
    const items = requests
      .map(
        (r) => `    <li class="fr-mb-3w"><p><strong>${esc(r.clientId)}</strong> demande : <code>${esc(r.scope)}</code>${
          r.bindingMessage ? `<br>Code affiché par le logiciel : <strong>${esc(r.bindingMessage)}</strong>` : ''
        }</p>
      <form method="post" action="/auth/pro/ciba/${esc(r.id)}" class="fr-btns-group fr-btns-group--inline">
        <input type="hidden" name="csrf" value="${esc(sign(`${sub}:${r.id}`))}">
        <button class="fr-btn" name="decision" value="accepter">Accepter</button>
        <button class="fr-btn fr-btn--secondary" name="decision" value="refuser">Refuser</button>
      </form></li>`,
      )
      .join('\n');
    const body = `    <h1 class="fr-h3">Demandes de connexion</h1>
${notice ? `    <div class="fr-alert fr-alert--success fr-alert--sm fr-mb-3w" role="status"><p>${esc(notice)}</p></div>\n` : ''}    ${
      requests.length ? `<ul class="fr-raw-list">\n${items}\n    </ul>` : '<p>Aucune demande en attente.</p>'
    }`;
    return html(reply, 200, layout('pro', 'Demandes de connexion', body));
  };

  app.get('/auth/pro/ciba', async (req, reply) => {
    const sub = session(req);
    return sub ? list(reply, sub) : html(reply, 200, loginForm(csrfToken()));
  });

  app.post('/auth/pro/ciba', async (req: FastifyRequest<{ Body: Record<string, string | undefined> }>, reply) => {
    if (!csrfValid(req.body?.csrf)) return html(reply, 403, messagePage('pro', 'Requête refusée', 'Le formulaire a expiré ou ne provient pas de cette page. Rechargez la page.'));
    const login = (req.body.login ?? '').replace(/\s/g, '');
    const check = await ctx.accounts.checkTotpLogin('professional', login, req.body.code ?? '');
    if (!check.ok) {
      await traceLogin(ctx, { issuer: 'pro', event: 'login', ok: false, login, reason: `CIBA : ${check.reason}`, ip: req.ip });
      const text = check.reason === 'locked' ? "Trop d'échecs : le compte est verrouillé pendant 15 minutes." : 'Identifiant ou code e-CPS incorrect.';
      return html(reply, check.reason === 'locked' ? 423 : 401, loginForm(csrfToken(), { kind: 'error', text }));
    }
    const sub = subjectOf(check.account);
    const until = String(Date.now() + APPROVAL_MINUTES * 60_000);
    const secure = ctx.config.baseUrl.startsWith('https:') ? '; Secure' : '';
    reply.header('set-cookie', `${APPROVAL_COOKIE}=${encodeURIComponent(`${sub}|${until}|${sign(`${sub}|${until}`)}`)}; Path=/auth/pro/ciba; HttpOnly; SameSite=Strict; Max-Age=${APPROVAL_MINUTES * 60}${secure}`);
    return list(reply, sub);
  });

  app.post('/auth/pro/ciba/:id', async (req: FastifyRequest<{ Params: { id: string }; Body: Record<string, string | undefined> }>, reply) => {
    const sub = session(req);
    if (!sub) return html(reply, 401, loginForm(csrfToken(), { kind: 'error', text: 'Votre session a expiré : identifiez-vous à nouveau.' }));
    const { id } = req.params;
    if (!same(req.body?.csrf, sign(`${sub}:${id}`))) return html(reply, 403, messagePage('pro', 'Requête refusée', 'Le formulaire a expiré ou ne provient pas de cette page.'));
    const request = (await pending(sub)).find((r) => r.id === id);
    if (!request) return list(reply, sub, 'Cette demande a déjà été traitée ou a expiré.');
    const provider = await issuer.provider();
    const login = sub.split(':')[2] ?? sub;
    if (req.body.decision !== 'accepter') {
      await provider.backchannelResult(id, new errors.AccessDenied('the professional refused the request'));
      return list(reply, sub, 'Demande refusée.');
    }
    const grant = new provider.Grant({ accountId: sub, clientId: request.clientId });
    grant.addOIDCScope(request.scope);
    await grant.save();
    await provider.backchannelResult(id, grant, { acr: ACR.pro.granted, amr: ['otp'], authTime: Math.floor(Date.now() / 1000) });
    await traceLogin(ctx, { issuer: 'pro', event: 'login', ok: true, login, reason: `CIBA : ${request.clientId}`, ip: req.ip });
    return list(reply, sub, `Demande de ${request.clientId} acceptée.`);
  });
}
