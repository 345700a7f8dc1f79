// The portal's JSON API for administration: regulators' habilitation (who may use the portal) and
// practitioners' participation. A practitioner may set their own participation with their token.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../../access/principal.ts';
import type { Portail } from './acces.ts';
import { declarerParticipation } from './professionnel.ts';

const IDNAT = /^[0-9]{1,11}[0-9A-Za-z/]{0,30}$/;

export function routesAdmin(p: Portail) {
  return async (app: FastifyInstance) => {
    const appelant = async (req: FastifyRequest, reply: FastifyReply): Promise<Principal | undefined> => {
      const auth = req.headers.authorization;
      const principal = auth?.startsWith('Bearer ') && p.verifyToken ? await p.verifyToken(auth.slice(7)).catch(() => undefined) : undefined;
      if (!principal) {
        reply.code(401).header('www-authenticate', 'Bearer realm="socle-sas"').send({ erreur: 'Jeton porteur requis.' });
        return undefined;
      }
      return principal;
    };
    const admin = async (req: FastifyRequest, reply: FastifyReply) => {
      const principal = await appelant(req, reply);
      if (principal && !principal.admin) {
        reply.code(403).send({ erreur: "Réservé à l'administrateur de la plateforme (portée admin)." });
        return undefined;
      }
      return principal;
    };

    app.get('/sas/api/habilitations', async (req, reply) => {
      if (!(await admin(req, reply))) return reply;
      return (await p.core.db.query('SELECT idnat, territoire, actif, cree_le FROM sas_regulateur ORDER BY idnat')).rows;
    });

    app.put('/sas/api/habilitations/:idnat', async (req: FastifyRequest<{ Params: { idnat: string }; Body: { territoire?: string; actif?: boolean } }>, reply) => {
      if (!(await admin(req, reply))) return reply;
      const { idnat } = req.params;
      const body = req.body ?? {};
      if (!IDNAT.test(idnat)) return reply.code(400).send({ erreur: 'Identifiant national invalide.' });
      if (body.actif !== undefined && typeof body.actif !== 'boolean') return reply.code(400).send({ erreur: 'actif : booléen attendu.' });
      await habiliterRegulateur(p, idnat, body.territoire, body.actif ?? true);
      return (await p.core.db.query('SELECT idnat, territoire, actif, cree_le FROM sas_regulateur WHERE idnat = $1', [idnat])).rows[0];
    });

    app.get('/sas/api/participation/:idnat', async (req: FastifyRequest<{ Params: { idnat: string } }>, reply) => {
      if (!(await appelant(req, reply))) return reply;
      const { rows } = await p.core.db.query('SELECT idnat, participe, motif, modifie_par, modifie_le FROM sas_participation WHERE idnat = $1', [req.params.idnat]);
      return rows[0] ?? reply.code(404).send({ erreur: "Ce professionnel n'a pas déclaré sa participation." });
    });

    app.put('/sas/api/participation/:idnat', async (req: FastifyRequest<{ Params: { idnat: string }; Body: { participe?: unknown; motif?: unknown } }>, reply) => {
      const principal = await appelant(req, reply);
      if (!principal) return reply;
      const { idnat } = req.params;
      if (!principal.admin && principal.idNatPs !== idnat) return reply.code(403).send({ erreur: 'Un professionnel ne déclare que sa propre participation.' });
      const { participe, motif } = req.body ?? {};
      if (typeof participe !== 'boolean') return reply.code(400).send({ erreur: 'participe : booléen attendu.' });
      if (motif !== undefined && (typeof motif !== 'string' || motif.length > 500)) return reply.code(400).send({ erreur: 'motif : texte de 500 caractères au plus.' });
      if (!IDNAT.test(idnat)) return reply.code(400).send({ erreur: 'Identifiant national invalide.' });
      await declarerParticipation(p, idnat, participe, motif as string | undefined, principal.idNatPs ?? principal.subject);
      return (await p.core.db.query('SELECT idnat, participe, motif, modifie_par, modifie_le FROM sas_participation WHERE idnat = $1', [idnat])).rows[0];
    });
  };
}

/** Grants (or withdraws) the regulator habilitation; a withdrawal is pushed to the vendors at once (V1). */
export async function habiliterRegulateur(p: Portail, idnat: string, territoire: string | undefined, actif: boolean): Promise<void> {
  await p.core.db.query(
    `INSERT INTO sas_regulateur (idnat, territoire, actif) VALUES ($1, $2, $3)
     ON CONFLICT (idnat) DO UPDATE SET territoire = COALESCE(EXCLUDED.territoire, sas_regulateur.territoire), actif = EXCLUDED.actif`,
    [idnat, territoire ?? null, actif],
  );
  if (!actif) await p.synchroniserRegulateur?.(idnat, false);
}
