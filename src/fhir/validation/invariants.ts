// Medplum counts an invariant whose FHIRPath evaluates to empty as failed. Empty comes from string functions
// on an absent element (bdl-8 `fullUrl.contains('/_history/').not()` on an entry without fullUrl), which the
// HL7 validator passes and later FHIR versions rewrite as `x.exists() implies ...`: such failures are not
// violations. Only failures are re-evaluated, so valid writes pay nothing.
import { evalFhirPathTyped, toTypedValue, UCUM } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { locate } from './issues.ts';

export function isEmptyInvariantFailure(issue: OperationOutcomeIssue, resource: Resource): boolean {
  if (issue.code !== 'invariant') return false;
  try {
    const fhirpath = (JSON.parse(issue.diagnostics ?? '{}') as { fhirpath?: string }).fhirpath;
    if (!fhirpath) return false;
    const root = toTypedValue(resource);
    const contexts = evalFhirPathTyped(locate(resource, issue.expression?.[0]).expression, [root]);
    if (contexts.length !== 1) return false;
    // %resource should be the innermost resource; the root is exact for all but contained and entry resources.
    const variables = { '%context': contexts[0], '%resource': root, '%rootResource': root, '%ucum': toTypedValue(UCUM) };
    return evalFhirPathTyped(fhirpath, contexts, variables).length === 0;
  } catch {
    return false; // cannot tell: keep Medplum's verdict
  }
}
