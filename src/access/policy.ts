// The one policy engine: who may do what to which resource, and why. Deny by default; every decision
// carries its reason, which the API returns on refusal and the audit trail records.
import { patientCompartmentParams } from '../fhir/compartment.ts';
import type { OperationAudience } from '../fhir/operations.ts';
import type { Principal } from './principal.ts';

export type Action = 'read' | 'search' | 'history' | 'create' | 'update' | 'patch' | 'delete' | 'operation';

export interface AccessRequest {
  action: Action;
  /** Resource type, absent for system-level interactions. */
  type?: string;
  /** Operation name without $, for action 'operation'. */
  operation?: string;
  /** The operation changes data (operations only). */
  affectsState?: boolean;
  /** Who besides administrators may run a state-changing operation (from its definition). */
  permittedTo?: OperationAudience[];
}

export interface Decision {
  allow: boolean;
  /** 401 when the caller is unknown, 403 when known but not allowed. */
  status?: 401 | 403;
  reason: string;
  /** Set when the caller may only see one patient's data: searches and reads are narrowed to it. */
  compartment?: string;
}

/** The Annuaire and the terminologies: readable by every authenticated caller. */
export const DIRECTORY_TYPES = new Set([
  'Practitioner', 'PractitionerRole', 'Organization', 'OrganizationAffiliation', 'Location', 'HealthcareService', 'Endpoint',
  'CodeSystem', 'ValueSet', 'ConceptMap', 'NamingSystem', 'StructureDefinition', 'SearchParameter', 'CapabilityStatement',
  'OperationDefinition', 'Schedule', 'Slot', 'Device',
]);

/** Professions of TRE_G15-ProfessionSante whose holders may handle health data (professionnels de santé). */
const HEALTH_PROFESSIONS = new Set(['10', '21', '26', '28', '31', '32', '40', '50', '60', '69', '70', '80', '81', '82', '83', '84', '85', '86', '91', '92', '94', '95', '96', '98']);

const READS: Action[] = ['read', 'search', 'history'];

/** A professional whose Annuaire exercices include a health profession. */
export const isHealthProfessional = (p: Principal) => p.kind === 'professional' && (p.professions ?? []).some((c) => HEALTH_PROFESSIONS.has(c));

const AUDIENCES: Record<OperationAudience, { name: string; test(p: Principal): boolean }> = {
  'health-professionals': { name: 'health professionals', test: isHealthProfessional },
  'insi-clients': { name: 'software with the INSi right (scope insi or an INSi certificate)', test: (p) => p.kind === 'system' && p.scopes.includes('insi') },
};

const allow = (reason: string, compartment?: string): Decision => ({ allow: true, reason, compartment });
const deny = (status: 401 | 403, reason: string): Decision => ({ allow: false, status, reason });

export function decide(principal: Principal | undefined, req: AccessRequest): Decision {
  if (!principal) return deny(401, 'A bearer access token is required (Authorization: Bearer …)');
  if (principal.admin) return allow('platform administrator');
  const scoped = smartScopesAllow(principal.scopes, req);
  if (scoped === false) return deny(403, `The token's scopes (${principal.scopes.join(' ')}) do not cover ${describe(req)}`);

  if (req.action === 'operation') {
    if (req.affectsState) {
      const audience = (req.permittedTo ?? []).find((a) => AUDIENCES[a].test(principal));
      if (audience) return allow(`${AUDIENCES[audience].name} running $${req.operation}`);
      const who = [...(req.permittedTo ?? []).map((a) => AUDIENCES[a].name), 'administrators'].join(', ');
      return deny(403, `The operation $${req.operation} is reserved to ${who}`);
    }
    return allow('read-only operation');
  }
  if (req.type === 'AuditEvent' && principal.kind !== 'patient') {
    return deny(403, 'The audit trail is reserved to auditors (administrators); a patient reads the accesses to their own data');
  }
  const directory = !req.type || DIRECTORY_TYPES.has(req.type);

  switch (principal.kind) {
    case 'patient': {
      if (!principal.patientId) return deny(403, 'This patient account is bound to no Patient record');
      if (!READS.includes(req.action)) return deny(403, 'A patient reads their record here; changes go through their health professionals');
      if (directory) return allow('directory data');
      if (req.type !== 'Patient' && patientCompartmentParams(req.type!).length === 0) {
        return deny(403, `${req.type} is not part of a patient's record`);
      }
      return allow('own record (patient compartment)', principal.patientId);
    }
    case 'professional': {
      if (directory) return READS.includes(req.action) ? allow('directory data') : deny(403, `The directory (${req.type}) is maintained by its registries, not by professionals`);
      const professions = principal.professions ?? [];
      if (!isHealthProfessional(principal)) {
        return deny(403, `Health data are reserved to health professionals; the Annuaire lists profession(s) ${professions.join(', ') || 'none'} for ${principal.idNatPs ?? principal.subject}`);
      }
      return allow(`health professional (profession ${professions.join(', ')})`);
    }
    case 'system':
      if (scoped === true) return allow('system client with matching SMART scope');
      return deny(403, `The client ${principal.clientId} has no system/… scope for ${describe(req)}`);
  }
}

/**
 * SMART on FHIR scopes narrow what a token may do: true when one grants the request, false when the
 * token carries SMART scopes but none grants it, undefined when it carries none (e.g. PSC's scope_all).
 */
export function smartScopesAllow(scopes: string[], req: AccessRequest): boolean | undefined {
  const smart = scopes.map(parseSmartScope).filter((s): s is SmartScope => s !== undefined);
  if (smart.length === 0) return undefined;
  if (req.action === 'operation' && !req.type) return smart.some((s) => s.type === '*' && s.write && s.read);
  const write = !READS.includes(req.action) && !(req.action === 'operation' && !req.affectsState);
  return smart.some((s) => (s.type === '*' || s.type === req.type) && (write ? s.write : s.read));
}

interface SmartScope {
  context: 'patient' | 'user' | 'system';
  type: string;
  read: boolean;
  write: boolean;
}

/** patient/Observation.read, user/*.write, system/*.* (v1) and patient/Observation.rs, user/*.cruds (v2). */
export function parseSmartScope(scope: string): SmartScope | undefined {
  const m = /^(patient|user|system)\/([A-Za-z]+|\*)\.(read|write|\*|[cruds]+)(?:\?.*)?$/.exec(scope);
  if (!m) return undefined;
  const [, context, type, perm] = m;
  const v1 = perm === 'read' || perm === 'write' || perm === '*';
  const read = v1 ? perm !== 'write' : /[rs]/.test(perm);
  const write = v1 ? perm !== 'read' : /[cud]/.test(perm);
  return { context: context as SmartScope['context'], type, read, write };
}

function describe(req: AccessRequest): string {
  if (req.action === 'operation') return `$${req.operation}${req.type ? ` on ${req.type}` : ''}`;
  return `${req.action} on ${req.type ?? 'the whole server'}`;
}
