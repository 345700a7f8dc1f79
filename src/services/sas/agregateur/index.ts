// The platform side of the SAS vendor flows: the registry of connected scheduling solutions, the
// slot aggregator (INT_R01 practitioners, INT_R04 CPTS, SOS Médecins) fanning out to them, the
// regulator account push (V1, INT_R02) and the appointment back-flow endpoint (V3, INT_R03).
import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../../../access/principal.ts';
import { masterKey, Sealer } from '../../../auth/secrets.ts';
import type { Config } from '../../../config.ts';
import type { FhirCore } from '../../../fhir/core.ts';
import type { Logger } from '../../../log.ts';
import { routesAdmin } from './admin.ts';
import { creerCollecte } from './collecte.ts';
import { reglagesAgregateur } from './reglages.ts';
import { Registre } from './registre.ts';
import { SynchroRegulateurs, type RegulateurSas, type ResultatSynchro } from './v1.ts';
import { routesV3 } from './v3.ts';

export type { RegulateurSas, ResultatSynchro } from './v1.ts';
export type { ReglagesAgregateur } from './reglages.ts';

export interface EditeurSas {
  id: string;
  nom: string;
  /** FHIR base of the vendor's server, e.g. https://agenda.example.fr/fhir/sas */
  baseUrl: string;
  /** R01: individual practitioners; R04: practitioners within CPTS; SOS: SOS Médecins associations. */
  type: 'R01' | 'R04' | 'SOS';
  /** Participating practitioners: RPPS (11 digits) or idNat_PS (8 + RPPS). */
  rpps?: string[];
  /** SOS Médecins associations (SIRET, 14 digits). */
  siret?: string[];
  /** The platform's client certificate for this vendor (mutual TLS), and the CA its server certificate chains to. */
  clientCert?: { cert: string; key: string; ca?: string };
  /** Simultaneous calls to this vendor (default 4). */
  concurrence?: number;
  actif?: boolean;
  /** Subject DN of the vendor's own client certificate, which identifies it when it pushes appointments (V3). */
  certificatV3?: string;
}

export interface CreneauSas {
  id: string;
  editeur: string;
  /** idNat_PS of the practitioner (8 + RPPS). */
  rpps: string;
  debut: string;
  fin: string;
  consultation: 'cabinet' | 'domicile' | 'teleconsultation';
  typeCreneau: ('PUBLIC' | 'PRO' | 'SNP' | 'CPTS')[];
  urlReservation?: string;
  lieu?: { adresse?: string; commune?: string; lat?: number; lon?: number };
}

export interface RapportEditeur {
  editeur: string;
  statut: 'ok' | 'timeout' | 'erreur' | 'circuit-ouvert';
  ms: number;
  creneaux: number;
  rejets: { ressource: string; raison: string }[];
}

export interface Disponibilites {
  parPraticien: Map<string, CreneauSas[]>;
  rapports: RapportEditeur[];
}

export interface Agregateur {
  editeurs: { lister(): Promise<EditeurSas[]>; enregistrer(e: EditeurSas): Promise<EditeurSas>; retirer(id: string): Promise<void> };
  disponibilites(rpps: string[], options?: { debut?: Date; jours?: number; signal?: AbortSignal }): Promise<Disponibilites>;
  /** V1: pushes a regulator account (creation, update, or removal with actif false) to every active vendor; failures are queued. */
  regulateurs: { synchroniser(r: RegulateurSas): Promise<ResultatSynchro[]>; relancer(): Promise<number> };
  close(): Promise<void>;
}

/** What the module needs from the identity module: bearer tokens for the admin API and for vendors pushing appointments. */
export interface AccesAgregateur {
  verifyToken?: TokenVerifier;
}

export async function registerAgregateur(app: FastifyInstance, fhir: FhirCore, config: Config, log: Logger, acces: AccesAgregateur = {}): Promise<Agregateur> {
  const reglages = reglagesAgregateur(process.env);
  const registre = new Registre(fhir.db, new Sealer(masterKey(config, fhir.db)));
  const collecte = creerCollecte(registre, fhir.validator, reglages, log);
  const synchro = new SynchroRegulateurs(fhir.db, registre, collecte.transport, reglages, log);
  await app.register(routesAdmin, { registre, synchro, etat: (id) => collecte.etat(id), verifyToken: acces.verifyToken });
  await app.register(routesV3, { fhir, registre, verifyToken: acces.verifyToken });
  synchro.demarrer();
  return {
    editeurs: {
      lister: () => registre.lister(),
      enregistrer: (e) => registre.enregistrer(e),
      retirer: async (id) => void (await registre.retirer(id)),
    },
    disponibilites: (rpps, options) => collecte.disponibilites(rpps, options),
    regulateurs: { synchroniser: (r) => synchro.synchroniser(r), relancer: () => synchro.relancer() },
    async close() {
      synchro.arreter();
      collecte.close();
    },
  };
}
