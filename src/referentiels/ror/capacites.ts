// POST /fhir/Location/{id}/$capacites: a structure (or its software) declares its current capacities
// (CapaciteAccueilOperationnelle) without writing a JSON Patch. Each input `capacite` replaces the
// ror-location-supported-capacity entry with the same nature, status, temporality and gender (or adds
// one); the server stamps capacityUpdateDate. Same rights as PATCH on Location: administrators and
// system clients with system/Location.write. The update is versioned and audited by the core.
import type { Coding, Extension, Location } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { withContext } from '../../access/context.ts';
import type { FhirCore } from '../../fhir/core.ts';
import { parseFhirJson } from '../../fhir/json.ts';
import { OperationParams } from '../../fhir/operations.ts';
import { badRequest } from '../../fhir/outcome.ts';
import { readResource } from '../../fhir/repository.ts';
import { resourceHeaders, type FhirRequest } from '../../fhir/rest/dispatch.ts';
import { auditInteraction, authorize, type Interaction } from '../../fhir/rest/interceptors.ts';
import { type Verifiers, callerContext, FHIR_JSON, fhirScope } from '../../fhir/rest/edge.ts';
import { CAPACITY_FIELDS, EXT, type CodedCapacityField } from './nomenclatures.ts';

/** The fields that tell two capacities apart: an input with the same ones replaces the entry. */
const KEY: CodedCapacityField[] = ['capacityType', 'capacityStatus', 'temporalityCapacity', 'genderCapacityAvailable', 'additionalBedType', 'crisisType'];

export interface CapaciteInput {
  codes: Partial<Record<CodedCapacityField, Coding>>;
  nbCapacity: number;
}

export function registerCapacites(app: FastifyInstance, core: FhirCore, verifiers: Verifiers): void {
  app.register(async (scope) => {
    fhirScope(scope);
    scope.post('/fhir/Location/:id/$capacites', async (req, reply) => {
      const { id } = req.params as { id: string };
      const ctx = await callerContext(req, verifiers);
      const started = new Date();
      const interaction: Interaction = { action: 'patch', type: 'Location', id, subtype: 'operation', operation: 'capacites', write: true };
      const fhirReq: FhirRequest = { method: 'POST', path: `Location/${id}/$capacites`, query: {} };
      return withContext(ctx, async () => {
        try {
          authorize(core, interaction);
          const inputs = parseCapacites(req.body);
          const { stored } = await core.db.transaction(async (tx) => {
            const current = await readResource(tx, 'Location', id, true);
            const next = applyCapacites(parseFhirJson(current.json) as Location, inputs, new Date().toISOString());
            return core.update('Location', id, next, { ifMatch: current.versionId }, tx);
          });
          return reply.code(200).headers(resourceHeaders(`${core.config.baseUrl}/fhir`, stored)).type(FHIR_JSON).send(core.present('Location', stored.json));
        } catch (err) {
          const status = (err as { status?: number }).status ?? 500;
          await auditInteraction(core, interaction, fhirReq, started, { status, reason: (err as Error).message });
          throw err;
        }
      });
    });
  });
}

/** The `capacite` inputs of the Parameters body; each coded part as valueCoding, valueCodeableConcept or valueCode. */
export function parseCapacites(body: unknown): CapaciteInput[] {
  if ((body as { resourceType?: string } | undefined)?.resourceType !== 'Parameters') throw badRequest('$capacites takes a Parameters resource');
  const all = OperationParams.from({}, body).all('capacite');
  if (all.length === 0) throw badRequest('$capacites needs at least one "capacite" parameter (with parts capacityType, capacityStatus, temporalityCapacity, nbCapacity)');
  return all.map((raw, i) => {
    if (!raw || typeof raw !== 'object') throw badRequest(`capacite #${i + 1} must have parts`);
    const parts = raw as Record<string, unknown>;
    const codes: CapaciteInput['codes'] = {};
    for (const [name, field] of Object.entries(CAPACITY_FIELDS) as [CodedCapacityField, (typeof CAPACITY_FIELDS)[CodedCapacityField]][]) {
      const coding = codingOf(parts[name], field.system, `capacite #${i + 1}.${name}`);
      if (coding) codes[name] = coding;
    }
    for (const name of ['capacityType', 'capacityStatus', 'temporalityCapacity'] as const) {
      if (!codes[name]) throw badRequest(`capacite #${i + 1} needs ${name} (${CAPACITY_FIELDS[name].system})`);
    }
    const nbCapacity = parts.nbCapacity;
    if (typeof nbCapacity !== 'number' || !Number.isInteger(nbCapacity) || nbCapacity < 0) {
      throw badRequest(`capacite #${i + 1} needs nbCapacity as a non-negative valueInteger`);
    }
    return { codes, nbCapacity };
  });
}

function codingOf(value: unknown, system: string, where: string): Coding | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return { system, code: value };
  const v = value as Coding & { coding?: Coding[] };
  const coding = v.coding ? v.coding.find((c) => c.system === system) : v;
  if (!coding?.code || (coding.system !== undefined && coding.system !== system)) throw badRequest(`${where} must be a code of ${system}`);
  return { system, code: coding.code, ...(coding.display ? { display: coding.display } : {}) };
}

const codeIn = (capacity: Extension, name: string) => capacity.extension?.find((e) => e.url === name)?.valueCodeableConcept?.coding?.[0]?.code;

/** The Location with each input applied: matching entries updated, others appended; all stamped `at`. */
export function applyCapacites(location: Location, inputs: CapaciteInput[], at: string): Location {
  const extensions = [...(location.extension ?? [])];
  for (const input of inputs) {
    const i = extensions.findIndex((e) => e.url === EXT.supportedCapacity && KEY.every((k) => codeIn(e, k) === input.codes[k]?.code));
    const parts = new Map((i >= 0 ? (extensions[i].extension ?? []) : []).map((e) => [e.url, e]));
    for (const [name, coding] of Object.entries(input.codes)) parts.set(name, { url: name, valueCodeableConcept: { coding: [coding] } });
    parts.set('nbCapacity', { url: 'nbCapacity', valueInteger: input.nbCapacity });
    parts.set('capacityUpdateDate', { url: 'capacityUpdateDate', valueDateTime: at });
    const entry: Extension = { url: EXT.supportedCapacity, extension: [...parts.values()] };
    if (i >= 0) extensions[i] = entry;
    else extensions.push(entry);
  }
  return { ...location, extension: extensions };
}
