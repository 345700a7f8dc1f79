// Where the NDJSON files of an export go: files under the data directory (large exports stay out of
// the database and its WAL, and are streamed from disk), or rows of bulk_export_file when the data
// directory is empty (tests, or instances with no local disk of their own).
import { createReadStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Database } from '../../../db/index.ts';

export interface ExportStorage {
  write(jobId: string, name: string, content: string): Promise<void>;
  /** The file's content, or undefined when it does not exist. */
  read(jobId: string, name: string): Promise<Readable | undefined>;
  remove(jobId: string): Promise<void>;
}

export function exportStorage(db: Database, dataDir: string): ExportStorage {
  return dataDir ? diskStorage(join(dataDir, 'bulk-export')) : databaseStorage(db);
}

function diskStorage(root: string): ExportStorage {
  return {
    async write(jobId, name, content) {
      await mkdir(join(root, jobId), { recursive: true });
      await writeFile(join(root, jobId, name), content);
    },
    async read(jobId, name) {
      const stream = createReadStream(join(root, jobId, name));
      return new Promise((resolve) => {
        stream.once('open', () => resolve(stream));
        stream.once('error', () => resolve(undefined));
      });
    },
    remove: (jobId) => rm(join(root, jobId), { recursive: true, force: true }),
  };
}

function databaseStorage(db: Database): ExportStorage {
  return {
    async write(jobId, name, content) {
      await db.query('INSERT INTO bulk_export_file (job_id, name, content) VALUES ($1, $2, $3)', [jobId, name, content]);
    },
    async read(jobId, name) {
      const { rows } = await db.query<{ content: string }>('SELECT content FROM bulk_export_file WHERE job_id = $1 AND name = $2', [jobId, name]);
      return rows[0] ? Readable.from([rows[0].content]) : undefined;
    },
    async remove(jobId) {
      await db.query('DELETE FROM bulk_export_file WHERE job_id = $1', [jobId]);
    },
  };
}
