// Who is calling: built from a verified access token or client certificate by the identity module (src/auth).
import type { Appelant } from '../pki/appelant.ts';

export interface Principal {
  kind: 'professional' | 'patient' | 'system';
  /** iss of the token. */
  issuer: string;
  subject: string;
  clientId: string;
  scopes: string[];
  acr?: string;
  /** Professionals: SubjectNameID, the idNat_PS (e.g. 810001234567). */
  idNatPs?: string;
  /** Professionals: TRE_G15 profession codes of their Annuaire exercices. */
  professions?: string[];
  /** Professionals: savoir-faire codes (e.g. SM54). */
  specialties?: string[];
  /** Professionals: their Practitioner resource in the store. */
  practitionerId?: string;
  /** Patients: their Patient resource in the store. */
  patientId?: string;
  ins?: string;
  /** The platform's administrator client. */
  admin?: boolean;
  /** Subject DN of the client certificate (mutual TLS) the caller was identified by, instead of a token. */
  certificate?: string;
}

/** Verifies a bearer token and says who it stands for; throws AccessError(401) when it cannot. */
export type TokenVerifier = (token: string) => Promise<Principal>;

/** Says who a client certificate of the platform CA stands for (undefined without one); throws AccessError(401) when it names nobody. */
export type CertificateVerifier = (caller: Appelant) => Promise<Principal | undefined>;

/** The platform itself, for the work it does on its own behalf (demo data, imports): traced as such. */
export const PLATFORM: Principal = { kind: 'system', issuer: 'urn:socle:platform', subject: 'socle', clientId: 'socle', scopes: [], admin: true };
