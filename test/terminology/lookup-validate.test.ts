// CodeSystem/$lookup, $validate-code (CodeSystem and ValueSet) and $subsumes over HTTP, on the shipped
// French nomenclatures and on a test code system with a hierarchy: unknown system, unknown code,
// inactive code, wrong display and version mismatch each get a precise answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from '../support/server.ts';
import { assertOutcome, httpFor, type Http } from '../support/fhir-client.ts';
import { anatomy, G08, G15, J106, J107, lookupProperty, q, R38, read, SAS_TYPE_CONSULTATION } from './helpers.ts';

let server: TestServer;
let h: Http;
const ANATOMY = `urn:socle:test:anatomy:${randomUUID()}`;

before(async () => {
  server = await startTestServer();
  h = httpFor(server.fhirUrl);
  for (const version of ['1', '2']) {
    const res = await h.post('CodeSystem', anatomy(ANATOMY, version, version === '2' ? [{ code: 'rein', display: 'Rein' }] : []));
    assert.equal(res.status, 201, res.text);
  }
});
after(async () => {
  await server?.close();
});

describe('CodeSystem/$lookup', () => {
  test('a profession of TRE_G15: display, code system name and version', async () => {
    const res = await h.get(`CodeSystem/$lookup?${q({ system: G15, code: '10' })}`);
    assert.equal(res.status, 200, res.text);
    const p = read(res.body);
    assert.equal(p.display, 'Médecin');
    assert.equal(p.name, 'Profession de santé');
    assert.equal(p.version, '20250328120000');
    assert.deepEqual(lookupProperty(res.body, 'inactive'), [false]);
  });

  test('on the instance, and with a coding in a POSTed Parameters', async () => {
    const byId = await h.get(`CodeSystem/TRE-G15-ProfessionSante/$lookup?code=60`);
    assert.equal(read(byId.body).display, 'Infirmier');
    const posted = await h.post('CodeSystem/$lookup', { resourceType: 'Parameters', parameter: [{ name: 'coding', valueCoding: { system: R38, code: 'SM26' } }] });
    assert.equal(posted.status, 200, posted.text);
    const designations = read(posted.body).all('designation').map((d) => d.part?.find((x) => x.name === 'value')?.valueString);
    assert.deepEqual(designations, ['Qualifié MG']);
  });

  test('an inactive (deprecated) code says so in its properties', async () => {
    const res = await h.get(`CodeSystem/$lookup?${q({ system: G15, code: '35' })}`);
    assert.equal(read(res.body).display, 'Aide-soignant');
    assert.deepEqual(lookupProperty(res.body, 'inactive'), [true]);
    assert.deepEqual(lookupProperty(res.body, 'status'), ['deprecated']);
  });

  test('parents and children of a hierarchical code', async () => {
    const res = await h.get(`CodeSystem/$lookup?${q({ system: ANATOMY, code: 'coeur' })}`);
    assert.deepEqual(lookupProperty(res.body, 'parent'), ['corps']);
    assert.deepEqual(lookupProperty(res.body, 'child'), ['ventricule-droit', 'ventricule-gauche']);
    const only = await h.get(`CodeSystem/$lookup?${q({ system: ANATOMY, code: 'coeur', property: 'organe' })}`);
    assert.deepEqual(lookupProperty(only.body, 'organe'), ['oui']);
    assert.deepEqual(lookupProperty(only.body, 'parent'), []);
  });

  test('an unknown system, an unknown code and an unknown version are 404 with the reason', async () => {
    assertOutcome(await h.get(`CodeSystem/$lookup?${q({ system: 'urn:socle:nothing', code: '10' })}`), { status: 404, diagnostics: 'CodeSystem urn:socle:nothing is not known' });
    assertOutcome(await h.get(`CodeSystem/$lookup?${q({ system: G15, code: '12' })}`), { status: 404, diagnostics: `Code "12" is not in CodeSystem ${G15}|20250328120000` });
    assertOutcome(await h.get(`CodeSystem/$lookup?${q({ system: ANATOMY, code: 'coeur', version: '9' })}`), { status: 404, diagnostics: 'has no version 9 on this server (versions: 2, 1)' });
    assertOutcome(await h.get(`CodeSystem/$lookup?${q({ system: G15 })}`), { status: 400, diagnostics: 'code' });
  });

  test('a version picks that version of the code system', async () => {
    assertOutcome(await h.get(`CodeSystem/$lookup?${q({ system: ANATOMY, code: 'rein', version: '1' })}`), { status: 404, diagnostics: `${ANATOMY}|1` });
    assert.equal(read((await h.get(`CodeSystem/$lookup?${q({ system: ANATOMY, code: 'rein' })}`)).body).display, 'Rein');
  });
});

describe('CodeSystem/$validate-code', () => {
  const validate = async (params: Record<string, string>) => {
    const res = await h.get(`CodeSystem/$validate-code?${q(params)}`);
    assert.equal(res.status, 200, res.text);
    return read(res.body);
  };

  test('a valid code answers true with its display', async () => {
    const p = await validate({ url: G15, code: '60' });
    assert.equal(p.result, true);
    assert.equal(p.display, 'Infirmier');
    assert.equal(p.message, undefined);
  });

  test('a wrong display keeps the code valid, with a warning naming the expected display', async () => {
    const p = await validate({ url: G15, code: '60', display: 'Infirmière de bloc' });
    assert.equal(p.result, true);
    assert.match(String(p.message), /display "Infirmière de bloc" is not a display of code 60 .*expected "Infirmier"/);
    assert.equal((await validate({ url: G15, code: '60', display: 'infirmier' })).message, undefined, 'displays compare without case');
  });

  test('an unknown code, an unknown system and a missing version answer false with the reason', async () => {
    const unknown = await validate({ url: G15, code: '12' });
    assert.equal(unknown.result, false);
    assert.match(String(unknown.message), /Unknown code "12" in CodeSystem .*TRE-G15-ProfessionSante\|20250328120000/);
    const system = await validate({ url: 'urn:socle:nothing', code: '1' });
    assert.equal(system.result, false);
    assert.match(String(system.message), /CodeSystem urn:socle:nothing is not known/);
    const version = await validate({ url: G15, code: '10', version: '19990101' });
    assert.equal(version.result, false);
    assert.match(String(version.message), /has no version 19990101 .*versions: 20250328120000/);
  });

  test('an inactive code is valid, with a message saying it is inactive', async () => {
    const p = await validate({ url: G08, code: '9' });
    assert.equal(p.result, true);
    assert.equal(p.display, 'N° Etudiant');
    assert.match(String(p.message), /Code 9 of .*TRE-G08-TypeIdentifiantPersonne.* is inactive/);
  });

  test('codes of a case-insensitive code system match whatever their case; coding and codeableConcept inputs', async () => {
    assert.equal((await validate({ url: R38, code: 'sm54' })).result, true);
    const coding = await h.post('CodeSystem/$validate-code', { resourceType: 'Parameters', parameter: [{ name: 'coding', valueCoding: { system: ANATOMY, code: 'Coeur' } }] });
    assert.equal(read(coding.body).result, false, 'the test code system is case-sensitive');
    const concept = await h.post(`CodeSystem/$validate-code?${q({ url: G15 })}`, {
      resourceType: 'Parameters',
      parameter: [{ name: 'codeableConcept', valueCodeableConcept: { coding: [{ system: G15, code: 'XX' }, { system: G15, code: '40' }] } }],
    });
    assert.equal(read(concept.body).result, true);
    assert.equal(read(concept.body).display, 'Chirurgien-Dentiste');
  });
});

describe('ValueSet/$validate-code', () => {
  const validate = async (params: Record<string, string>) => {
    const res = await h.get(`ValueSet/$validate-code?${q(params)}`);
    assert.equal(res.status, 200, res.text);
    return read(res.body);
  };

  test('a member of JDV_J106 is valid; a deprecated profession, valid in TRE_G15, is not in the set', async () => {
    assert.equal((await validate({ url: J106, system: G15, code: '10' })).result, true);
    const out = await validate({ url: J106, system: G15, code: '93' });
    assert.equal(out.result, false);
    assert.match(String(out.message), /Code 93 of .*TRE-G15-ProfessionSante.* is valid in its code system but not in ValueSet .*JDV-J106-EnsembleProfession-RASS/);
  });

  test('a code of the wrong system, an unknown code, an unknown system: false with the reason', async () => {
    const wrongSystem = await validate({ url: J107, system: G15, code: 'SM54' });
    assert.equal(wrongSystem.result, false);
    assert.match(String(wrongSystem.message), /Unknown code "SM54" in CodeSystem .*TRE-G15/);
    const unknownSystem = await validate({ url: J107, system: 'urn:socle:nothing', code: 'SM54' });
    assert.match(String(unknownSystem.message), /CodeSystem urn:socle:nothing is not known/);
    assert.equal((await validate({ url: J107, system: R38, code: 'SM54' })).display, 'Médecine générale (SM)');
  });

  test('a system version other than the one the value set uses is a version mismatch', async () => {
    const p = await validate({ url: J106, system: G15, code: '10', systemVersion: '20200101120000' });
    assert.equal(p.result, false);
    assert.match(String(p.message), /Version mismatch: .* from .*TRE-G15-ProfessionSante\|20250328120000, not from version 20200101120000/);
  });

  test('versions of a value set: SAS 1.1.0 and 1.2.0 are both served, an unknown version is 404', async () => {
    for (const valueSetVersion of ['1.1.0', '1.2.0']) {
      const p = await validate({ url: SAS_TYPE_CONSULTATION, valueSetVersion, system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' });
      assert.equal(p.result, true);
      assert.equal(p.display, 'Téléconsultation');
    }
    assertOutcome(await h.get(`ValueSet/$validate-code?${q({ url: SAS_TYPE_CONSULTATION, valueSetVersion: '0.9', code: 'VR' })}`), { status: 404, diagnostics: 'versions: 1.2.0, 1.1.0' });
    assertOutcome(await h.get(`ValueSet/$validate-code?${q({ url: 'urn:socle:no-such-set', code: 'VR' })}`), { status: 404, diagnostics: 'ValueSet urn:socle:no-such-set is not known' });
  });

  test('an inline value set with a filter, a wrong display and an inactive member', async () => {
    const valueSet = { resourceType: 'ValueSet', status: 'active', compose: { include: [{ system: ANATOMY, filter: [{ property: 'concept', op: 'is-a', value: 'corps' }] }] } };
    const ask = async (code: string, display?: string) =>
      read(
        (
          await h.post('ValueSet/$validate-code', {
            resourceType: 'Parameters',
            parameter: [{ name: 'valueSet', resource: valueSet }, { name: 'coding', valueCoding: { system: ANATOMY, code, display } }],
          })
        ).body,
      );
    assert.equal((await ask('ventricule-gauche')).result, true);
    const retired = await ask('rate-accessoire');
    assert.equal(retired.result, true);
    assert.match(String(retired.message), /inactive/);
    assert.match(String((await ask('coeur', 'Cardiaque')).message), /expected "Cœur"/);
    assert.equal((await ask('coeur', 'Myocarde')).message, undefined, 'a designation is an accepted display');
  });
});

describe('the FHIR R4 base terminology, read-only', () => {
  test('lookup, expansion, membership and subsumption without storing anything', async () => {
    assert.equal(read((await h.get(`CodeSystem/$lookup?${q({ system: 'http://hl7.org/fhir/administrative-gender', code: 'male' })}`)).body).display, 'Male');
    const genders = await h.get(`ValueSet/$expand?${q({ url: 'http://hl7.org/fhir/ValueSet/administrative-gender' })}`);
    assert.deepEqual(genders.body.expansion.contains.map((c: { code: string }) => c.code), ['male', 'female', 'other', 'unknown']);
    const married = await h.get(`ValueSet/$validate-code?${q({ url: 'http://hl7.org/fhir/ValueSet/marital-status', system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' })}`);
    assert.equal(read(married.body).display, 'Married');
    const encounter = await h.get(`CodeSystem/$subsumes?${q({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', codeA: '_ActEncounterCode', codeB: 'AMB' })}`);
    assert.equal(read(encounter.body).outcome, 'subsumes');
  });
});

describe('CodeSystem/$subsumes', () => {
  const subsumes = async (codeA: string, codeB: string) => {
    const res = await h.get(`CodeSystem/$subsumes?${q({ system: ANATOMY, codeA, codeB })}`);
    assert.equal(res.status, 200, res.text);
    return read(res.body).outcome;
  };

  test('equivalent, subsumes, subsumed-by and not-subsumed', async () => {
    assert.equal(await subsumes('coeur', 'coeur'), 'equivalent');
    assert.equal(await subsumes('corps', 'ventricule-gauche'), 'subsumes');
    assert.equal(await subsumes('ventricule-droit', 'coeur'), 'subsumed-by');
    assert.equal(await subsumes('poumon', 'coeur'), 'not-subsumed');
  });

  test('unknown code or system: 404 naming it', async () => {
    assertOutcome(await h.get(`CodeSystem/$subsumes?${q({ system: ANATOMY, codeA: 'coeur', codeB: 'foie' })}`), { status: 404, diagnostics: 'Code "foie"' });
    assertOutcome(await h.get(`CodeSystem/$subsumes?${q({ system: 'urn:socle:nothing', codeA: 'a', codeB: 'b' })}`), { status: 404, diagnostics: 'not known' });
  });
});
