// Login with a CPS card: the card's authentication certificate (issued here by the platform CA,
// standing in for IGC-Santé) is presented over mutual TLS on the HTTPS listener. Holding the card
// and its key is the authentication; the Annuaire says who the holder is. A login over plain HTTP
// is sent to the HTTPS listener first, where the browser can present the card.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appelantDe } from '../pki/appelant.ts';
import { professionalIdentity } from './claims.ts';
import { ACR, type AuthContext, subjectOf } from './provider.ts';
import { traceLogin } from './trace.ts';
import type { InteractionKit } from './webauthn.ts';

type Req = FastifyRequest<{ Params: { uid: string }; Body: Record<string, unknown> }>;

export function cpsRoutes(app: FastifyInstance, ctx: AuthContext, kit: InteractionKit & { messagePage(title: string, text: string): string }): void {
  app.get('/auth/pro/interaction/:uid/cps', async (req: Req, reply: FastifyReply) => {
    const port = ctx.tls?.port();
    if (port === undefined) {
      return kit.html(reply, 404, kit.messagePage('Carte CPS indisponible', "La connexion par carte CPS demande l'écoute HTTPS de la plateforme (SOCLE_TLS_PORT). Utilisez votre application e-CPS."));
    }
    const caller = appelantDe(req.raw);
    if (caller.certificat === 'sans-tls') {
      return reply.redirect(`https://${req.hostname.replace(/:\d+$/u, '')}:${port}${req.url}`, 303);
    }
    const found = await kit.interaction(req, reply);
    if (!found) return reply;
    const refuse = async (text: string, login = caller.sujet) => {
      await traceLogin(ctx, { issuer: 'pro', event: 'login', ok: false, login, reason: `carte CPS : ${text}`, ip: req.ip });
      return kit.html(reply, 401, kit.messagePage('Carte CPS refusée', text));
    };
    if (caller.certificat === 'absent') return refuse('Aucune carte présentée. Insérez votre carte CPS et choisissez son certificat quand le navigateur le demande.');
    if (caller.certificat === 'non-reconnu') return refuse(`Le certificat présenté n'est pas reconnu (${caller.refus}).`);
    if (!caller.carteCps) return refuse("Le certificat présenté n'est pas celui d'une carte CPS.");
    const idNat = caller.carteCps;
    const identity = await professionalIdentity(ctx.core, idNat);
    if (!identity) return refuse(`La carte ${idNat} ne correspond à aucun professionnel de l'Annuaire.`, idNat);
    // The card opens an account bound to the Annuaire entry; an existing one (e-CPS, key) is kept as is.
    const account = (await ctx.accounts.find('professional', idNat)) ?? (await ctx.accounts.upsert({ kind: 'professional', login: idNat, resourceId: identity.practitionerId, secondFactor: 'totp' }));
    if (account.disabled) return refuse('Ce compte est désactivé.', idNat);
    if (await ctx.accounts.isLocked(account.id)) return refuse('Trop d’échecs : le compte est verrouillé pendant 15 minutes.', idNat);
    await traceLogin(ctx, { issuer: 'pro', event: 'login', ok: true, login: idNat, resourceId: identity.practitionerId, reason: 'carte CPS', ip: req.ip });
    const url = await kit.resultUrl(req, reply, { login: { accountId: subjectOf(account), acr: ACR.pro.granted, amr: ['sc', 'pin'] } });
    return reply.redirect(url, 303);
  });
}
