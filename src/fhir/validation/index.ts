// The validator the FHIR REST layer runs on every write: @medplum/core's structural validator against the R4
// base type and the profiles a resource claims, plus the value checks Medplum does not make (required
// bindings first among them).
import { isPrimitiveType, isResourceType, loadDataType, OperationOutcomeError, tryGetDataType, tryGetProfile, validateResource, validateTypedValue } from '@medplum/core';
import type { Constraint, InternalTypeSchema } from '@medplum/core';
import type { CodeSystem, OperationOutcomeIssue, Resource, SearchParameter, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { loadBaseDefinitions } from '../definitions.ts';
import { isEmptyInvariantFailure } from './invariants.ts';
import { ExtensionChecker } from './extensions.ts';
import { describeIssue } from './issues.ts';
import { readFhirPackage } from './package-reader.ts';
import { prepareProfile, validationView } from './profiles.ts';
import { stripVersion, Terminology } from './terminology.ts';
import { ValueChecker } from './value-checks.ts';

export interface ValidationResult {
  /** Violations of the FHIR R4 base definitions: structure, cardinality, types, invariants Medplum checks, required bindings. HTTP 400. */
  base: OperationOutcomeIssue[];
  /** Violations of a profile listed in meta.profile that the validator knows. HTTP 422. */
  profile: OperationOutcomeIssue[];
  /** Non-blocking notes, e.g. a meta.profile the server does not know (severity 'warning'). */
  warnings: OperationOutcomeIssue[];
}

export interface FhirPackage {
  name: string;
  version: string;
  /** canonical URLs of its profiles */
  profiles: string[];
  searchParameters: SearchParameter[];
}

/** What `Validator.structure` computes: the issues of each profile pass (by meta.profile index) and of the base pass (null when skipped). */
export interface StructuralPasses {
  profiles: (OperationOutcomeIssue[] | null)[];
  base: OperationOutcomeIssue[] | null;
}

interface Profile {
  definition: StructureDefinition;
  /** The Medplum type name of its validation view. */
  viewType: string;
  /** Whether its view makes every check of the base definition, so that passing it means passing the base. */
  coversBase: boolean;
  checks: ValueChecker;
}

const BASE_URL = 'http://hl7.org/fhir/StructureDefinition/';
/** Medplum registers a StructureDefinition as a type of its own when its `type` is a URL. */
const VIEW_PREFIX = 'https://socle.invalid/validation-view/';
/** Medplum's warning for two values of one choice element; the value checks report it as an error, with its place. */
const CHOICE_CONFLICT = 'Conflicting choice of type properties';

export class Validator {
  /** The packages loaded, each with its SearchParameters so the search engine can register them. */
  readonly packages: FhirPackage[];
  /** What was loaded only in part (profiles without snapshot, checks Medplum cannot make), one line each, for the log. */
  readonly notes: string[];
  /** By canonical URL, and by `url|version` so that a versioned meta.profile picks its own. */
  private readonly profiles: Map<string, Profile>;
  /** Profiles a package defines but this validator cannot use, with the reason. */
  private readonly unusable: Map<string, string>;
  private readonly baseChecks: ValueChecker;
  /** The bindings of the loaded extension definitions, checked wherever their extensions appear. */
  private readonly extensions: ExtensionChecker;
  /** The ValueSets and CodeSystems bindings are checked against; the terminology module adds the stored ones. */
  readonly terminology: Terminology;

  private constructor(packages: FhirPackage[], notes: string[], profiles: Map<string, Profile>, unusable: Map<string, string>, terminology: Terminology, extensions: ExtensionChecker) {
    this.extensions = extensions;
    this.terminology = terminology;
    this.packages = packages;
    this.notes = notes;
    this.profiles = profiles;
    this.unusable = unusable;
    this.baseChecks = new ValueChecker(terminology);
  }

  /** Loads the FHIR packages (paths to `.tgz` npm-style FHIR packages or to unpacked folders) and indexes their StructureDefinitions (profiles, extensions, logical types ok to skip), ValueSets and CodeSystems. */
  static async create(packagePaths: string[]): Promise<Validator> {
    loadBaseDefinitions();
    const contents = await Promise.all(packagePaths.map(readFhirPackage));
    const terminology = Terminology.withBaseDefinitions();
    const packages: FhirPackage[] = [];
    const notes: string[] = [];
    const profiles = new Map<string, Profile>();
    const unusable = new Map<string, string>();
    const extensions = new ExtensionChecker(terminology);

    // Every package's terminology first: a profile's bindings may point into another package.
    for (const { resources } of contents) {
      for (const resource of resources) {
        if (resource.resourceType === 'ValueSet' || resource.resourceType === 'CodeSystem') terminology.add(resource as ValueSet | CodeSystem);
      }
    }
    for (const { name, version, resources } of contents) {
      const pkg: FhirPackage = { name, version, profiles: [], searchParameters: [] };
      packages.push(pkg);
      for (const resource of resources) {
        if (resource.resourceType === 'SearchParameter') pkg.searchParameters.push(resource);
        if (resource.resourceType === 'StructureDefinition') extensions.add(resource);
        if (resource.resourceType !== 'StructureDefinition' || !isLoadable(resource)) continue;
        const url = resource.url as string;
        const failure = loadProfile(resource, terminology, profiles, notes);
        if (failure) notes.push(`${url}: not usable, ${failure}`);
        if (resource.kind !== 'resource') continue;
        if (failure) unusable.set(url, `${name}#${version} defines it, but ${failure}`);
        else {
          unusable.delete(url);
          pkg.profiles.push(url);
        }
      }
    }
    return new Validator(packages, notes, profiles, unusable, terminology, extensions);
  }

  /** Canonical URLs of all known profiles (for the CapabilityStatement). */
  knownProfiles(): string[] {
    return [...new Set(this.packages.flatMap((p) => p.profiles))].sort();
  }

  /** The resource type each known profile constrains, by canonical URL (for CapabilityStatement.supportedProfile). */
  profileTypes(): Map<string, string> {
    return new Map(this.knownProfiles().map((url) => [url, this.profiles.get(url)?.definition.type as string]));
  }

  /**
   * Medplum's structural passes over the resource: one per profile of meta.profile (null where the profile is
   * unknown or constrains another type), then the base definition unless a profile covering it passed. They
   * depend on the loaded packages alone, so a worker thread holding the same packages computes them alike
   * (pool.ts); the value checks, which read the terminology store, stay with `validate`.
   */
  structure(resource: Resource): StructuralPasses {
    const type = resource?.resourceType;
    if (typeof type !== 'string' || !isResourceType(type)) return { profiles: [], base: [] };
    let baseChecked = false;
    const profiles = (resource.meta?.profile ?? []).map((canonical) => {
      const profile = this.profile(canonical);
      if (!profile || profile.definition.type !== type) return null;
      const issues = runMedplum(resource, profile);
      baseChecked ||= profile.coversBase && !issues.some(isBlocking);
      return issues;
    });
    return { profiles, base: baseChecked ? null : runMedplum(resource) };
  }

  /** `passes` are `structure(resource)` computed elsewhere (a worker thread); computed here when absent. */
  validate(resource: Resource, passes?: StructuralPasses): ValidationResult {
    const result: ValidationResult = { base: [], profile: [], warnings: [] };
    const seen = new Set<string>();
    const add = (list: OperationOutcomeIssue[], issue: OperationOutcomeIssue): void => {
      const key = `${issue.severity}|${issue.code}|${issue.expression?.[0]}|${issue.diagnostics}`;
      if (!seen.has(key)) {
        seen.add(key);
        list.push(issue);
      }
    };
    const type = resource?.resourceType;
    if (typeof type !== 'string' || !isResourceType(type)) {
      add(result.base, { severity: 'error', code: 'invalid', diagnostics: `Unknown resource type ${JSON.stringify(type)}: not an R4 resource`, expression: ['resourceType'] });
      return result;
    }

    // Profile passes first: a clean pass of a profile covering the base definition makes the base pass moot, and
    // halves the cost of a valid profiled write. (Only Medplum's reference-type warnings, which it skips for
    // non-HL7 target profiles, can then be missing.)
    const { profiles, base } = passes ?? this.structure(resource);
    const profileIssues: OperationOutcomeIssue[] = [];
    (resource.meta?.profile ?? []).forEach((canonical, i) => {
      const at = `${type}.meta.profile[${i}]`;
      const profile = this.profile(canonical);
      if (!profile) {
        const reason = this.unusable.get(stripVersion(canonical)) ?? 'this server does not know it';
        profileIssues.push({ severity: 'warning', code: 'not-supported', diagnostics: `Profile ${canonical} not checked: ${reason}`, expression: [at] });
      } else if (profile.definition.type !== type) {
        profileIssues.push({ severity: 'error', code: 'invalid', diagnostics: `Profile ${canonical} constrains ${profile.definition.type}, not ${type}`, expression: [at] });
      } else {
        profileIssues.push(...(profiles[i] ?? []), ...profile.checks.check(resource));
      }
    });

    for (const issue of base ?? []) add(isBlocking(issue) ? result.base : result.warnings, issue);
    for (const issue of this.baseChecks.check(resource)) add(issue.severity === 'warning' ? result.warnings : result.base, issue);
    for (const issue of profileIssues) add(isBlocking(issue) ? result.profile : result.warnings, issue);
    // Conformance to an extension's own definition, claimed by the extension's url: 422 as for a profile.
    for (const issue of this.extensions.check(resource)) add(isBlocking(issue) ? result.profile : result.warnings, issue);
    return result;
  }

  private profile(canonical: string): Profile | undefined {
    return this.profiles.get(canonical) ?? this.profiles.get(stripVersion(canonical));
  }
}

/** Profiles and extensions; logical models are skipped, and base R4 URLs would overwrite Medplum's base types. */
function isLoadable(sd: StructureDefinition): boolean {
  return !!sd.url && sd.derivation === 'constraint' && sd.kind !== 'logical' && !sd.url.startsWith(BASE_URL);
}

/** Indexes the profile in Medplum and in `profiles`; returns why it cannot be used, if so. */
function loadProfile(sd: StructureDefinition, terminology: Terminology, profiles: Map<string, Profile>, notes: string[]): string | undefined {
  if (!sd.snapshot?.element?.length) return 'it has no snapshot (Medplum validates against snapshots only)';
  const { profile, notes: losses } = prepareProfile(sd);
  const url = sd.url as string;
  const viewType = `${VIEW_PREFIX}${url}|${sd.version ?? ''}`;
  try {
    loadDataType(validationView(profile, viewType));
    loadDataType(profile);
  } catch (err) {
    return `Medplum cannot parse it (${(err as Error).message})`;
  }
  const schema = tryGetProfile(url) as InternalTypeSchema; // the parse just indexed (another version may follow)
  notes.push(...losses.map((loss) => `${url}: ${loss}`));
  const base = sd.kind === 'resource' ? tryGetDataType(sd.type) : undefined;
  const coversBase = !!base && covers(tryGetDataType(viewType) as InternalTypeSchema, base);
  const loaded: Profile = { definition: profile, viewType, coversBase, checks: new ValueChecker(terminology, schema) };
  profiles.set(url, loaded);
  if (sd.version) profiles.set(`${url}|${sd.version}`, loaded);
  return undefined;
}

/** Every root element and invariant of `base` is in `view`, with a cardinality and types within the base's. */
function covers(view: InternalTypeSchema, base: InternalTypeSchema): boolean {
  const invariantsCovered = (mine: Constraint[] = [], theirs: Constraint[] = []) =>
    theirs.every((c) => c.severity !== 'error' || mine.some((m) => m.key === c.key && m.expression === c.expression));
  return (
    invariantsCovered(view.constraints, base.constraints) &&
    Object.entries(base.elements).every(([key, element]) => {
      const mine = view.elements[key];
      return (
        !!mine &&
        mine.min >= element.min &&
        mine.max <= element.max &&
        invariantsCovered(mine.constraints, element.constraints) &&
        // Tools name some primitive types differently across R4 builds (Resource.id: id, string).
        mine.type.every((t) => element.type.some((b) => b.code === t.code || (isPrimitiveType(b.code) && isPrimitiveType(t.code))))
      );
    })
  );
}

function runMedplum(resource: Resource, profile?: Profile): OperationOutcomeIssue[] {
  let issues: OperationOutcomeIssue[];
  try {
    issues = profile ? validateTypedValue({ type: profile.viewType, value: resource }) : validateResource(resource);
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) {
      const against = profile ? `profile ${profile.definition.url}` : `the R4 definition of ${resource.resourceType}`;
      return [{ severity: 'error', code: 'exception', diagnostics: `Could not validate against ${against}: ${(err as Error).message}`, expression: [resource.resourceType] }];
    }
    issues = err.outcome.issue ?? [];
  }
  return issues
    .filter((issue) => !isEmptyInvariantFailure(issue, resource) && !issue.details?.text?.startsWith(CHOICE_CONFLICT))
    .map((issue) => describeIssue(issue, resource, profile?.definition));
}

/** An invariant Medplum's FHIRPath engine cannot evaluate says nothing about the resource: a warning. */
function isBlocking(issue: OperationOutcomeIssue): boolean {
  return (issue.severity === 'error' || issue.severity === 'fatal') && issue.code !== 'processing';
}
