// Bulk Data $export jobs: stored in bulk_export_job, run one at a time in the background, page by
// page through the search engine (keyset cursors), so requests are served between pages. A job
// left running by a stopped instance starts again from the beginning at the next start. A Group
// export reads its Group's members when it runs and searches each type once per way of reaching them.
import { randomUUID } from 'node:crypto';
import type { Group } from '@medplum/fhirtypes';
import type { FhirCore } from '../../../fhir/core.ts';
import type { QueryParams } from '../../../fhir/search/engine.ts';
import type { Logger } from '../../../log.ts';
import { activeMembers, groupOfRequest, groupQueries, skippingGone } from './group.ts';
import type { ExportStorage } from './storage.ts';
import { pourLeProfil, type ProfilRor } from '../confidentialite.ts';

/** Resources per search page, and per NDJSON file. */
const PAGE = 500;
const FILE_LINES = 10_000;

export interface ExportJob {
  id: string;
  status: 'accepted' | 'in-progress' | 'completed' | 'failed';
  request: string;
  owner: string | null;
  types: string[];
  since: Date | null;
  compartment: string | null;
  /** The requester's ROR access profile (confidentialite.ts); null for full access. */
  rorProfil: ProfilRor | null;
  transactionTime: Date;
  progress: string | null;
  error: string | null;
  output: { type: string; url: string; count: number }[];
}

interface JobRow {
  id: string;
  status: ExportJob['status'];
  request: string;
  owner: string | null;
  types: string[];
  since: Date | null;
  compartment: string | null;
  ror_profil: number | null;
  transaction_time: Date;
  progress: string | null;
  error: string | null;
  output: string | null;
}

const fromRow = (r: JobRow): ExportJob => ({
  id: r.id,
  status: r.status,
  request: r.request,
  owner: r.owner,
  types: r.types,
  since: r.since,
  compartment: r.compartment,
  rorProfil: r.ror_profil as ProfilRor | null,
  transactionTime: r.transaction_time,
  progress: r.progress,
  error: r.error,
  output: r.output ? JSON.parse(r.output) : [],
});

export class ExportJobs {
  private queue: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly core: FhirCore,
    readonly storage: ExportStorage,
    private readonly log: Logger,
  ) {}

  /** Requeues the jobs a previous run of the platform left unfinished. */
  async resume(): Promise<void> {
    const { rows } = await this.core.db.query<{ id: string }>(`SELECT id FROM bulk_export_job WHERE status IN ('accepted', 'in-progress') ORDER BY created_at`);
    for (const { id } of rows) {
      await this.storage.remove(id);
      this.enqueue(id);
    }
  }

  async create(spec: { request: string; owner: string | null; types: string[]; since?: Date; compartment?: string; rorProfil: ProfilRor | null }): Promise<ExportJob> {
    const id = randomUUID();
    const { rows } = await this.core.db.query<JobRow>(
      `INSERT INTO bulk_export_job (id, status, request, owner, types, since, compartment, ror_profil, transaction_time)
       VALUES ($1, 'accepted', $2, $3, $4::text[], $5, $6, $7, now()) RETURNING *`,
      [id, spec.request, spec.owner, spec.types, spec.since?.toISOString() ?? null, spec.compartment ?? null, spec.rorProfil],
    );
    this.enqueue(id);
    return fromRow(rows[0]);
  }

  async get(id: string): Promise<ExportJob | undefined> {
    const { rows } = await this.core.db.query<JobRow>('SELECT * FROM bulk_export_job WHERE id = $1', [id]);
    return rows[0] && fromRow(rows[0]);
  }

  /** Cancels a job (running or not) and removes its files. */
  async remove(id: string): Promise<void> {
    await this.core.db.query('DELETE FROM bulk_export_job WHERE id = $1', [id]);
    await this.storage.remove(id);
  }

  /** Lets the running page finish; the job resumes at the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.queue;
  }

  private enqueue(id: string): void {
    this.queue = this.queue.then(() => this.run(id)).catch((err) => this.log.error({ err, job: id }, 'bulk export failed'));
  }

  private async run(id: string): Promise<void> {
    const job = await this.get(id);
    if (!job || this.stopping) return;
    await this.core.db.query(`UPDATE bulk_export_job SET status = 'in-progress' WHERE id = $1`, [id]);
    try {
      const output = await pourLeProfil(job.rorProfil, () => this.export(job));
      if (output) {
        await this.core.db.query(`UPDATE bulk_export_job SET status = 'completed', output = $2, progress = NULL, completed_at = now() WHERE id = $1`, [id, JSON.stringify(output)]);
      }
    } catch (err) {
      if (!(await this.exists(id))) return; // cancelled while a file was being written
      this.log.error({ err, job: id }, 'bulk export failed');
      await this.core.db.query(`UPDATE bulk_export_job SET status = 'failed', error = $2, completed_at = now() WHERE id = $1`, [id, (err as Error).message]);
    }
  }

  private async exists(id: string): Promise<boolean> {
    return (await this.core.db.query('SELECT 1 FROM bulk_export_job WHERE id = $1', [id])).rows.length > 0;
  }

  /** Writes the files; undefined when the job was cancelled or the platform is stopping. */
  private async export(job: ExportJob): Promise<ExportJob['output'] | undefined> {
    const output: ExportJob['output'] = [];
    const base = `${this.core.config.baseUrl}/fhir`;
    const lastUpdated = [`le${job.transactionTime.toISOString()}`, ...(job.since ? [`gt${job.since.toISOString()}`] : [])];
    const group = groupOfRequest(job.request);
    const read = async (id: string) => JSON.parse((await this.core.read('Group', id)).json) as Group;
    const members = group ? await activeMembers(await read(group), base, skippingGone(read)) : undefined;
    for (const [t, type] of job.types.entries()) {
      const queries: QueryParams[] = members ? groupQueries(members, type) : [{}];
      // A resource reached by several searches (two members, two references) is written once.
      const seen = queries.length > 1 ? new Set<string>() : undefined;
      let lines: string[] = [];
      let part = 0;
      const flush = async () => {
        if (lines.length === 0) return;
        const name = `${type}-${++part}.ndjson`;
        await this.storage.write(job.id, name, `${lines.join('\n')}\n`);
        output.push({ type, url: `${base}/$export-file/${job.id}/${name}`, count: lines.length });
        lines = [];
      };
      for (const criteria of queries) {
        let cursor: string | undefined;
        do {
          if (this.stopping || !(await this.exists(job.id))) return undefined;
          const query = { ...criteria, _count: String(PAGE), _total: 'none', _lastUpdated: lastUpdated, ...(cursor ? { _cursor: cursor } : {}) };
          const page = await this.core.search(type, query, { strict: true, compartment: job.compartment ?? undefined });
          for (const m of page.matches) {
            if (seen?.has(m.id)) continue;
            seen?.add(m.id);
            // Stored JSON is compact (no raw newline): one resource per line as NDJSON requires.
            lines.push(this.core.present(type, m.json));
          }
          if (lines.length >= FILE_LINES) await flush();
          cursor = page.next;
          const done = output.filter((o) => o.type === type).reduce((n, o) => n + o.count, 0) + lines.length;
          await this.core.db.query('UPDATE bulk_export_job SET progress = $2 WHERE id = $1', [job.id, `${type} (${t + 1}/${job.types.length}): ${done} resources`]);
        } while (cursor);
      }
      await flush();
    }
    if (!(await this.exists(job.id))) return undefined;
    return output;
  }
}
