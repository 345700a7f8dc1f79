// The administration API of identity: relying-party clients, user accounts (enrolment), signing-key
// rotation. Only for tokens of an admin client (client_credentials, scope admin). Secrets appear
// once, in the response that creates them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccountKind } from './accounts.ts';
import { patientIdentity, professionalIdentity } from './claims.ts';
import { ClientError, type ClientInput, type IssuerName } from './clients.ts';
import { rotate } from './keys.ts';
import type { AuthContext, Issuer } from './provider.ts';
import { generateTotpSecret, otpauthUri } from './totp.ts';
import { AuthError, type Principal } from './types.ts';

export function adminRoutes(ctx: AuthContext, issuers: Record<IssuerName, Issuer>, verify: (token: string) => Promise<Principal>) {
  return async (app: FastifyInstance) => {
    app.addHook('onRequest', async (req, reply) => {
      const header = req.headers.authorization ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      const deny = (status: 401 | 403, message: string) =>
        reply
          .code(status)
          .header('www-authenticate', `Bearer realm="socle-admin"${status === 403 ? ', error="insufficient_scope", scope="admin"' : ', error="invalid_token"'}`)
          .send({ error: status === 401 ? 'invalid_token' : 'insufficient_scope', message });
      if (!token) return deny(401, 'bearer token required');
      try {
        const principal = await verify(token);
        if (!principal.admin) return deny(403, 'admin scope required');
      } catch (err) {
        if (err instanceof AuthError) return deny(err.status, err.message);
        throw err;
      }
    });
    app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      if (err instanceof ClientError) return reply.code(400).send({ error: 'invalid_client_metadata', message: err.message });
      if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: 'invalid_request', message: err.message });
      ctx.log.error({ err }, 'admin API error');
      return reply.code(500).send({ error: 'server_error' });
    });

    app.get('/admin/clients', async () => ctx.clients.list());

    app.get('/admin/clients/:id', async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const client = await ctx.clients.get(req.params.id);
      return client ?? reply.code(404).send({ error: 'not_found' });
    });

    app.post('/admin/clients', async (req: FastifyRequest<{ Body: ClientInput }>, reply) => {
      const body = asObject(req.body);
      if (typeof body.clientId !== 'string') throw new ClientError('clientId is required');
      if (await ctx.clients.get(body.clientId)) return reply.code(409).send({ error: 'client_exists' });
      return reply.code(201).send(await ctx.clients.upsert(body as ClientInput));
    });

    app.put('/admin/clients/:id', async (req: FastifyRequest<{ Params: { id: string }; Body: ClientInput }>) => {
      return ctx.clients.upsert({ ...asObject(req.body), clientId: req.params.id });
    });

    app.delete('/admin/clients/:id', async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      return (await ctx.clients.remove(req.params.id)) ? reply.code(204).send() : reply.code(404).send({ error: 'not_found' });
    });

    /** Enrols a professional (idNat_PS, TOTP) or a patient (INS, password, TOTP or codes sent to contact). */
    app.post('/admin/accounts', async (req: FastifyRequest<{ Body: Record<string, unknown> }>, reply) => {
      const body = asObject(req.body);
      const kind = body.kind as AccountKind;
      const login = String(body.login ?? '');
      if (kind !== 'professional' && kind !== 'patient') throw new ClientError('kind: professional or patient');
      const secondFactor = kind === 'professional' ? 'totp' : body.secondFactor === 'totp' ? 'totp' : 'otp';
      if (kind === 'patient' && (typeof body.password !== 'string' || body.password.length < 12)) throw new ClientError('password: 12 characters at least');
      const identity = kind === 'professional' ? await professionalIdentity(ctx.core, login) : await patientIdentity(ctx.core, login);
      if (!identity) throw new ClientError(kind === 'professional' ? 'no Practitioner with this idNat_PS in the Annuaire' : 'no Patient with this INS');
      const totpSecret = secondFactor === 'totp' ? ((body.totpSecret as string | undefined) ?? generateTotpSecret()) : undefined;
      const account = await ctx.accounts.upsert({
        kind,
        login,
        resourceId: 'practitionerId' in identity ? identity.practitionerId : identity.patientId,
        password: body.password as string | undefined,
        totpSecret,
        secondFactor,
        contact: body.contact as string | undefined,
      });
      const label = kind === 'professional' ? 'e-CPS Socle' : 'Mon espace santé Socle';
      return reply.code(201).send({ id: account.id, kind, login, secondFactor, ...(totpSecret ? { totpSecret, otpauth: otpauthUri(totpSecret, login, label) } : {}) });
    });

    app.post('/admin/keys/rotate', async (req: FastifyRequest<{ Body?: { issuer?: IssuerName } }>) => {
      const names = req.body?.issuer ? [req.body.issuer] : (['pro', 'patient'] as const);
      for (const name of names) {
        if (!issuers[name]) throw new ClientError('issuer: pro or patient');
        await rotate(ctx.db, ctx.sealer, name);
        issuers[name].reset();
      }
      return { rotated: names };
    });
  };
}

function asObject(body: unknown): Record<string, unknown> & Partial<ClientInput> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ClientError('the body must be a JSON object');
  return body as Record<string, unknown>;
}
