// OIDs of the matricule INS and their FHIR identifier systems (specs/referentiels.md §5.2, FrCore PatientINS).
//
// Test and démo identities are told apart by their OID only: the spec documents no NIR range reserved
// for them, and the INSi qualification service was seen returning the real-NIR OID for its test persons.
// So store the OID INSi returns with the matricule; never infer it from the number.
import type { TypeMatricule } from './nir.ts';

export const OID_INS_NIR = '1.2.250.1.213.1.4.8';
export const OID_INS_NIA = '1.2.250.1.213.1.4.9';
export const OID_INS_NIR_TEST = '1.2.250.1.213.1.4.10';
export const OID_INS_NIR_DEMO = '1.2.250.1.213.1.4.11';

/** CodeSystem of FrCore identifier types (Identifier.type). */
export const SYSTEME_TYPE_IDENTIFIANT = 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203';

export interface SystemeIns {
  oid: string;
  /** Identifier.system: urn:oid:… */
  system: string;
  /** Identifier.type code in fr-core-cs-v2-0203. */
  code: 'INS-NIR' | 'INS-NIA' | 'INS-NIR-TEST' | 'INS-NIR-DEMO';
  matricule: TypeMatricule;
  /** Identifier.use of an active INS (a deactivated one is `old`). */
  use: 'official' | 'temp';
  environnement: 'production' | 'test' | 'demo';
}

function systeme(
  oid: string,
  code: SystemeIns['code'],
  matricule: TypeMatricule,
  environnement: SystemeIns['environnement'],
): SystemeIns {
  const use = matricule === 'NIA' ? 'temp' : 'official';
  return { oid, system: `urn:oid:${oid}`, code, matricule, use, environnement };
}

export const INS_NIR = systeme(OID_INS_NIR, 'INS-NIR', 'NIR', 'production');
export const INS_NIA = systeme(OID_INS_NIA, 'INS-NIA', 'NIA', 'production');
export const INS_NIR_TEST = systeme(OID_INS_NIR_TEST, 'INS-NIR-TEST', 'NIR', 'test');
export const INS_NIR_DEMO = systeme(OID_INS_NIR_DEMO, 'INS-NIR-DEMO', 'NIR', 'demo');

export const SYSTEMES_INS: readonly SystemeIns[] = [INS_NIR, INS_NIA, INS_NIR_TEST, INS_NIR_DEMO];

/** The INS system of an OID, given bare or as urn:oid:…; undefined when it is not an INS OID. */
export function systemeIns(oidOuSystem: string): SystemeIns | undefined {
  const oid = oidOuSystem.startsWith('urn:oid:') ? oidOuSystem.slice('urn:oid:'.length) : oidOuSystem;
  return SYSTEMES_INS.find((s) => s.oid === oid);
}
