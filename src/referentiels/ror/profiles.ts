// The key 1..1 constraints of the ROR profiles (ans.fhir.fr.ror, ME V3), checked for resources that
// claim a ROR profile in meta.profile. No compiled ROR package is vendored, so the validator cannot
// check them; a write hook does, inside the write transaction, so that every path that writes (REST,
// Bundles, PATCH, $capacites, importers) is covered and a failure rolls the write back (422).
import type { Extension, HealthcareService, Location, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { FhirCore } from '../../fhir/core.ts';
import { FhirError } from '../../fhir/outcome.ts';
import { CAPACITY_FIELDS, EXT, PROFILE, TRE } from './nomenclatures.ts';

type Issue = OperationOutcomeIssue;

export function guardRorProfiles(core: FhirCore): void {
  core.onWrite(async (_tx, stored) => {
    if (stored.deleted || (stored.resourceType !== 'HealthcareService' && stored.resourceType !== 'Location')) return;
    const resource = JSON.parse(stored.json) as Resource;
    const issues = rorIssues(resource);
    if (issues.length > 0) throw new FhirError(422, issues);
  });
}

/** What the resource misses of the ROR profile it claims (nothing when it claims none). */
export function rorIssues(resource: Resource): Issue[] {
  const profiles = resource.meta?.profile ?? [];
  if (resource.resourceType === 'HealthcareService' && profiles.includes(PROFILE.healthcareService)) return healthcareServiceIssues(resource);
  if (resource.resourceType === 'Location' && profiles.includes(PROFILE.location)) return locationIssues(resource);
  return [];
}

const issue = (profile: string, expression: string, message: string): Issue => ({
  severity: 'error',
  code: 'invariant',
  diagnostics: `${message} (profile ${profile.split('/').pop()})`,
  expression: [expression],
});

const withUrl = (extensions: Extension[] | undefined, url: string) => (extensions ?? []).filter((e) => e.url === url);

function exactlyOne(out: Issue[], profile: string, expression: string, count: number, what: string): void {
  if (count !== 1) out.push(issue(profile, expression, `${what} is required exactly once (1..1), found ${count}`));
}

function healthcareServiceIssues(hs: HealthcareService): Issue[] {
  const p = PROFILE.healthcareService;
  const out: Issue[] = [];
  exactlyOne(out, p, 'HealthcareService.identifier', hs.identifier?.length ?? 0, 'identifier (identifiantOffre)');
  exactlyOne(out, p, 'HealthcareService.type', hs.type?.length ?? 0, 'type (champActivite)');
  const inSystem = (concepts: HealthcareService['specialty'], system: string) => (concepts ?? []).filter((c) => c.coding?.some((k) => k.system === system)).length;
  exactlyOne(out, p, 'HealthcareService.specialty', inSystem(hs.specialty, TRE.activiteOperationnelle), `specialty[operationalActivity] (activiteOperationnelle, ${TRE.activiteOperationnelle})`);
  exactlyOne(out, p, 'HealthcareService.characteristic', inSystem(hs.characteristic, TRE.modePriseEnCharge), `characteristic[careMode] (modePriseEnCharge, ${TRE.modePriseEnCharge})`);
  const sensitive = withUrl(hs.extension, EXT.sensitiveUnit);
  exactlyOne(out, p, 'HealthcareService.extension', sensitive.length, 'extension ror-healthcareservice-sensitive-unit (uniteSensible)');
  if (sensitive.length === 1 && typeof sensitive[0].valueBoolean !== 'boolean') {
    out.push(issue(p, 'HealthcareService.extension', 'ror-healthcareservice-sensitive-unit must carry a valueBoolean'));
  }
  const patientType = withUrl(hs.extension, EXT.patientType);
  exactlyOne(out, p, 'HealthcareService.extension', patientType.length, 'extension ror-healthcareservice-patient-type (publicPrisEnCharge)');
  if (patientType.length === 1) {
    const ranges = withUrl(patientType[0].extension, 'ageRange');
    exactlyOne(out, p, 'HealthcareService.extension', ranges.length, 'ror-healthcareservice-patient-type.ageRange');
    const range = ranges[0]?.valueRange;
    if (ranges.length === 1 && (range?.low?.value === undefined || range.high?.value === undefined)) {
      out.push(issue(p, 'HealthcareService.extension', 'ror-healthcareservice-patient-type.ageRange must give low and high ages'));
    }
  }
  exactlyOne(out, p, 'HealthcareService.extension', withUrl(hs.extension, EXT.metaCreationDate).length, 'extension ror-meta-creation-date (dateCreation)');
  return out;
}

function locationIssues(location: Location): Issue[] {
  const p = PROFILE.location;
  const out: Issue[] = [];
  const cog = withUrl(location.extension, EXT.communeCog);
  exactlyOne(out, p, 'Location.extension', cog.length, 'extension ror-commune-cog (communeCog)');
  if (cog.length === 1 && !cog[0].valueCodeableConcept?.coding?.some((c) => c.code)) {
    out.push(issue(p, 'Location.extension', 'ror-commune-cog must carry a valueCodeableConcept with the commune code'));
  }
  exactlyOne(out, p, 'Location.extension', withUrl(location.extension, EXT.metaCreationDate).length, 'extension ror-meta-creation-date (dateCreation)');
  withUrl(location.extension, EXT.supportedCapacity).forEach((capacity, i) => {
    const at = `Location.extension.where(url='${EXT.supportedCapacity}')[${i}]`;
    const sub = (name: string) => withUrl(capacity.extension, name);
    for (const [name, field] of Object.entries(CAPACITY_FIELDS)) {
      const found = sub(name);
      if (field.required) exactlyOne(out, p, at, found.length, `ror-location-supported-capacity.${name}`);
      if (found.length === 1 && !found[0].valueCodeableConcept?.coding?.length) out.push(issue(p, at, `ror-location-supported-capacity.${name} must be a valueCodeableConcept`));
    }
    const nb = sub('nbCapacity');
    exactlyOne(out, p, at, nb.length, 'ror-location-supported-capacity.nbCapacity (nombreCapacite)');
    if (nb.length === 1 && (!Number.isInteger(nb[0].valueInteger) || (nb[0].valueInteger as number) < 0)) {
      out.push(issue(p, at, 'ror-location-supported-capacity.nbCapacity must be a non-negative valueInteger'));
    }
    const date = sub('capacityUpdateDate');
    exactlyOne(out, p, at, date.length, 'ror-location-supported-capacity.capacityUpdateDate (dateMAJCapacite)');
    if (date.length === 1 && !date[0].valueDateTime) out.push(issue(p, at, 'ror-location-supported-capacity.capacityUpdateDate must be a valueDateTime'));
  });
  withUrl(location.extension, EXT.equipment).forEach((equipment, i) => {
    const at = `Location.extension.where(url='${EXT.equipment}')[${i}]`;
    codedOnce(out, at, withUrl(equipment.extension, 'equipmentType'), 'ror-location-equipment.equipmentType (typeEquipement)');
    for (const limit of withUrl(equipment.extension, EXT.equipmentLimit)) {
      codedOnce(out, at, withUrl(limit.extension, 'equipmentFeature'), 'ror-location-equipment-limit.equipmentFeature (typeCaracteristique)');
      const value = withUrl(limit.extension, 'limitValue');
      exactlyOne(out, p, at, value.length, 'ror-location-equipment-limit.limitValue (valeurLimite)');
      if (value.length === 1 && typeof value[0].valueQuantity?.value !== 'number') out.push(issue(p, at, 'ror-location-equipment-limit.limitValue must be a valueQuantity with a value'));
    }
  });
  withUrl(location.extension, EXT.residentialCapacity).forEach((capacity, i) => {
    const at = `Location.extension.where(url='${EXT.residentialCapacity}')[${i}]`;
    codedOnce(out, at, withUrl(capacity.extension, 'residentialType'), 'ror-location-residential-capacity.residentialType (typeHabitation)');
    const nb = withUrl(capacity.extension, 'residentialNumber');
    if (nb.some((e) => !Number.isInteger(e.valueInteger) || (e.valueInteger as number) < 0)) out.push(issue(p, at, 'ror-location-residential-capacity.residentialNumber must be a non-negative valueInteger'));
  });
  return out;
}

/** A 1..1 sub-extension whose value is a CodeableConcept. */
function codedOnce(out: Issue[], at: string, found: Extension[], what: string): void {
  exactlyOne(out, PROFILE.location, at, found.length, what);
  if (found.length === 1 && !found[0].valueCodeableConcept?.coding?.length) out.push(issue(PROFILE.location, at, `${what} must be a valueCodeableConcept`));
}
