// Cross-cutting rules around every FHIR interaction, HTTP or Bundle entry: the access decision before,
// the audit trail after (writes are audited inside their own transaction by the audit write hook).
import { currentContext } from '../../access/context.ts';
import { decide, type AccessRequest, type Action, type Decision } from '../../access/policy.ts';
import { writeAudit, type AuditRecord } from '../../audit/index.ts';
import type { Queryable } from '../../db/index.ts';
import type { FhirCore } from '../core.ts';
import { isStoredResourceType } from '../definitions.ts';
import { FhirError } from '../outcome.ts';
import { ID_RE } from '../repository.ts';
import type { FhirRequest } from './dispatch.ts';

export interface Interaction extends AccessRequest {
  /** restful-interaction code for the audit trail. */
  subtype: string;
  id?: string;
  write: boolean;
}

const WRITE_ACTIONS: Action[] = ['create', 'update', 'patch', 'delete'];

/** What a request asks for, from its method and path alone (before anything is read). */
export function interactionOf(core: FhirCore, req: FhirRequest): Interaction {
  const m = req.method.toUpperCase();
  const segments = req.path.split('/').filter(Boolean);
  const last = segments[segments.length - 1] ?? '';
  if (last.startsWith('$')) {
    const name = last.slice(1);
    const type = segments.length > 1 ? segments[0] : undefined;
    const level = segments.length === 1 ? 'system' : segments.length === 2 ? 'type' : 'instance';
    let affectsState = true;
    let permittedTo: Interaction['permittedTo'];
    try {
      ({ affectsState, permittedTo } = core.operations.find(name, level, type));
    } catch {
      // unknown operation: the route answers 404
    }
    return { action: 'operation', operation: name, type, id: segments[1], affectsState, permittedTo, subtype: 'operation', write: false };
  }
  const [type, id, op, vid] = segments;
  if (!type) return { action: 'search', subtype: 'search-system', write: false };
  if (type === '_history') return { action: 'history', subtype: 'history-system', write: false };
  if (id === '_history') return { action: 'history', type, subtype: 'history-type', write: false };
  if (id === '_search') return { action: 'search', type, subtype: 'search-type', write: false };
  if (op === '_history') return { action: vid ? 'read' : 'history', type, id, subtype: vid ? 'vread' : 'history-instance', write: false };
  const byMethod: Record<string, [Action, string]> = id
    ? { GET: ['read', 'read'], HEAD: ['read', 'read'], PUT: ['update', 'update'], PATCH: ['patch', 'patch'], DELETE: ['delete', 'delete'] }
    : { GET: ['search', 'search-type'], HEAD: ['search', 'search-type'], POST: ['create', 'create'], PUT: ['update', 'update'], DELETE: ['delete', 'delete'] };
  const [action, subtype] = byMethod[m] ?? ['read', 'read'];
  return { action, type, id, subtype, write: WRITE_ACTIONS.includes(action) };
}

/**
 * The access decision for the current caller. Without a token, the platform answers only when
 * SOCLE_AUTH=off (development); a token, when presented, is always enforced.
 */
export function authorize(core: FhirCore, interaction: Interaction): Decision {
  const ctx = currentContext();
  const principal = ctx?.principal;
  if (!principal && !core.config.authRequired) return { allow: true, reason: 'authentication disabled (SOCLE_AUTH=off)' };
  const decision = !principal && ctx?.certificateRefused ? { allow: false, status: 401 as const, reason: ctx.certificateRefused } : decide(principal, interaction);
  if (!decision.allow) {
    throw new FhirError(decision.status ?? 403, decision.reason, decision.status === 401 ? 'login' : 'forbidden', decision.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
  }
  return decision;
}

const ACTION_CODE: Record<Action, AuditRecord['action']> = {
  read: 'R', search: 'E', history: 'R', create: 'C', update: 'U', patch: 'U', delete: 'D', operation: 'E',
};

/** Records a read-type interaction, or any refused or failed one. tx: the Bundle transaction, if any. */
export async function auditInteraction(
  core: FhirCore,
  interaction: Interaction,
  req: FhirRequest,
  started: Date,
  outcome: { status: number; reason?: string; what?: string[]; patients?: string[] },
  tx?: Queryable,
): Promise<void> {
  const query = new URLSearchParams(Object.entries(req.query).flatMap(([k, v]) => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((x) => [k, x]))).toString();
  const record: AuditRecord = {
    subtype: interaction.subtype,
    action: ACTION_CODE[interaction.action],
    status: outcome.status,
    outcomeDesc: outcome.reason,
    what: outcome.what ?? (interaction.type && interaction.id && ID_RE.test(interaction.id) && isStoredResourceType(interaction.type) ? [`${interaction.type}/${interaction.id}`] : undefined),
    patients: outcome.patients,
    query: query || undefined,
    started,
  };
  const ctx = currentContext();
  const observer = `${core.config.baseUrl}/fhir`;
  // Outside a write, the trace is one statement, atomic by itself: no transaction round trips.
  await writeAudit(tx ?? core.db, record, ctx, observer);
}

