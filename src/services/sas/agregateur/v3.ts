// V3 (INT_R03): vendors push the appointments booked through the SAS, and their later changes, to
// /sas/fhir/Appointment. The caller is a registered vendor known by its client certificate (mutual
// TLS on the platform's HTTPS listener), or a system client whose token has system/Appointment.write.
// Appointments are checked against FrAppointmentSAS (or the SOS variant) of either guide version and
// stored through the FHIR core as the caller, so that they get history and audit like any write.
import { isDeepStrictEqual } from 'node:util';
import type { Appointment, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withContext } from '../../../access/context.ts';
import type { Principal, TokenVerifier } from '../../../access/principal.ts';
import { parseQuery, type FhirCore } from '../../../fhir/core.ts';
import { parseFhirJson } from '../../../fhir/json.ts';
import { badRequest, FhirError } from '../../../fhir/outcome.ts';
import { callerContext, FHIR_JSON, fhirScope } from '../../../fhir/rest/edge.ts';
import { appelantDe } from '../../../pki/appelant.ts';
import type { Registre } from './registre.ts';
import { PROFILS } from './validation.ts';

export const SCOPE_V3 = 'system/Appointment.write';
/** Who pushed an appointment: only the same caller may change it. */
export const TAG_EDITEUR = 'urn:socle:sas:editeur';
const STATUTS = ['booked', 'fulfilled', 'noshow', 'cancelled'];
const VERSION_KIT = '1.1.0';

interface Options {
  fhir: FhirCore;
  registre: Registre;
  verifyToken?: TokenVerifier;
}

export async function routesV3(app: FastifyInstance, { fhir, registre, verifyToken }: Options): Promise<void> {
  await app.register(
    async (sas) => {
      fhirScope(sas);

      /** The caller, as a principal whose writes are audited; 401/403 otherwise. */
      async function appelant(req: FastifyRequest): Promise<{ principal: Principal; editeur: string }> {
        if (req.headers.authorization) {
          const { principal: p } = await callerContext(req, { verifyToken });
          if (p?.kind !== 'system' || !p.scopes.includes(SCOPE_V3)) throw new FhirError(403, `Le flux V3 est réservé aux logiciels (client système) ayant le scope ${SCOPE_V3}`, 'forbidden');
          return { principal: p, editeur: `client:${p.clientId}` };
        }
        const a = appelantDe(req.raw);
        if (a.certificat === 'sans-tls' || a.certificat === 'absent') {
          throw new FhirError(401, "Le flux V3 exige le certificat client de l'éditeur en TLS mutuel (port SOCLE_TLS_PORT) ou un jeton d'accès", 'login');
        }
        if (a.certificat === 'non-reconnu') throw new FhirError(401, `Certificat client refusé : ${a.refus}`, 'login');
        const editeur = await registre.parCertificat(a.sujet);
        if (!editeur) throw new FhirError(403, `Le certificat « ${a.sujet} » n'est celui d'aucun éditeur SAS enregistré`, 'forbidden');
        return {
          principal: { kind: 'system', issuer: 'urn:socle:mtls', subject: a.sujet, clientId: `sas-editeur:${editeur.id}`, scopes: [SCOPE_V3], certificate: a.sujet },
          editeur: editeur.id,
        };
      }

      async function ecrire(req: FastifyRequest, reply: FastifyReply, identifiantRequete?: string) {
        const { principal, editeur } = await appelant(req);
        const rdv = rendezVous(req.body, fhir);
        const identifiant = rdv.identifier![0];
        const cle = `${identifiant.system}|${identifiant.value}`;
        if (identifiantRequete !== undefined && identifiantRequete !== cle) throw badRequest(`L'identifiant du corps (${cle}) diffère de celui de l'URL (${identifiantRequete})`, 'Appointment.identifier');
        const marque = { ...rdv, meta: { ...rdv.meta, tag: [...(rdv.meta?.tag ?? []).filter((t) => t.system !== TAG_EDITEUR), { system: TAG_EDITEUR, code: editeur }] } } as Appointment;
        const contexte = { principal, ip: req.ip, requestId: req.id };
        const requete = parseQuery(`identifier=${encodeURIComponent(cle)}`);
        const existants = await fhir.matchIds('Appointment', requete);
        const existant = existants[0] ? (parseFhirJson((await fhir.read('Appointment', existants[0])).json) as Appointment) : undefined;
        if (existant && existant.meta?.tag?.find((t) => t.system === TAG_EDITEUR)?.code !== editeur) {
          throw new FhirError(403, `Le rendez-vous ${cle} a été transmis par un autre éditeur`, 'forbidden');
        }
        if (identifiantRequete === undefined && existant) {
          // A replayed creation (its answer was lost) is accepted as it was; a different one must be an update.
          if (!identique(existant, marque)) throw new FhirError(409, `Le rendez-vous ${cle} existe déjà : le modifier par PUT /sas/fhir/Appointment?identifier=${cle}`, 'duplicate');
          return reply.code(200).header('Location', lien(req, existant)).type(FHIR_JSON).send(JSON.stringify(existant));
        }
        const resultat = await withContext(contexte, () => (existant ? fhir.update('Appointment', existant.id!, { ...marque, id: existant.id }) : fhir.create(marque)));
        const stocke = fhir.present('Appointment', resultat.stored.json);
        reply.code(resultat.created ? 201 : 200).header('Location', lien(req, JSON.parse(stocke) as Resource, resultat.stored.versionId));
        return reply.header('ETag', `W/"${resultat.stored.versionId}"`).type(FHIR_JSON).send(stocke);
      }

      sas.post('/Appointment', (req, reply) => ecrire(req, reply));
      sas.put('/Appointment', (req, reply) => {
        const identifiant = (req.query as Record<string, string | string[] | undefined>).identifier;
        if (typeof identifiant !== 'string' || !/^[^|]+\|.+$/u.test(identifiant)) throw badRequest('PUT /sas/fhir/Appointment?identifier=<system>|<valeur> attendu', 'identifier');
        return ecrire(req, reply, identifiant);
      });
    },
    { prefix: '/sas/fhir' },
  );
}

/** The body as an appointment of the SAS profile; 400 (not FHIR) or 422 (not the profile, or a status the flow does not carry) otherwise. */
function rendezVous(corps: unknown, fhir: FhirCore): Appointment {
  if (!corps || typeof corps !== 'object' || (corps as Resource).resourceType !== 'Appointment') throw badRequest('Le corps doit être une ressource Appointment', 'resourceType');
  const rdv = { ...(corps as Appointment) };
  delete rdv.id;
  const revendique = rdv.meta?.profile?.map((p) => p.split('|')[0]).find((p) => p === PROFILS.rendezVous || p === PROFILS.rendezVousSos);
  const profil = revendique ?? PROFILS.rendezVous;
  const statuts = profil === PROFILS.rendezVousSos ? [...STATUTS, 'pending'] : STATUTS;
  if (!statuts.includes(rdv.status)) throw new FhirError(422, `Statut « ${rdv.status} » : le flux V3 transmet ${statuts.join(', ')}`, 'value');
  if (rdv.identifier?.length !== 1 || !rdv.identifier[0].system || !rdv.identifier[0].value) {
    throw new FhirError(422, "Appointment.identifier : un seul identifiant, avec system (OID ou URL de l'éditeur) et value", 'required');
  }
  // Valid against the current guide, else against the kit's version: stored with the version it conforms to.
  let issues: OperationOutcomeIssue[] = [];
  for (const version of ['', `|${VERSION_KIT}`]) {
    const candidat = { ...rdv, meta: { ...rdv.meta, profile: [`${profil}${version}`] } } as Appointment;
    const r = fhir.validator.validate(candidat);
    if (r.base.length > 0) throw new FhirError(400, r.base);
    if (r.profile.length === 0) return candidat;
    if (version === '') issues = r.profile;
  }
  throw new FhirError(422, issues);
}

function identique(a: Appointment, b: Appointment): boolean {
  const sans = ({ id: _i, meta, ...reste }: Appointment) => [reste, meta?.profile, meta?.tag];
  return isDeepStrictEqual(sans(a), sans(b));
}

function lien(req: FastifyRequest, r: Resource, version?: number): string {
  return `${req.protocol}://${req.host}/sas/fhir/Appointment/${r.id}${version ? `/_history/${version}` : ''}`;
}
