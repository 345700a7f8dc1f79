// The resource validator: R4 base rules, required bindings, profiles from real ANS/FR Core packages, and
// package loading (.tgz with long names, folders, broken paths).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ContactPoint, HumanName, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { Validator, type ValidationResult } from '../src/fhir/validation/index.ts';
import { readFhirPackage } from '../src/fhir/validation/package-reader.ts';
import { Terminology } from '../src/fhir/validation/terminology.ts';

const IG = resolve(import.meta.dirname, '../data/ig');
const SAS_110 = join(IG, 'ans.fhir.fr.sas-1.1.0.tgz');
const SAS_120 = join(IG, 'ans.fhir.fr.sas-1.2.0.tgz');
const FR_CORE = join(IG, 'hl7.fhir.fr.core-2.0.0.tgz');
const ANNUAIRE = join(IG, 'ans.fhir.fr.annuaire-1.2.0-snapshot-2.tgz');

const SAS = 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/';

/** An example resource shipped inside the SAS 1.1.0 package (under package/example/). */
function sas110Example(name: string): Resource {
  return JSON.parse(execFileSync('tar', ['-xzOf', SAS_110, `package/example/${name}.json`], { encoding: 'utf8' }));
}

const sas120Example = (name: string): Resource => JSON.parse(execFileSync('tar', ['-xzOf', SAS_120, `package/examples/${name}.json`], { encoding: 'utf8' }));

const expressions = (issues: OperationOutcomeIssue[]) => issues.map((i) => i.expression?.[0]);

function assertWellFormed(result: ValidationResult): void {
  for (const issue of [...result.base, ...result.profile, ...result.warnings]) {
    assert.ok(issue.severity && issue.code && issue.diagnostics && issue.expression?.length, `incomplete issue ${JSON.stringify(issue)}`);
  }
}

function assertValid(result: ValidationResult): void {
  assertWellFormed(result);
  assert.deepEqual([...result.base, ...result.profile], [], JSON.stringify(result, null, 1));
}

/** The one base error of the result, checked to be at `expression`. */
function baseError(result: ValidationResult, expression: string): OperationOutcomeIssue {
  assertWellFormed(result);
  assert.deepEqual(expressions(result.base), [expression], JSON.stringify(result.base, null, 1));
  assert.deepEqual(result.profile, []);
  return result.base[0];
}

describe('validator, R4 base rules (no package)', () => {
  let validator: Validator;
  before(async () => {
    validator = await Validator.create([]);
  });

  it('accepts valid resources', () => {
    const name: HumanName[] = [{ use: 'official', family: 'Martin', given: ['Léa'] }];
    const telecom: ContactPoint[] = [{ system: 'phone', value: '0600000000', use: 'mobile' }];
    assertValid(validator.validate({ resourceType: 'Patient', identifier: [{ use: 'official', value: '1' }], name, telecom, gender: 'female', birthDate: '1980-02-29' }));
    const valueQuantity = { value: 72.5, system: 'http://unitsofmeasure.org', code: 'kg', comparator: '<' };
    assertValid(validator.validate({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] }, valueQuantity } as Resource));
  });

  it('rejects a value of the wrong JSON type', () => {
    const issue = baseError(validator.validate({ resourceType: 'Patient', birthDate: 12 } as unknown as Resource), 'Patient.birthDate');
    assert.match(issue.diagnostics as string, /must be a JSON string, not the number 12/);
  });

  it('rejects a malformed date, quoting it and the expected format', () => {
    const issue = baseError(validator.validate({ resourceType: 'Patient', birthDate: '2020-13-01' }), 'Patient.birthDate');
    assert.match(issue.diagnostics as string, /"2020-13-01" is not a valid FHIR date \(expected YYYY/);
  });

  it('rejects an unknown element', () => {
    const issue = baseError(validator.validate({ resourceType: 'Patient', nom: 'Martin' } as unknown as Resource), 'Patient.nom');
    assert.match(issue.diagnostics as string, /unknown element "nom"/);
  });

  it('rejects missing required elements', () => {
    const result = validator.validate({ resourceType: 'Observation' } as Resource);
    assertWellFormed(result);
    assert.deepEqual(expressions(result.base).sort(), ['Observation.code', 'Observation.status']);
    assert.match(result.base[0].diagnostics as string, /is required \(minimum cardinality 1\) but missing/);
  });

  it('rejects several values where one is allowed', () => {
    const result = validator.validate({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'poids' },
      subject: [{ reference: 'Patient/1' }, { reference: 'Patient/2' }],
    } as unknown as Resource);
    assert.match(baseError(result, 'Observation.subject').diagnostics as string, /takes a single value/);
  });

  it('points into choice elements with ofType()', () => {
    const result = validator.validate({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 'lourd' } } as unknown as Resource);
    baseError(result, 'Observation.value.ofType(Quantity).value');
  });

  it('reports failed invariants with their FHIRPath', () => {
    const result = validator.validate({ resourceType: 'Patient', contact: [{ gender: 'male' }] });
    assert.match(baseError(result, 'Patient.contact[0]').diagnostics as string, /invariant pat-1 not met.*FHIRPath: /);
  });

  it('rejects what Medplum lets through: empty arrays, two values for one choice, integers past 32 bits', () => {
    const observation = (values: object) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...values }) as Resource;
    baseError(validator.validate({ resourceType: 'Patient', telecom: [] } as Resource), 'Patient.telecom');
    const twoValues = baseError(validator.validate(observation({ valueQuantity: { value: 1 }, valueString: 'un' })), 'Observation.value');
    assert.match(twoValues.diagnostics as string, /"valueQuantity", "valueString"/);
    baseError(validator.validate(observation({ valueInteger: 2147483648 })), 'Observation.value.ofType(integer)');
    assertValid(validator.validate(observation({ valueInteger: -2147483648 })));
  });

  it('rejects an unknown resource type', () => {
    baseError(validator.validate({ resourceType: 'Patiente' } as unknown as Resource), 'resourceType');
  });

  describe('required bindings (which Medplum does not check)', () => {
    it('rejects a code outside the ValueSet, naming the value, the element and the ValueSet', () => {
      const issue = baseError(validator.validate({ resourceType: 'Patient', gender: 'x' } as unknown as Resource), 'Patient.gender');
      assert.equal(issue.code, 'code-invalid');
      assert.match(issue.diagnostics as string, /"x"/);
      assert.match(issue.diagnostics as string, /Patient\.gender/);
      assert.match(issue.diagnostics as string, /http:\/\/hl7\.org\/fhir\/ValueSet\/administrative-gender/);
      assert.match(issue.diagnostics as string, /allowed: male, female, other, unknown/);
    });

    it('checks Observation.status', () => {
      const observation = (status: string) => ({ resourceType: 'Observation', status, code: { text: 'x' } }) as Resource;
      assertValid(validator.validate(observation('final')));
      baseError(validator.validate(observation('done')), 'Observation.status');
    });

    it('checks codes inside data types, backbone elements and contained resources', () => {
      const result = validator.validate({
        resourceType: 'Patient',
        telecom: [{ system: 'phone', value: '1' }, { system: 'pigeon', value: '2' }],
        contact: [{ name: { family: 'X', use: 'nickname' }, gender: 'male' }, { name: { family: 'Y' }, gender: 'homme' }],
        contained: [{ resourceType: 'Observation', status: 'done', code: { text: 'x' } }],
      } as unknown as Resource);
      assertWellFormed(result);
      assert.deepEqual(expressions(result.base).sort(), ['Patient.contact[1].gender', 'Patient.contained[0].status', 'Patient.telecom[1].system']);
    });

    it('needs one matching coding in a CodeableConcept', () => {
      const allergy = (clinicalStatus: object) => ({ resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/1' }, clinicalStatus }) as Resource;
      const system = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
      assertValid(validator.validate(allergy({ coding: [{ system: 'http://snomed.info/sct', code: '55561003' }, { system, code: 'active' }] })));
      for (const bad of [{ coding: [{ system, code: 'ongoing' }] }, { coding: [{ system: 'http://other', code: 'active' }] }, { text: 'active' }]) {
        const issue = baseError(validator.validate(allergy(bad)), 'AllergyIntolerance.clinicalStatus');
        assert.match(issue.diagnostics as string, /allergyintolerance-clinical/);
      }
    });
  });

  it('warns, and only warns, about a profile it does not know', () => {
    const result = validator.validate({ resourceType: 'Patient', meta: { profile: ['http://example.org/StructureDefinition/unknown|1.0'] } });
    assertValid(result);
    assert.deepEqual(expressions(result.warnings), ['Patient.meta.profile[0]']);
    assert.equal(result.warnings[0].severity, 'warning');
    assert.match(result.warnings[0].diagnostics as string, /http:\/\/example\.org\/StructureDefinition\/unknown\|1\.0 not checked/);
  });
});

describe('terminology expansion', () => {
  const terminology = new Terminology();
  const concept = [{ code: 'a', concept: [{ code: 'a1', concept: [{ code: 'a11' }] }] }, { code: 'b' }];
  terminology.add({ resourceType: 'CodeSystem', url: 'http://example.org/cs', status: 'active', content: 'complete', concept } as Resource & { url: string });
  const valueSet = (url: string, compose: object) => terminology.add({ resourceType: 'ValueSet', status: 'active', url, compose } as Resource & { url: string });
  valueSet('http://example.org/vs/listed', { include: [{ system: 'http://example.org/other', concept: [{ code: 'x' }] }] });
  valueSet('http://example.org/vs/whole', { include: [{ system: 'http://example.org/cs' }], exclude: [{ system: 'http://example.org/cs', concept: [{ code: 'b' }] }] });
  valueSet('http://example.org/vs/imports', { include: [{ valueSet: ['http://example.org/vs/listed', 'http://example.org/vs/whole'] }] });
  valueSet('http://example.org/vs/union', { include: [{ valueSet: ['http://example.org/vs/listed'] }, { valueSet: ['http://example.org/vs/whole|1.0'] }] });
  valueSet('http://example.org/vs/filtered', { include: [{ system: 'http://example.org/cs', filter: [{ property: 'concept', op: 'is-a', value: 'a' }] }] });
  valueSet('http://example.org/vs/unknown-system', { include: [{ system: 'http://example.org/nowhere' }] });

  it('expands concept lists, whole CodeSystems with nested concepts, excludes and imports', () => {
    const whole = terminology.expand('http://example.org/vs/whole');
    assert.ok(whole?.has('http://example.org/cs', 'a11') && whole.has(undefined, 'a1') && !whole.has('http://example.org/cs', 'b'));
    const union = terminology.expand('http://example.org/vs/union|2.0');
    assert.ok(union?.has('http://example.org/other', 'x') && union.has('http://example.org/cs', 'a'));
    assert.ok(!union?.has('http://example.org/cs', 'x'));
    // valueSet imports within one include intersect: nothing is in both sets
    assert.ok(!terminology.expand('http://example.org/vs/imports')?.has(undefined, 'x'));
  });

  it('gives up, rather than guesses, on filters and unknown CodeSystems', () => {
    assert.equal(terminology.expand('http://example.org/vs/filtered'), undefined);
    assert.equal(terminology.expand('http://example.org/vs/unknown-system'), undefined);
    assert.equal(terminology.expand('http://example.org/vs/absent'), undefined);
  });
});

describe('validator with the SAS 1.1.0 package (.tgz)', () => {
  let validator: Validator;
  before(async () => {
    validator = await Validator.create([SAS_110]);
  });

  it('lists the package, its profiles and search parameters', () => {
    assert.deepEqual(
      validator.packages.map((p) => [p.name, p.version]),
      [['ans.fhir.fr.sas', '1.1.0']],
    );
    assert.deepEqual(validator.packages[0].searchParameters.map((sp) => sp.code).sort(), ['service-type-reference', 'start']);
    assert.ok(validator.knownProfiles().includes(`${SAS}sas-sos-slot-aggregator`));
    assert.ok(validator.knownProfiles().includes('http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur'));
    assert.equal(validator.profileTypes().get(`${SAS}FrPractitionerRegul`), 'Practitioner');
  });

  it('accepts the package examples', () => {
    for (const name of ['Slot-ExampleSlotSOS1', 'Slot-ExampleSlotCPTS1', 'Schedule-ExampleScheduleSOS1', 'Practitioner-ExamplePractitionerRegul1', 'Appointment-1']) {
      const result = validator.validate(sas110Example(name));
      assertValid(result);
      // The SAS examples type their identifiers with the FR code system (fr-v2-0203), outside the
      // extensible R4 identifier-type set: a warning, never an error.
      const unexpected = result.warnings.filter((w) => !/extensible ValueSet/.test(w.diagnostics ?? ''));
      assert.deepEqual(unexpected, [], name);
    }
  });

  it('rejects a practitioner breaking FrPractitionerRegul (HTTP 422), not the base rules', () => {
    const practitioner = sas110Example('Practitioner-ExamplePractitionerRegul1') as Resource & Record<string, any>;
    delete practitioner.active;
    practitioner.name[0].given = ['Sébastien', 'Jean'];
    const result = validator.validate(practitioner);
    assertWellFormed(result);
    assert.deepEqual(result.base, []);
    assert.deepEqual(expressions(result.profile), ['Practitioner.active', 'Practitioner.name[0].given']);
    assert.match(result.profile[1].diagnostics as string, /has 2 values, but its cardinality is 1\.\.1/);
  });

  it('rejects a slot breaking sas-sos-slot-aggregator, with its pattern and required bindings', () => {
    const slot = sas110Example('Slot-ExampleSlotSOS1') as Resource & Record<string, any>;
    slot.status = 'busy';
    slot.serviceType[1].coding[0].code = 'TEL';
    const result = validator.validate(slot);
    assertWellFormed(result);
    assert.deepEqual(result.base, []);
    assert.deepEqual(expressions(result.profile), ['Slot.status', 'Slot.serviceType[1].coding[0]']);
    assert.match(result.profile[0].diagnostics as string, /"busy" does not match .*patternCode: "free"/);
    assert.match(result.profile[1].diagnostics as string, /v3-ActCode\|TEL is not in the required ValueSet .*sas-valueset-typeconsultation/);
  });

  it('keeps base violations in base, not repeated in profile', () => {
    const schedule = sas110Example('Schedule-ExampleScheduleSOS1') as Resource & Record<string, any>;
    schedule.active = 'yes';
    schedule.serviceType = [{ text: 'consultation' }];
    const result = validator.validate(schedule);
    assert.deepEqual(expressions(result.base), ['Schedule.active']);
    assert.deepEqual(expressions(result.profile), ['Schedule.serviceType']);
  });

  it('strips the version of a meta.profile, and rejects a profile of another type', () => {
    const slot = sas110Example('Slot-ExampleSlotSOS1') as Resource & Record<string, any>;
    slot.meta!.profile = [`${SAS}sas-sos-slot-aggregator|1.1.0`];
    assertValid(validator.validate(slot));
    slot.meta!.profile = [`${SAS}FrPractitionerRegul`];
    assert.deepEqual(expressions(validator.validate(slot).profile), ['Slot.meta.profile[0]']);
  });

  it('passes an invariant that evaluates to empty (bdl-8 on an entry without fullUrl)', () => {
    const bundle = sas110Example('Bundle-ExampleBundlePSIndiv') as Resource & Record<string, any>;
    delete bundle.entry[0].fullUrl;
    assertValid(validator.validate(bundle));
  });

  it('validates a typical resource in well under a millisecond', (t) => {
    const patient: Resource = { resourceType: 'Patient', name: [{ family: 'Martin', given: ['Léa'] }], gender: 'female', birthDate: '1980-02-29' };
    const slot = sas110Example('Slot-ExampleSlotSOS1');
    const perCall = (resource: Resource) => {
      for (let i = 0; i < 200; i++) validator.validate(resource);
      const start = performance.now();
      for (let i = 0; i < 1000; i++) validator.validate(resource);
      return performance.now() - start; // ms per 1000 calls = µs per call
    };
    const patientMicros = perCall(patient);
    t.diagnostic(`Patient: ${patientMicros.toFixed(0)} µs/validation; SAS Slot with profile: ${perCall(slot).toFixed(0)} µs/validation`);
    assert.ok(patientMicros < 1000, `${patientMicros} µs`); // ~0.2 ms measured; leaves room for a loaded machine
  });
});

describe('validator with SAS 1.2.0, FR Core 2.0.0 and Annuaire packages', () => {
  let validator: Validator;
  before(async () => {
    validator = await Validator.create([FR_CORE, SAS_120, ANNUAIRE]);
  });

  it('names a package without package.json from its ImplementationGuide', () => {
    assert.deepEqual(
      validator.packages.map((p) => `${p.name}#${p.version}`),
      ['hl7.fhir.fr.core#2.0.0', 'ans.fhir.fr.sas#1.2.0', 'ans.fhir.fr.annuaire#1.2.0-snapshot-2'],
    );
  });

  it('accepts the SAS 1.2.0 examples', () => {
    for (const name of ['Slot-ExampleSlotCPTS1', 'Slot-ExampleSlotPSIndiv1', 'Appointment-12345678', 'Bundle-ExampleBundleCPTS1', 'PractitionerRole-ExamplePractitionerRoleAgregateur']) {
      assertValid(validator.validate(sas120Example(name)));
    }
  });

  it('rejects a CPTS slot with a security label outside its ValueSet', () => {
    const slot = sas120Example('Slot-ExampleSlotCPTS1') as Resource & Record<string, any>;
    slot.meta!.security![1].code = 'SOS';
    const result = validator.validate(slot);
    assertWellFormed(result);
    assert.deepEqual(result.base, []);
    assert.deepEqual(expressions(result.profile), ['Slot.meta.security[1]']);
    assert.match(result.profile[0].diagnostics as string, /TRE-R314-TypeCreneau\|SOS is not in the required ValueSet .*sas-cpts-valueset-typecreneau/);
  });

  it('checks bindings inside a profile\'s backbone elements', () => {
    const appointment = sas120Example('Appointment-12345678') as Resource & Record<string, any>;
    appointment.participant[0].status = 'tentative'; // valid in R4, outside the SAS participant-status ValueSet
    const result = validator.validate(appointment);
    assert.deepEqual(result.base, []);
    assert.deepEqual(expressions(result.profile), ['Appointment.participant[0].status']);
    // the profile's participant definition must not leak into the base type
    delete appointment.meta;
    assertValid(validator.validate(appointment));
  });

  it('checks FR Core patients: required elements and extension slices', () => {
    const patient = {
      resourceType: 'Patient',
      meta: { profile: ['http://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient'] },
      extension: [{ url: 'http://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-ident-reliability', extension: [{ url: 'identityReliability', valueCoding: { code: 'VALI' } }] }],
      name: [{ use: 'official', family: 'Martin', given: ['Léa'] }],
      gender: 'female',
      birthDate: '1980-02-29',
    } as Resource & Record<string, any>;
    assertValid(validator.validate(patient));
    delete patient.birthDate;
    patient.extension[0].url = 'http://example.org/other';
    const result = validator.validate(patient);
    assert.deepEqual(expressions(result.profile), ['Patient.extension', 'Patient.birthDate']);
    assert.match(result.profile[0].diagnostics as string, /slice "identityReliability" takes 1\.\.1 values, found 0 .*fr-core-ident-reliability/);
  });

  it('checks the bindings inside extensions, from the extension definitions (Annuaire as-ext-data-trace)', () => {
    const TRACE = 'https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-data-trace';
    const J83 = 'https://mos.esante.gouv.fr/NOS/JDV_J83-AutoriteEnregistrement-RASS/FHIR/JDV-J83-AutoriteEnregistrement-RASS';
    const TRE_R60 = 'https://mos.esante.gouv.fr/NOS/TRE_R60-AutoriteEnregistrement/FHIR/TRE-R60-AutoriteEnregistrement';
    const organization = (autorite: string, systeme: string) => ({
      resourceType: 'Organization',
      meta: {
        extension: [
          {
            url: TRACE,
            extension: [
              { url: 'autorite-enregistrement', valueCodeableConcept: { coding: [{ system: TRE_R60, code: autorite }] } },
              { url: 'systeme-information', valueCoding: { system: 'https://interop.esante.gouv.fr/ig/fhir/annuaire/CodeSystem/as-cs-type-systeme-information', code: systeme } },
            ],
          },
        ],
      },
      name: 'Cabinet',
    }) as Resource;
    const withJ83 = Validator.create([FR_CORE, SAS_120, ANNUAIRE]).then((v) => {
      v.terminology.add({ resourceType: 'ValueSet', url: J83, status: 'active', compose: { include: [{ system: TRE_R60, concept: [{ code: 'CNOM' }, { code: 'ARS-84' }] }] } } as never);
      return v;
    });
    return withJ83.then((v) => {
      const systeme = 'RPPS';
      const ok = v.validate(organization('CNOM', systeme));
      assert.deepEqual([...ok.base, ...ok.profile], [], JSON.stringify(ok));
      const bad = v.validate(organization('CPAM', 'INCONNU'));
      assert.deepEqual(expressions(bad.profile), ['Organization.meta.extension[0].extension[0].value']);
      assert.match(bad.profile[0].diagnostics as string, /CPAM.*required ValueSet/);
      assert.ok(bad.warnings.some((w) => w.expression?.[0] === 'Organization.meta.extension[0].extension[1].value' && /INCONNU.*extensible/.test(w.diagnostics ?? '')), JSON.stringify(bad.warnings));
    });
  });
});

describe('package loading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'socle-fhir-package-'));
  const manifest = JSON.stringify({ name: 'example.fhir.test', version: '0.1.0' });
  const valueSet = (id: string) => JSON.stringify({ resourceType: 'ValueSet', id, url: `http://example.org/ValueSet/${id}`, status: 'active' });

  it('reads PAX and GNU long file names in a .tgz', async () => {
    const long = 'ValueSet-' + 'x'.repeat(120);
    const tgz = join(dir, 'long-names.tgz');
    writeFileSync(
      tgz,
      gzipSync(Buffer.concat([...tarFile('package/package.json', manifest), ...tarFile(`package/${long}-pax.json`, valueSet('pax'), 'pax'), ...tarFile(`package/${long}-gnu.json`, valueSet('gnu'), 'gnu'), Buffer.alloc(1024)])),
    );
    const contents = await readFhirPackage(tgz);
    assert.equal(contents.name, 'example.fhir.test');
    assert.deepEqual(contents.resources.map((r) => r.id).sort(), ['gnu', 'pax']);
  });

  it('reads a folder holding package/, skipping example/', async () => {
    mkdirSync(join(dir, 'parent/package/example'), { recursive: true });
    writeFileSync(join(dir, 'parent/package/package.json'), manifest);
    writeFileSync(join(dir, 'parent/package/ValueSet-a.json'), valueSet('a'));
    writeFileSync(join(dir, 'parent/package/example/ValueSet-b.json'), valueSet('b'));
    assert.deepEqual((await readFhirPackage(join(dir, 'parent'))).resources.map((r) => r.id), ['a']);
    assert.deepEqual((await readFhirPackage(join(dir, 'parent/package'))).resources.map((r) => r.id), ['a']);
  });

  it('treats a profile without snapshot as unknown, with a warning', async () => {
    const url = 'http://example.org/StructureDefinition/no-snapshot';
    mkdirSync(join(dir, 'nosnap'));
    writeFileSync(join(dir, 'nosnap/package.json'), manifest);
    writeFileSync(
      join(dir, 'nosnap/StructureDefinition-no-snapshot.json'),
      JSON.stringify({ resourceType: 'StructureDefinition', url, name: 'NoSnapshot', status: 'active', kind: 'resource', abstract: false, type: 'Patient', derivation: 'constraint', differential: { element: [{ path: 'Patient.birthDate', min: 1 }] } }),
    );
    const validator = await Validator.create([join(dir, 'nosnap')]);
    assert.deepEqual(validator.knownProfiles(), []);
    assert.ok(validator.notes.some((note) => note.includes(url) && note.includes('no snapshot')));
    const result = validator.validate({ resourceType: 'Patient', meta: { profile: [url] } });
    assertValid(result);
    assert.match(result.warnings[0].diagnostics as string, /no snapshot/);
  });

  it('fails clearly on a bad package path', async () => {
    const missing = join(dir, 'does-not-exist.tgz');
    await assert.rejects(Validator.create([missing]), (err: Error) => err.message.includes(missing) && /not found/.test(err.message));
    const notTgz = join(dir, 'not-a-package.tgz');
    writeFileSync(notTgz, 'hello');
    await assert.rejects(Validator.create([notTgz]), (err: Error) => err.message.includes(notTgz) && /not a gzipped tar/.test(err.message));
    mkdirSync(join(dir, 'empty'));
    await assert.rejects(Validator.create([join(dir, 'empty')]), (err: Error) => err.message.includes(join(dir, 'empty')));
  });
});

/** One file in ustar format, a name over 100 bytes first in a PAX record or a GNU long-name entry. */
function tarFile(name: string, content: string, longName?: 'pax' | 'gnu'): Buffer[] {
  const entry = (entryName: string, data: Buffer, type: string) => [header(entryName, data.length, type), data, Buffer.alloc((512 - (data.length % 512)) % 512)];
  const file = entry(name.slice(0, 100), Buffer.from(content), '0');
  if (longName === 'gnu') return [...entry('././@LongLink', Buffer.from(name + '\0'), 'L'), ...file];
  if (longName !== 'pax') return file;
  const record = ` path=${name}\n`;
  let length = record.length + 1; // a PAX record's length counts its own digits
  while (String(length).length + record.length !== length) length++;
  return [...entry('PaxHeader', Buffer.from(`${length}${record}`), 'x'), ...file];
}

/** Mode, owner and checksum are left blank: the reader does not use them. */
function header(name: string, size: number, type: string): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100);
  block.write(size.toString(8).padStart(11, '0'), 124);
  block.write(type, 156);
  block.write('ustar\u000000', 257);
  return block;
}
