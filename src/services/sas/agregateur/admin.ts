// Administration of the SAS vendor flows, for the platform's administrator (a token with the admin
// scope): the vendor registry (/sas/api/editeurs) and the regulator pushes (/sas/api/regulateurs).
// Certificates and keys go in, never come out.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenVerifier } from '../../../access/principal.ts';
import type { EtatCircuit } from './collecte.ts';
import type { EditeurSas } from './index.ts';
import { EditeurInvalide, type Registre } from './registre.ts';
import { RegulateurInvalide, type SynchroRegulateurs } from './v1.ts';

interface Options {
  registre: Registre;
  synchro: SynchroRegulateurs;
  etat: (editeur: string) => EtatCircuit;
  verifyToken?: TokenVerifier;
}

type Requete<P = Record<string, string>> = FastifyRequest<{ Params: P; Body: unknown }>;

export async function routesAdmin(app: FastifyInstance, { registre, synchro, etat, verifyToken }: Options): Promise<void> {
  await app.register(
    async (api) => {
      api.addHook('onRequest', async (req, reply) => {
        const jeton = /^Bearer\s+(\S+)$/iu.exec(req.headers.authorization ?? '')?.[1];
        const refuser = (status: 401 | 403, message: string) =>
          reply
            .code(status)
            .header('www-authenticate', `Bearer realm="socle-sas"${status === 403 ? ', error="insufficient_scope", scope="admin"' : ', error="invalid_token"'}`)
            .send({ error: status === 401 ? 'invalid_token' : 'insufficient_scope', message });
        if (!jeton || !verifyToken) return refuser(401, "jeton d'administration requis (Authorization: Bearer)");
        try {
          if (!(await verifyToken(jeton)).admin) return refuser(403, 'scope admin requis');
        } catch (err) {
          return refuser(401, (err as Error).message);
        }
      });
      api.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
        if (err instanceof EditeurInvalide || err instanceof RegulateurInvalide) return reply.code(400).send({ error: 'invalid_request', message: err.message });
        if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: 'invalid_request', message: err.message });
        req.log.error({ err }, 'SAS admin API error');
        return reply.code(500).send({ error: 'server_error' });
      });

      const avecCircuit = <T extends { id: string }>(e: T) => ({ ...e, circuit: etat(e.id) });

      api.get('/editeurs', async () => (await registre.lister()).map(avecCircuit));

      api.get('/editeurs/:id', async (req: Requete<{ id: string }>, reply) => {
        const e = await registre.lire(req.params.id);
        return e ? avecCircuit(e) : reply.code(404).send({ error: 'not_found', message: `Éditeur inconnu : ${req.params.id}` });
      });

      api.post('/editeurs', async (req: Requete, reply) => {
        const corps = objet(req.body) as unknown as EditeurSas;
        if (typeof corps.id === 'string' && (await registre.lire(corps.id))) return reply.code(409).send({ error: 'editeur_existe', message: `L'éditeur ${corps.id} existe déjà : PUT /sas/api/editeurs/${corps.id} pour le modifier` });
        return reply.code(201).send(await registre.enregistrer(corps));
      });

      api.put('/editeurs/:id', async (req: Requete<{ id: string }>) => registre.enregistrer({ ...(objet(req.body) as unknown as EditeurSas), id: req.params.id }));

      api.delete('/editeurs/:id', async (req: Requete<{ id: string }>, reply) =>
        (await registre.retirer(req.params.id)) ? reply.code(204).send() : reply.code(404).send({ error: 'not_found', message: `Éditeur inconnu : ${req.params.id}` }),
      );

      // The regulator id may hold a "/" (national id of an establishment card): sent URL-encoded.
      api.post('/regulateurs/:identifiant/synchroniser', async (req: Requete<{ identifiant: string }>) => {
        const resultats = await synchro.synchroniser({ ...(objet(req.body) as object), identifiant: req.params.identifiant } as never);
        return { resultats };
      });

      api.post('/regulateurs/relancer', async () => ({ acceptes: await synchro.relancer() }));

      api.get('/regulateurs/file', async () => synchro.file());
    },
    { prefix: '/sas/api' },
  );
}

function objet(corps: unknown): Record<string, unknown> {
  if (!corps || typeof corps !== 'object' || Array.isArray(corps)) throw new EditeurInvalide('Le corps doit être un objet JSON');
  return corps as Record<string, unknown>;
}
