// Bindings inside extensions. Medplum matches an extension to the slice of its definition but checks
// none of its bindings, and the value checks follow the elements of a profile, not the definitions of
// the extensions it carries. A loaded extension definition binds its value (`Extension.value[x]`) or,
// for a complex extension, the value of each part (`Extension.extension:<part>.value[x]`, the part named
// by its fixed url). Every extension whose url names such a definition, wherever it sits in a resource,
// has its coded values checked here: required bindings are errors, extensible ones warnings.
import { capitalize } from '@medplum/core';
import type { ElementDefinition, OperationOutcomeIssue, StructureDefinition } from '@medplum/fhirtypes';
import type { Terminology } from './terminology.ts';
import { BINDABLE, checkCode } from './value-checks.ts';

interface Binding {
  valueSet: string;
  extensible: boolean;
}

interface ExtensionBindings {
  value?: Binding;
  /** By the part's url (relative name or absolute URL). */
  parts: Map<string, Binding>;
}

/** The JSON names of a bindable value: valueCode → code, valueCodeableConcept → CodeableConcept… */
const VALUE_TYPES = new Map([...BINDABLE].map((type) => [`value${capitalize(type)}`, type]));

export class ExtensionChecker {
  private readonly byUrl = new Map<string, ExtensionBindings>();

  constructor(private readonly terminology: Terminology) {}

  /** Indexes the bindings of an extension definition (other StructureDefinitions are ignored). */
  add(sd: StructureDefinition): void {
    if (sd.type !== 'Extension' || !sd.url || !sd.snapshot?.element) return;
    const elements = sd.snapshot.element;
    const bindings: ExtensionBindings = { parts: new Map() };
    for (const element of elements) {
      const binding = bindingOf(element);
      if (!binding) continue;
      if (element.id === 'Extension.value[x]') bindings.value = binding;
      const part = /^Extension\.extension:([^.]+)\.value\[x\]$/.exec(element.id ?? '')?.[1];
      if (part) {
        const url = elements.find((e) => e.id === `Extension.extension:${part}.url`)?.fixedUri ?? part;
        bindings.parts.set(url, binding);
      }
    }
    if (bindings.value || bindings.parts.size > 0) this.byUrl.set(sd.url, bindings);
    else this.byUrl.delete(sd.url);
  }

  check(resource: { resourceType: string }): OperationOutcomeIssue[] {
    const issues: OperationOutcomeIssue[] = [];
    if (this.byUrl.size > 0) this.walk(resource, [resource.resourceType], issues);
    return issues;
  }

  /** `at` is the path as segments, joined only when an extension is checked: most nodes hold none. */
  private walk(value: unknown, at: string[], issues: OperationOutcomeIssue[]): void {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (typeof value[i] !== 'object' || value[i] === null) continue;
        at.push(`[${i}]`);
        this.walk(value[i], at, issues);
        at.pop();
      }
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const node = value as Record<string, unknown>;
    for (const key in node) {
      const child = node[key];
      if (typeof child !== 'object' || child === null || key === 'div') continue;
      if ((key === 'extension' || key === 'modifierExtension') && Array.isArray(child)) {
        child.forEach((extension, i) => this.checkExtension(extension, () => `${at.join('.').replace(/\.\[/g, '[')}.${key}[${i}]`, issues));
      }
      at.push(key);
      this.walk(child, at, issues);
      at.pop();
    }
  }

  private checkExtension(extension: unknown, path: () => string, issues: OperationOutcomeIssue[]): void {
    const url = (extension as { url?: unknown })?.url;
    const bindings = typeof url === 'string' ? this.byUrl.get(url) : undefined;
    if (!bindings) return;
    if (bindings.value) this.checkValue(extension as Record<string, unknown>, bindings.value, path(), issues);
    const parts = (extension as { extension?: unknown }).extension;
    if (!Array.isArray(parts)) return;
    parts.forEach((part: { url?: unknown }, i) => {
      const binding = typeof part?.url === 'string' ? bindings.parts.get(part.url) : undefined;
      if (binding) this.checkValue(part as Record<string, unknown>, binding, `${path()}.extension[${i}]`, issues);
    });
  }

  private checkValue(extension: Record<string, unknown>, binding: Binding, path: string, issues: OperationOutcomeIssue[]): void {
    for (const [key, type] of VALUE_TYPES) {
      if (extension[key] !== undefined) checkCode(this.terminology, extension[key], type, binding.valueSet, binding.extensible, `${path}.value`, issues);
    }
  }
}

function bindingOf(element: ElementDefinition): Binding | undefined {
  const { strength, valueSet } = element.binding ?? {};
  if (!valueSet || (strength !== 'required' && strength !== 'extensible')) return undefined;
  return { valueSet, extensible: strength === 'extensible' };
}
