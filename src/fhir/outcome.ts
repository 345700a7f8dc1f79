// Every FHIR error is an OperationOutcome with an HTTP status; FhirError carries both to the REST layer.
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];

export class FhirError extends Error {
  readonly status: number;
  readonly issues: OperationOutcomeIssue[];
  readonly headers: Record<string, string>;

  constructor(status: number, issues: OperationOutcomeIssue[] | string, code: IssueCode = 'processing', headers: Record<string, string> = {}) {
    const list = typeof issues === 'string' ? [{ severity: 'error' as const, code, diagnostics: issues }] : issues;
    super(list.map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; '));
    this.status = status;
    this.issues = list;
    this.headers = headers;
  }

  get outcome(): OperationOutcome {
    return { resourceType: 'OperationOutcome', issue: this.issues };
  }
}

export const badRequest = (msg: string, expression?: string) =>
  new FhirError(400, [{ severity: 'error', code: 'invalid', diagnostics: msg, ...(expression ? { expression: [expression] } : {}) }]);
export const notFound = (msg: string) => new FhirError(404, msg, 'not-found');
export const gone = (msg: string) => new FhirError(410, msg, 'deleted');
export const conflict = (msg: string) => new FhirError(409, msg, 'conflict');
export const preconditionFailed = (msg: string) => new FhirError(412, msg, 'conflict');
/** 405 with the Allow header RFC 9110 requires. */
export const notAllowed = (msg: string, allow: string[]) => new FhirError(405, msg, 'not-supported', { Allow: allow.join(', ') });

export function outcome(severity: OperationOutcomeIssue['severity'], code: IssueCode, diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}
