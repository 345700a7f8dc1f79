// What every FHIR endpoint shares, the core API at /fhir and the routes modules add beside it
// ($export, $capacites…): who the caller is, FHIR JSON bodies, errors as OperationOutcomes.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../access/context.ts';
import type { CertificateVerifier, Principal, TokenVerifier } from '../../access/principal.ts';
import { appelantDe } from '../../pki/appelant.ts';
import { parseFhirJson } from '../json.ts';
import { badRequest, FhirError } from '../outcome.ts';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';
// application/json+fhir: the DSTU2 name some vendors still send.
const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json-patch+json', 'application/json+fhir'];

/** How callers are recognised: bearer tokens of the issuers, client certificates over mutual TLS, Annuaire API keys. */
export interface Verifiers {
  verifyToken?: TokenVerifier;
  verifyCertificate?: CertificateVerifier;
  /** ESANTE-API-KEY (public directory access): the application, undefined for an unknown key; throws past its quota. */
  verifyApiKey?: (key: string) => Principal | undefined;
}

export function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Who calls: the bearer token (one that does not verify is a 401), else an ESANTE-API-KEY when keys are
 * configured, else the client certificate presented over mutual TLS.
 */
export async function callerContext(req: FastifyRequest, { verifyToken, verifyCertificate, verifyApiKey }: Verifiers): Promise<RequestContext> {
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
  } else if (verifyApiKey && header(req, 'esante-api-key')) {
    try {
      ctx.principal = verifyApiKey(header(req, 'esante-api-key')!);
    } catch (err) {
      throw new FhirError(429, (err as Error).message, 'throttled', { 'Retry-After': '1' });
    }
    if (!ctx.principal) throw new FhirError(401, 'The ESANTE-API-KEY is not known to this server', 'login');
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

/** A plugin scope speaking FHIR: JSON bodies parsed with their decimals kept, errors as OperationOutcomes. */
export function fhirScope(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined); // e.g. a DELETE sent with a Content-Type
    try {
      done(null, parseFhirJson(body as string));
    } catch (err) {
      done(badRequest(`The body is not valid JSON: ${(err as Error).message}`) as unknown as Error, undefined);
    }
  });
  scope.setErrorHandler((err: FastifyError | FhirError, req, reply) => sendError(req, reply, err));
}

export function sendError(req: FastifyRequest, reply: FastifyReply, err: FastifyError | FhirError): FastifyReply {
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
