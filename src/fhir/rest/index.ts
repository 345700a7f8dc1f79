// The FHIR REST API at /fhir: content negotiation, error mapping and one route per URL shape, all
// handing over to dispatch() so HTTP and Bundle entries share the same semantics.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import type { FhirCore } from '../core.ts';
import { badRequest, FhirError } from '../outcome.ts';
import { parseQuery } from '../core.ts';
import { parseFhirJson } from '../json.ts';
import { withContext, type RequestContext } from '../../access/context.ts';
import type { CertificateVerifier, TokenVerifier } from '../../access/principal.ts';
import { appelantDe } from '../../pki/appelant.ts';
import { capabilityStatement } from './capability.ts';
import { dispatch, type FhirRequest } from './dispatch.ts';
import { processBundle } from './transaction.ts';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json-patch+json'];

export async function registerFhirApi(
  app: FastifyInstance,
  opts: { fhir: FhirCore; config: Config; verifyToken?: TokenVerifier; verifyCertificate?: CertificateVerifier },
): Promise<void> {
  const { fhir, verifyToken, verifyCertificate } = opts;

  /** Who calls: the bearer token (one that does not verify is a 401), else the client certificate presented over mutual TLS. */
  async function contextOf(req: FastifyRequest): Promise<RequestContext> {
    const ctx: RequestContext = {
      ip: req.ip,
      requestId: req.id,
      purposeOfUse: header(req, 'x-purpose-of-use'),
      breakGlassReason: header(req, 'x-break-glass-reason'),
    };
    const authorization = header(req, 'authorization');
    if (authorization) {
      const m = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (!m) throw new FhirError(401, 'The Authorization header must be "Bearer <access token>"', 'login', { 'WWW-Authenticate': 'Bearer' });
      if (!verifyToken) throw new FhirError(401, 'This server has no token issuer configured to verify bearer tokens', 'login');
      try {
        ctx.principal = await verifyToken(m[1]);
      } catch (err) {
        throw new FhirError(401, `The access token was refused: ${(err as Error).message}`, 'login', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      }
    } else if (verifyCertificate) {
      // A certificate that names nobody leaves the call anonymous: operations judging certificates
      // themselves (INSi) still see it, and the policy's 401 says why it was not enough.
      try {
        ctx.principal = await verifyCertificate(appelantDe(req.raw));
      } catch (err) {
        ctx.certificateRefused = (err as Error).message;
      }
    }
    return ctx;
  }

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined); // e.g. a DELETE sent with a Content-Type
    try {
      done(null, parseFhirJson(body as string));
    } catch (err) {
      done(badRequest(`The body is not valid JSON: ${(err as Error).message}`) as unknown as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseQuery(body as string)); // repeated fields are AND-ed search parameters: keep them all
  });

  app.setErrorHandler((err: FastifyError | FhirError, req, reply) => sendError(req, reply, err));
  app.setNotFoundHandler((req, reply) => sendError(req, reply, new FhirError(404, `No FHIR endpoint at ${req.method} ${req.url.split('?')[0]}`, 'not-found')));

  app.get('/metadata', async (_req, reply) => reply.type(FHIR_JSON).send(capabilityStatement(fhir)));

  app.post('/', async (req, reply) => {
    const ctx = await contextOf(req);
    const body = await withContext(ctx, () => processBundle(fhir, req.body, header(req, 'prefer')));
    return reply.type(FHIR_JSON).send(body);
  });

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const params = req.params as { '*': string };
    const r: FhirRequest = {
      method: req.method,
      path: params['*'] ?? '',
      query: req.query as FhirRequest['query'],
      body: req.body,
      ifMatch: header(req, 'if-match'),
      ifNoneExist: header(req, 'if-none-exist'),
      ifNoneMatch: header(req, 'if-none-match'),
      prefer: header(req, 'prefer'),
    };
    if (['POST', 'PUT', 'PATCH'].includes(req.method) && req.body === undefined && !r.path.endsWith('_search') && !r.path.includes('$')) {
      throw badRequest(`${req.method} needs a body`);
    }
    if (req.method === 'PATCH' && !String(req.headers['content-type']).startsWith('application/json-patch+json')) {
      throw new FhirError(415, 'PATCH supports JSON Patch only: send Content-Type application/json-patch+json', 'not-supported');
    }
    const ctx = await contextOf(req);
    const res = await withContext(ctx, () => dispatch(fhir, r));
    reply.code(res.status).headers(res.headers);
    if (res.body === undefined) return reply.send();
    return reply.type(FHIR_JSON).send(res.body);
  };
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/*', handler, exposeHeadRoute: false });
  app.route({ method: ['GET', 'HEAD'], url: '/', handler, exposeHeadRoute: false });
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Every error leaves as an OperationOutcome; unexpected ones are logged and never show their stack. */
function sendError(req: FastifyRequest, reply: FastifyReply, err: FastifyError | FhirError): FastifyReply {
  let fhirError: FhirError;
  if (err instanceof FhirError) fhirError = err;
  else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    fhirError = new FhirError(415, `Unsupported Content-Type "${req.headers['content-type']}": send application/fhir+json`, 'not-supported');
  } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    fhirError = new FhirError(413, `The body exceeds the limit of ${req.server.initialConfig.bodyLimit} bytes (SOCLE_BODY_LIMIT)`, 'too-costly');
  } else if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    fhirError = badRequest('The body is empty or its length is wrong');
  } else if ((err as { code?: string }).code === '23505') {
    fhirError = new FhirError(409, 'A concurrent request wrote the same resource; retry', 'conflict');
  } else if (err.statusCode && err.statusCode < 500) {
    fhirError = new FhirError(err.statusCode, err.message, 'processing');
  } else {
    req.log.error({ err }, 'unexpected error');
    fhirError = new FhirError(500, 'Internal server error; the incident has been logged', 'exception');
  }
  return reply.code(fhirError.status).headers(fhirError.headers).type(FHIR_JSON).send(JSON.stringify(fhirError.outcome));
}
