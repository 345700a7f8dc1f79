// A validation worker (pool.ts): loads the FHIR packages once, then answers batches with their structural passes.
import { parentPort, workerData } from 'node:worker_threads';
import type { Resource } from '@medplum/fhirtypes';
import { Validator } from './index.ts';

const pret = Validator.create((workerData as { packages: string[] }).packages);

parentPort!.on('message', async ({ id, resources }: { id: number; resources: Resource[] }) => {
  try {
    const validator = await pret;
    parentPort!.postMessage({ id, passes: resources.map((r) => validator.structure(r)) });
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
