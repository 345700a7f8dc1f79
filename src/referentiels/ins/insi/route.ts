// The INSi teleservice at /insi: SOAP 1.2 requests (POST), the WSDL (GET /insi?wsdl). Every error,
// refused caller included, leaves as a SOAP 1.2 fault.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../../../db/index.ts';
import type { Principal, TokenVerifier } from '../../../access/principal.ts';
import { appelantDe } from '../../../pki/appelant.ts';
import { RequeteInsiInvalide } from '../traits.ts';
import { autoriserInsi } from './autorisation.ts';
import { rechercherParCarteVitale, rechercherParTraitsIdentite, verifierIns, type ResultatInsi } from './service.ts';
import { FauteSoap, lireRequete, xmlFaute, xmlResultat, type RequeteInsi } from './soap.ts';
import { wsdl } from './wsdl.ts';

const SOAP_XML = 'application/soap+xml; charset=utf-8';

export interface OptionsRouteInsi {
  db: Queryable;
  /** Verifies a bearer token of the platform's issuers, when the caller sends one. */
  verifierJeton?: TokenVerifier;
  /** The address clients should call, given the request that asked for the WSDL. */
  adresse(req: FastifyRequest): string;
}

function executer(q: Queryable, r: RequeteInsi): Promise<ResultatInsi> {
  switch (r.operation) {
    case 'rechercherInsAvecTraitsIdentite':
      return rechercherParTraitsIdentite(q, r.traits);
    case 'rechercherInsAvecCarteVitale':
      return rechercherParCarteVitale(q, r.carte);
    case 'verifierInsAvecTraitsIdentite':
      return verifierIns(q, r.matricule, r.oid, r.traits);
  }
}

export async function routeInsi(app: FastifyInstance, opts: OptionsRouteInsi): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/soap+xml', 'text/xml'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: FastifyError, req, reply) => envoyerFaute(req, reply, enFaute(err, req)));
  app.setNotFoundHandler((req, reply) => envoyerFaute(req, reply, new FauteSoap('Sender', 'socle_400', `Aucun service à ${req.url.split('?')[0]}`)));

  app.get('/insi', async (req, reply) => {
    if (!('wsdl' in (req.query as object))) throw new FauteSoap('Sender', 'socle_400', 'Le téléservice INSi répond en POST (SOAP 1.2) ; son WSDL est à GET /insi?wsdl');
    return reply.type('text/xml; charset=utf-8').send(wsdl(opts.adresse(req)));
  });

  app.post('/insi', async (req, reply) => {
    const autorisation = autoriserInsi(appelantDe(req.raw), await jetonDe(req, opts.verifierJeton));
    if (!autorisation.accordee) throw new FauteSoap('Sender', autorisation.code, autorisation.motif);
    const actionHttp = /;\s*action="?([^";]+)"?/u.exec(String(req.headers['content-type']))?.[1];
    const message = lireRequete(typeof req.body === 'string' ? req.body : '', actionHttp);
    const resultat = await executer(opts.db, message.requete);
    req.log.debug({ operation: message.requete.operation, cr: resultat.code, profil: autorisation.profil, lps: message.lps.nom }, 'INSi');
    return reply.type(SOAP_XML).send(xmlResultat(resultat));
  });
}

/** The caller behind an Authorization: Bearer header; a token that does not verify is a fault, never an anonymous call. */
async function jetonDe(req: FastifyRequest, verifier?: TokenVerifier): Promise<Principal | undefined> {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m || !verifier) throw new FauteSoap('Sender', 'socle_401', 'En-tête Authorization invalide : "Bearer <jeton d\'accès>" attendu');
  try {
    return await verifier(m[1]);
  } catch (err) {
    throw new FauteSoap('Sender', 'socle_401', `Jeton d'accès refusé : ${(err as Error).message}`);
  }
}

function enFaute(err: FastifyError | Error, req: FastifyRequest): FauteSoap {
  if (err instanceof FauteSoap) return err;
  if (err instanceof RequeteInsiInvalide) return new FauteSoap('Sender', 'socle_400', err.message);
  const code = (err as FastifyError).code;
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new FauteSoap('Sender', 'socle_400', `Content-Type « ${req.headers['content-type']} » refusé : application/soap+xml (SOAP 1.2) attendu`);
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new FauteSoap('Sender', 'socle_400', 'Requête trop volumineuse');
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return new FauteSoap('Sender', 'socle_400', 'Requête vide');
  req.log.error({ err }, 'INSi: unexpected error');
  return new FauteSoap('Receiver', 'insi_102', 'Erreur technique du téléservice INSi ; l’incident est journalisé');
}

function envoyerFaute(req: FastifyRequest, reply: FastifyReply, faute: FauteSoap): FastifyReply {
  const messageId = typeof req.body === 'string' ? /MessageID[^>]*>([^<]{1,200})</u.exec(req.body)?.[1] : undefined;
  return reply.code(faute.statut).type(SOAP_XML).send(xmlFaute(faute, messageId));
}
