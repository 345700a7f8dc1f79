// FHIR Bulk Data Access 2.0 ($export): kick-off at system level (GET /fhir/$export), type level
// (GET /fhir/{type}/$export; Patient/$export exports the patient compartment, as the IG defines) and
// Group level (GET /fhir/Group/{id}/$export: its active members, see group.ts), with Prefer:
// respond-async; a status URL polled until the manifest; NDJSON files for the same caller.
import type { Group } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { currentContext, withContext } from '../../../access/context.ts';
import type { Principal } from '../../../access/principal.ts';
import { writeAudit, type AuditRecord } from '../../../audit/index.ts';
import { patientCompartmentParams } from '../../../fhir/compartment.ts';
import type { FhirCore } from '../../../fhir/core.ts';
import { isStoredResourceType, storedResourceTypes } from '../../../fhir/definitions.ts';
import { badRequest, FhirError, notFound } from '../../../fhir/outcome.ts';
import { dateRange } from '../../../fhir/search/normalize.ts';
import { authorize } from '../../../fhir/rest/interceptors.ts';
import { type Verifiers, callerContext, fhirScope, header } from '../../../fhir/rest/edge.ts';
import { profilDe } from '../confidentialite.ts';
import { activeMembers, groupScope, skippingGone } from './group.ts';
import type { ExportJobs } from './jobs.ts';

const OUTPUT_FORMATS = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];
const KICKOFF_PARAMS = new Set(['_outputFormat', '_since', '_type']);

/** The caller a job belongs to: its files are served to the same caller only. */
const ownerOf = (p: Principal | undefined) => (p ? `${p.issuer}|${p.clientId}|${p.subject}` : null);

export function registerBulkExport(app: FastifyInstance, core: FhirCore, jobs: ExportJobs, verifiers: Verifiers): void {
  const base = () => `${core.config.baseUrl}/fhir`;
  const audit = (record: Omit<AuditRecord, 'started' | 'action'> & { started: Date }) =>
    core.db.transaction((tx) => writeAudit(tx, { action: record.subtype === 'read' ? 'R' : 'E', ...record }, currentContext(), base()));

  /** Runs fn as the caller; failures are audited too. */
  const asCaller = async <T>(req: FastifyRequest, subtype: string, fn: () => Promise<T>): Promise<T> => {
    const ctx = await callerContext(req, verifiers);
    const started = new Date();
    const query = req.url.split('?')[1];
    return withContext(ctx, async () => {
      try {
        return await fn();
      } catch (err) {
        await audit({ subtype, status: err instanceof FhirError ? err.status : 500, outcomeDesc: (err as Error).message, query, started });
        throw err;
      }
    });
  };

  /** The Group to export, if the caller may read it: 404 when unknown, 403 when not theirs to read. */
  async function readGroup(id: string): Promise<Group> {
    const { compartment } = authorize(core, { action: 'read', type: 'Group', id, subtype: 'operation', write: false });
    const stored = await core.read('Group', id);
    if (compartment !== undefined && stored.compartment !== compartment) throw new FhirError(403, `Group/${id} is not part of your record`, 'forbidden');
    return JSON.parse(stored.json) as Group;
  }

  async function kickOff(req: FastifyRequest, level: string | undefined, groupId?: string) {
    if (level !== undefined && !isStoredResourceType(level)) throw notFound(`Unknown resource type ${level}`);
    const query = req.query as Record<string, string | string[]>;
    const one = (name: string) => {
      const v = query[name];
      if (Array.isArray(v)) throw badRequest(`${name} may be given once`);
      return v;
    };
    const unknown = Object.keys(query).filter((k) => !KICKOFF_PARAMS.has(k));
    if (unknown.length > 0) throw badRequest(`Unsupported $export parameter(s): ${unknown.join(', ')} (this server supports _type, _since and _outputFormat)`);
    if (!/respond-async/.test(header(req, 'prefer') ?? '')) throw badRequest('$export runs asynchronously: send the header "Prefer: respond-async"');
    const format = one('_outputFormat');
    if (format !== undefined && !OUTPUT_FORMATS.includes(format)) throw badRequest(`_outputFormat ${format} is not supported: use application/fhir+ndjson`);
    const sinceRaw = one('_since');
    const since = sinceRaw === undefined ? undefined : dateRange(sinceRaw)?.low;
    if (sinceRaw !== undefined && !since) throw badRequest(`_since must be a FHIR instant, got "${sinceRaw}"`);

    const members = groupId === undefined ? undefined : await activeMembers(await readGroup(groupId), base(), skippingGone(readGroup));
    const scope = members ? groupScope(members) : level === undefined ? [...storedResourceTypes()] : level === 'Patient' ? compartmentTypes() : [level];
    const typeParam = one('_type');
    const asked = typeParam?.split(',').map((t) => t.trim()).filter(Boolean);
    for (const t of asked ?? []) {
      if (!isStoredResourceType(t)) throw badRequest(`_type: unknown resource type ${t}`);
      if (!scope.includes(t)) throw badRequest(`_type: ${t} is not exported by ${level}/$export`);
    }
    // Each type is authorised as a search: a type asked for by name must be allowed; the others are
    // left out when the caller may not read them.
    let compartment: string | undefined;
    const types: string[] = [];
    for (const type of asked ?? scope) {
      try {
        compartment = authorize(core, { action: 'search', type, subtype: 'operation', write: false }).compartment ?? compartment;
        types.push(type);
      } catch (err) {
        if (asked) throw err;
      }
    }
    // A Group with no active member exports nothing, which is no reason to refuse.
    if (types.length === 0 && scope.length > 0) throw new FhirError(403, 'You may export none of these resource types', 'forbidden');
    const request = `${core.config.baseUrl}${req.url}`;
    const principal = currentContext()?.principal;
    const job = await jobs.create({ request, owner: ownerOf(principal), types, since, compartment, rorProfil: profilDe(principal) });
    // A Group export names the Group, and its patients, whose access history then shows the export.
    const what = [`$export/${job.id}`, ...(groupId ? [`Group/${groupId}`] : [])];
    await audit({ subtype: 'operation', status: 202, query: req.url.split('?')[1], what, patients: members?.get('Patient'), started: new Date() });
    return job;
  }

  app.register(async (scope) => {
    fhirScope(scope);
    const kickOffRoute = async (req: FastifyRequest, reply: import('fastify').FastifyReply, level?: string, groupId?: string) =>
      asCaller(req, 'operation', async () => {
        const job = await kickOff(req, level, groupId);
        return reply.code(202).header('Content-Location', `${base()}/$export-status/${job.id}`).send();
      });
    scope.get('/fhir/$export', (req, reply) => kickOffRoute(req, reply));
    scope.get('/fhir/:type/$export', (req, reply) => kickOffRoute(req, reply, (req.params as { type: string }).type));
    scope.get('/fhir/Group/:id/$export', (req, reply) => kickOffRoute(req, reply, 'Group', (req.params as { id: string }).id));

    /** The job, if the caller is the one who started it. */
    const ownJob = async (id: string) => {
      const job = await jobs.get(id);
      if (!job) throw notFound(`No export job ${id} (it may have been cancelled)`);
      if (job.owner !== null && job.owner !== ownerOf(currentContext()?.principal)) throw new FhirError(403, 'This export was started by another caller', 'forbidden');
      return job;
    };

    scope.get('/fhir/$export-status/:job', (req, reply) =>
      asCaller(req, 'operation', async () => {
        const job = await ownJob((req.params as { job: string }).job);
        if (job.status === 'accepted' || job.status === 'in-progress') {
          return reply.code(202).headers({ 'X-Progress': job.progress ?? job.status, 'Retry-After': '2' }).send();
        }
        if (job.status === 'failed') throw new FhirError(500, `The export failed: ${job.error}`, 'exception');
        return reply.code(200).type('application/json').send({
          transactionTime: job.transactionTime.toISOString(),
          request: job.request,
          requiresAccessToken: job.owner !== null,
          output: job.output,
          error: [],
        });
      }),
    );

    scope.delete('/fhir/$export-status/:job', (req, reply) =>
      asCaller(req, 'operation', async () => {
        const job = await ownJob((req.params as { job: string }).job);
        await jobs.remove(job.id);
        await audit({ subtype: 'operation', status: 202, outcomeDesc: 'export cancelled and its files deleted', what: [`$export/${job.id}`], started: new Date() });
        return reply.code(202).send();
      }),
    );

    scope.get('/fhir/$export-file/:job/:file', (req, reply) =>
      asCaller(req, 'read', async () => {
        const { job: id, file } = req.params as { job: string; file: string };
        const job = await ownJob(id);
        const entry = job.output.find((o) => o.url.endsWith(`/${id}/${file}`));
        const content = entry && (await jobs.storage.read(id, file));
        if (!entry || !content) throw notFound(`No file ${file} in export ${id}`);
        await audit({ subtype: 'read', status: 200, what: [`$export/${id}/${file}`], outcomeDesc: `${entry.count} ${entry.type}`, started: new Date() });
        return reply.code(200).type('application/fhir+ndjson').send(content);
      }),
    );
  });
}

/** Patient/$export: the Patient and every type of the patient compartment. */
const compartmentTypes = () => storedResourceTypes().filter((t) => t === 'Patient' || patientCompartmentParams(t).length > 0);
