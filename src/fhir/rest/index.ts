// The FHIR REST API at /fhir: content negotiation, error mapping and one route per URL shape, all
// handing over to dispatch() so HTTP and Bundle entries share the same semantics.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import type { FhirCore } from '../core.ts';
import { badRequest, FhirError } from '../outcome.ts';
import { parseQuery } from '../core.ts';
import { withContext } from '../../access/context.ts';
import { callerContext, FHIR_JSON, fhirScope, header, sendError, type Verifiers } from './edge.ts';
import { capabilityStatement } from './capability.ts';
import { dispatch, type FhirRequest } from './dispatch.ts';
import { processBundle } from './transaction.ts';


export async function registerFhirApi(
  app: FastifyInstance,
  opts: { fhir: FhirCore; config: Config } & Verifiers,
): Promise<void> {
  const { fhir } = opts;
  const contextOf = (req: FastifyRequest) => callerContext(req, opts);

  fhirScope(app);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseQuery(body as string)); // repeated fields are AND-ed search parameters: keep them all
  });

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


/** Every error leaves as an OperationOutcome; unexpected ones are logged and never show their stack. */
