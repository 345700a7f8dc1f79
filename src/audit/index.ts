// Traceability (PGSSI-S, ANS TdE guide): one AuditEvent per access. Writes are audited inside their
// own transaction (a write and its trace commit together); reads, searches and refusals right after,
// before the response leaves. The AuditEvents are FHIR resources in the store, searchable by auditors
// and by the patient for the accesses to their own data.
import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import { writeResource, type StoredResource } from '../fhir/repository.ts';
import { currentContext, type RequestContext } from '../access/context.ts';
import type { FhirCore } from '../fhir/core.ts';

export const TDE_PROFILE = 'https://interop.esante.gouv.fr/ig/fhir/tde/StructureDefinition/tde-auditevent';

/** What happened, in the vocabulary of FHIR restful-interaction (or a platform event such as login). */
export interface AuditRecord {
  /** restful-interaction code (read, vread, search-type, create, update, patch, delete, history-instance, operation…) or a security event (login, logout). */
  subtype: string;
  /** AuditEvent.action: C R U D E. */
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  /** HTTP-like outcome: 2xx success, 4xx refusal or client error, 5xx server error. */
  status: number;
  outcomeDesc?: string;
  /** The resources acted on (Type/id). */
  what?: string[];
  /** The patients whose data were involved (Patient ids). */
  patients?: string[];
  /** The search or operation query, as sent. */
  query?: string;
  started: Date;
}

const INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const SECURITY_EVENT = 'http://dicom.nema.org/resources/ontology/DCM';

export function buildAuditEvent(record: AuditRecord, ctx: RequestContext | undefined, observer: string): AuditEvent {
  const p = ctx?.principal;
  const security = record.subtype === 'login' || record.subtype === 'logout';
  const agent: AuditEventAgent = {
    requestor: true,
    who: p
      ? {
          ...(p.practitionerId ? { reference: `Practitioner/${p.practitionerId}` } : p.patientId ? { reference: `Patient/${p.patientId}` } : {}),
          identifier: p.idNatPs ? { system: 'urn:oid:1.2.250.1.71.4.2.1', value: p.idNatPs } : { system: p.issuer, value: p.subject },
          display: p.kind === 'system' ? `client ${p.clientId}` : p.subject,
        }
      : { display: 'anonymous' },
    ...(p ? { altId: p.clientId } : {}),
    ...(ctx?.ip ? { network: { address: ctx.ip, type: '2' as const } } : {}),
    ...(ctx?.purposeOfUse ? { purposeOfUse: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: ctx.purposeOfUse }] }] } : {}),
  };
  const entity: AuditEventEntity[] = [
    ...(record.what ?? []).map((ref) => ({ what: { reference: ref }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2' } })),
    ...[...new Set(record.patients ?? [])].map((id) => ({
      what: { reference: `Patient/${id}` },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1' },
    })),
    ...(record.query ? [{ type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2' }, query: Buffer.from(record.query).toString('base64') }] : []),
  ];
  const subtype: Coding = security
    ? { system: SECURITY_EVENT, code: record.subtype === 'login' ? '110122' : '110123', display: record.subtype === 'login' ? 'Login' : 'Logout' }
    : { system: INTERACTION, code: record.subtype };
  return {
    resourceType: 'AuditEvent',
    meta: { profile: [TDE_PROFILE] },
    type: security
      ? { system: SECURITY_EVENT, code: '110114', display: 'User Authentication' }
      : { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [subtype],
    action: record.action,
    period: { start: record.started.toISOString(), end: new Date().toISOString() },
    recorded: new Date().toISOString(),
    outcome: record.status < 400 ? '0' : record.status < 500 ? '4' : '8',
    ...(record.outcomeDesc ? { outcomeDesc: record.outcomeDesc } : {}),
    ...(ctx?.breakGlassReason ? { purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'BTG', display: 'break the glass' }], text: ctx.breakGlassReason }] } : {}),
    agent: [agent],
    source: { site: 'Socle', observer: { identifier: { value: observer }, display: 'Socle' }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4' }] },
    ...(entity.length ? { entity } : {}),
  };
}

/** Stores an AuditEvent in the caller's transaction. Built by construction, so not revalidated. */
export async function writeAudit(tx: Queryable, record: AuditRecord, ctx: RequestContext | undefined, observer: string): Promise<void> {
  const event = { ...buildAuditEvent(record, ctx, observer), id: randomUUID() } as Resource;
  await writeResource(tx, event, { method: 'POST', mustBeNew: true, changeLog: false });
}

/**
 * Every write through the FHIR core is traced in its own transaction: both commit or neither. A bulk
 * load (createMany) is one create event naming every resource of the batch.
 */
export function registerAudit(core: FhirCore): void {
  const trace = (tx: Queryable, stored: StoredResource[], subtype: string, action: AuditRecord['action']) => {
    const patients = [...new Set(stored.map((s) => (s.resourceType === 'Patient' ? s.id : s.compartment)).filter((p): p is string => !!p))];
    const what = stored.map((s) => `${s.resourceType}/${s.id}/_history/${s.versionId}`);
    return writeAudit(tx, { subtype, action, status: 200, what, patients, started: new Date() }, currentContext(), `${core.config.baseUrl}/fhir`);
  };
  core.onWrite(
    (tx, stored) => {
      const [subtype, action]: [string, AuditRecord['action']] = stored.deleted ? ['delete', 'D'] : stored.versionId === 1 ? ['create', 'C'] : ['update', 'U'];
      return trace(tx, [stored], subtype, action);
    },
    (tx, stored) => trace(tx, stored, 'create', 'C'),
  );
}
