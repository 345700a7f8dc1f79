// Structural validation off the main thread, for bulk loads: Medplum's passes cost about a millisecond per
// profiled resource and would otherwise hold the thread that maps the next batch and drives the database.
// Workers load the same FHIR packages as the main validator, so their passes are the ones it would compute.
import { Worker } from 'node:worker_threads';
import type { Resource } from '@medplum/fhirtypes';
import type { StructuralPasses } from './index.ts';

interface Demande {
  resolve: (passes: StructuralPasses[]) => void;
  reject: (err: Error) => void;
}

interface Fil {
  worker: Worker;
  demandes: Map<number, Demande>;
}

const ENTREE = new URL('./pool-worker.ts', import.meta.url).href;

/** Starts the worker through tsx's loader, whichever way the parent process loaded it. */
const AMORCE = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(ENTREE)}); });`;

export class ValidationPool {
  private readonly fils: (Fil | undefined)[];
  private suivant = 0;
  private numero = 0;

  constructor(private readonly packages: string[], threads: number) {
    this.fils = new Array(threads).fill(undefined);
  }

  /** The structural passes of each resource, in order; batches are spread over the workers. */
  passes(resources: Resource[]): Promise<StructuralPasses[]> {
    const i = this.suivant++ % this.fils.length;
    const fil = (this.fils[i] ??= this.demarrer(i));
    const id = ++this.numero;
    return new Promise((resolve, reject) => {
      fil.demandes.set(id, { resolve, reject });
      fil.worker.ref();
      fil.worker.postMessage({ id, resources });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.fils.map((f) => f?.worker.terminate()));
    this.fils.fill(undefined);
  }

  /** Started on first use: a process that never loads in bulk pays nothing. */
  private demarrer(i: number): Fil {
    const worker = new Worker(AMORCE, { eval: true, workerData: { packages: this.packages } });
    const fil: Fil = { worker, demandes: new Map() };
    worker.on('message', (m: { id: number; passes?: StructuralPasses[]; error?: string }) => {
      const d = fil.demandes.get(m.id);
      fil.demandes.delete(m.id);
      if (fil.demandes.size === 0) worker.unref();
      if (m.passes) d?.resolve(m.passes);
      else d?.reject(new Error(`Structural validation failed in a worker: ${m.error}`));
    });
    // A worker that dies fails what it held; the next batch starts a new one.
    const echec = (err: Error) => {
      if (this.fils[i] === fil) this.fils[i] = undefined;
      for (const d of fil.demandes.values()) d.reject(err);
      fil.demandes.clear();
    };
    worker.on('error', echec);
    worker.on('exit', (code) => echec(new Error(`The validation worker stopped (exit code ${code})`)));
    worker.unref();
    return fil;
  }
}
