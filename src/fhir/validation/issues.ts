// Turns @medplum/core validation issues into ones a client can act on: Medplum puts a terse message in
// `details.text` and its paths name choice elements `value[x]`; we add a `diagnostics` sentence with the
// offending value, and a FHIRPath `expression` that points into the submitted JSON.
import { isPrimitiveType } from '@medplum/core';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';

const FORMATS: Record<string, string> = {
  date: 'YYYY, YYYY-MM or YYYY-MM-DD',
  dateTime: 'YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss(.sss)+zz:zz, with a time zone when a time is given',
  instant: 'YYYY-MM-DDThh:mm:ss(.sss)+zz:zz or ...Z, with seconds and a time zone',
  time: 'hh:mm:ss',
  id: '1 to 64 characters among A-Z a-z 0-9 - .',
  uuid: 'urn:uuid: followed by a lower-case UUID',
  oid: 'urn:oid: followed by a dotted OID',
  code: 'no leading, trailing or double spaces',
};

/**
 * A Medplum issue with a readable `diagnostics` and a FHIRPath into `resource`; Medplum's own text stays in
 * `details`. `profile` is the definition validated against, to quote what it requires.
 */
export function describeIssue(issue: OperationOutcomeIssue, resource: Resource, profile?: StructureDefinition): OperationOutcomeIssue {
  const text = issue.details?.text ?? issue.diagnostics ?? 'Invalid resource';
  const path = issue.expression?.[0];
  const { expression, value } = locate(resource, path);
  const diagnostics = explain(text, expression, value, issue.diagnostics) + profileHint(text, profile, path);
  return { ...issue, diagnostics, expression: [expression] };
}

/** What the profile asks for, when Medplum's message does not say: the value of a pattern, the URL of an extension slice. */
function profileHint(text: string, profile: StructureDefinition | undefined, path: string | undefined): string {
  const elementPath = path?.replace(/\[\d+\]/g, '');
  const slice = /^Incorrect number of values provided for slice '(.+)'/.exec(text)?.[1];
  const element = profile?.snapshot?.element?.find((e) => e.path === elementPath && e.sliceName === slice);
  if (!element) return '';
  if (slice) {
    const extension = element.type?.[0]?.code === 'Extension' ? element.type[0].profile?.[0] : undefined;
    return extension ? ` (slice ${slice} is the extension ${extension})` : '';
  }
  const key = Object.keys(element).find((k) => k.startsWith('fixed') || k.startsWith('pattern'));
  return key && text === 'Value did not match expected pattern' ? ` (${key}: ${show((element as unknown as Record<string, unknown>)[key])})` : '';
}

function explain(text: string, at: string, value: unknown, data: string | undefined): string {
  let match: RegExpExecArray | null;
  if ((match = /^Invalid JSON type: expected (\w+), but got (\w+)$/.exec(text))) return `${at} must be a JSON ${match[1]}, not the ${match[2]} ${show(value)}`;
  if ((match = /^Invalid (\w+) format$/.exec(text))) {
    return `${at}: ${show(value)} is not a valid FHIR ${match[1]}${FORMATS[match[1]] ? ` (expected ${FORMATS[match[1]]})` : ''}`;
  }
  if (/^Invalid additional property/.test(text) && isEmpty(value)) return emptyMessage(at);
  if ((match = /^Invalid additional property "(.+)"$/.exec(text))) {
    return `${at}: unknown element "${match[1]}", not defined by FHIR R4 here (check its spelling and case, or carry the data in an extension)`;
  }
  if ((match = /^Invalid number of values: expected (.+), but found (\d+)$/.exec(text))) return `${at} has ${match[2]} value${match[2] === '1' ? '' : 's'}, but its cardinality is ${match[1]}`;
  if ((match = /^Constraint (\S+) not met: (.*)$/s.exec(text))) return `${at}: invariant ${match[1]} not met: ${match[2]}${fhirPathOf(data)}`;
  if (text === 'Missing required property') return `${at} is required (minimum cardinality 1) but missing`;
  if (text === 'Expected single value for property') return `${at} takes a single value, not a JSON array`;
  if (text === 'Expected array of values for property') return `${at} repeats: its value must be a JSON array`;
  if (/^(Invalid empty|Invalid null|Invalid undefined|String must contain)/.test(text)) return emptyMessage(at);
  if (text === 'Value did not match expected pattern') return `${at}: ${show(value)} does not match the fixed value or pattern its definition requires`;
  if (text === 'Error evaluating invariant expression') return `${at}: an invariant could not be evaluated, so it was not checked${fhirPathOf(data)}`;
  if ((match = /^Incorrect number of values provided for slice '(.+)': expected (.+), but found (\d+)$/.exec(text))) {
    return `${at}: slice "${match[1]}" takes ${match[2]} values, found ${match[3]}`;
  }
  return `${at}: ${text}${isPrimitive(value) ? ` (value ${show(value)})` : ''}`;
}

function emptyMessage(at: string): string {
  return `${at} is empty: FHIR JSON forbids null, blank strings and empty objects or arrays; omit the element instead`;
}

/** Medplum reads an empty value as absent, then calls the key unknown. */
function isEmpty(value: unknown): boolean {
  return value === '' || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
}

function fhirPathOf(data: string | undefined): string {
  try {
    const fhirpath = data ? (JSON.parse(data) as { fhirpath?: string }).fhirpath : undefined;
    return fhirpath ? ` (FHIRPath: ${fhirpath})` : '';
  } catch {
    return '';
  }
}

function isPrimitive(value: unknown): boolean {
  return value !== undefined && value !== null && typeof value !== 'object';
}

function show(value: unknown): string {
  const json = JSON.stringify(value) ?? 'undefined';
  return json.length > 60 ? json.slice(0, 57) + '...' : json;
}

/**
 * Follows a Medplum path (`Observation.value[x].value`, `Patient.name.family`) through the resource: choice
 * elements become `value.ofType(Quantity)`, and a repeating element with a single item gets its `[0]`.
 */
export function locate(resource: Resource, path: string | undefined): { expression: string; value: unknown } {
  const [first, ...segments] = (path ?? resource.resourceType ?? 'Resource').split('.');
  // Medplum names some warnings by bare property (`valueBoolean`): anchor them at the resource.
  const parts = first === resource.resourceType || !resource.resourceType ? [first] : [resource.resourceType, first];
  let current: unknown = parts.length === 1 ? resource : (resource as unknown as Record<string, unknown>)[first];
  let lost = false;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const [, name, index] = /^(.*?)(?:\[(\d+)\])?$/.exec(segment) as RegExpExecArray;
    if (lost || typeof current !== 'object' || current === null || Array.isArray(current)) {
      parts.push(segment);
      lost = true;
      continue;
    }
    const object = current as Record<string, unknown>;
    let key = name;
    let part = name;
    if (name.endsWith('[x]')) {
      const base = name.slice(0, -3);
      key = Object.keys(object).find((k) => k.startsWith(base) && /^[A-Z]/.test(k.slice(base.length))) ?? name;
      const type = key.slice(base.length);
      const primitive = type && isPrimitiveType(type[0].toLowerCase() + type.slice(1));
      part = key === name ? base : `${base}.ofType(${primitive ? type[0].toLowerCase() + type.slice(1) : type})`;
    }
    // Extensions of a primitive live in `_key`, which FHIRPath reaches as `key.extension`.
    current = i < segments.length - 1 && object['_' + key] !== undefined ? object['_' + key] : object[key];
    if (index !== undefined) {
      part += `[${index}]`;
      current = Array.isArray(current) ? current[Number(index)] : undefined;
    } else if (Array.isArray(current) && current.length === 1 && i < segments.length - 1) {
      part += '[0]';
      current = current[0];
    }
    parts.push(part);
  }
  return { expression: parts.join('.'), value: lost ? undefined : current };
}
