// HTTP answers of the simulator: FHIR JSON bodies, OperationOutcomes, and the `invalid` fault's defects.
import type { ServerResponse } from 'node:http';

export function repondre(res: ServerResponse, statut: number, corps: unknown, entetes: Record<string, string> = {}): void {
  const texte = JSON.stringify(corps);
  res.writeHead(statut, { 'Content-Type': 'application/fhir+json; charset=utf-8', 'Content-Length': Buffer.byteLength(texte), ...entetes });
  res.end(texte);
}

export function issue(code: string, diagnostics: string) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

const sansMs = (v: unknown) => (typeof v === 'string' ? new Date(v).toISOString().replace(/\.\d{3}Z$/, 'Z') : v);

/**
 * The `invalid` fault: what broken vendors send. Every other Slot loses its meta.profile and its end (so it fails
 * the profile), every Slot date loses its milliseconds and offset (`Z`), and `total` counts one Slot too many.
 */
export function degrader<B extends { entry: { resource: Record<string, any> }[]; total?: unknown }>(bundle: B): B {
  let n = 0;
  for (const { resource: r } of bundle.entry) {
    if (r.resourceType !== 'Slot') continue;
    r.start = sansMs(r.start);
    r.end = sansMs(r.end);
    if (n++ % 2 === 0) {
      r.meta = { ...r.meta, profile: undefined };
      delete r.end;
    }
  }
  bundle.total = Number(bundle.total ?? 0) + 1;
  return bundle;
}
