// The INSi operations on the FHIR API: Patient/$ins-recuperation and Patient/$ins-verification, with
// traits as inputs or on a local identity, under the same access rule as /insi (mutual TLS with an
// INSi certificate), and the demo patients found in the demo reference base.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Identifier, OperationOutcome, Parameters, Patient } from '@medplum/fhirtypes';
import type { Certificat } from '../../src/pki/pki.ts';
import { demoEntries } from '../../src/demo/seed.ts';
import type { IdentiteSynthetique } from '../../src/referentiels/ins/population.ts';
import { demarrerPlateformeIns, https, populationDemo, sortie, STRUCTURE, type PlateformeIns, type Reponse } from './support.ts';

let p: PlateformeIns;
let population: IdentiteSynthetique[];

before(async () => {
  p = await demarrerPlateformeIns();
  population = populationDemo();
});
after(() => p?.close());

const fhir = (chemin: string, corps?: unknown, certificat: Certificat | null = p.auto, method?: string): Promise<Reponse> =>
  https(`${p.urlTls}/fhir/${chemin}`, { corps, method, certificat: certificat ?? undefined, ca: p.pki.ca });
/** Records are written by the hospital's software, not with its INSi certificate (which opens the teleservice only). */
const creer = (patient: unknown): Promise<Reponse> => fhir('Patient', patient, null);

const parametres = (valeurs: [string, string][]): Parameters => ({
  resourceType: 'Parameters',
  parameter: valeurs.map(([name, v]) => (name === 'sexe' ? { name, valueCode: v } : name === 'dateNaissance' ? { name, valueDate: v } : { name, valueString: v })),
});

const traits = (i: IdentiteSynthetique, prenoms = i.prenoms): [string, string][] => [
  ['nomNaissance', i.nomNaissance],
  ...prenoms.map((x): [string, string] => ['prenom', x]),
  ['sexe', i.sexe],
  ['dateNaissance', i.dateNaissance],
];

function code(r: Reponse): string {
  assert.equal(r.status, 200, r.texte);
  assert.equal((r.corps as Parameters).resourceType, 'Parameters');
  return sortie(r.corps, 'code')!.valueCode!;
}

function refus(r: Reponse, status: number, diagnostic: RegExp): void {
  assert.equal(r.status, status, r.texte);
  const oo = r.corps as OperationOutcome;
  assert.equal(oo.resourceType, 'OperationOutcome');
  assert.match(oo.issue[0]!.diagnostics!, diagnostic);
}

describe('Patient/$ins-recuperation', () => {
  test('00: the INS as an FR Core identifier, and the reference traits as an FR Core Patient', async () => {
    const i = population[0]!;
    const r = await fhir('Patient/$ins-recuperation', parametres(traits(i)));
    assert.equal(code(r), '00');
    assert.equal(sortie(r.corps, 'libelle')!.valueString, 'OK');
    const ins = sortie(r.corps, 'ins')!.valueIdentifier as Identifier;
    assert.deepEqual(ins, {
      use: 'official',
      type: { coding: [{ system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203', code: 'INS-NIR-TEST' }] },
      system: 'urn:oid:1.2.250.1.213.1.4.10',
      value: i.nir,
    });
    const patient = sortie(r.corps, 'patient')!.resource as Patient;
    assert.equal(patient.name?.[0]?.family, i.nomNaissance);
    assert.deepEqual(patient.name?.[0]?.given, [i.prenoms[0]]);
    assert.equal(patient.name?.[0]?.extension?.[0]?.valueString, i.prenoms.join(' '));
    assert.equal(patient.gender, i.sexe === 'M' ? 'male' : 'female');
    assert.equal(patient.birthDate, i.dateNaissance);
    assert.equal(patient.extension?.[0]?.valueAddress?.extension?.[0]?.valueCoding?.code, i.lieuNaissance);
  });

  test('GET with the traits in the query string, FHIR gender codes accepted', async () => {
    const i = population[1]!;
    const q = new URLSearchParams([['nomNaissance', i.nomNaissance], ['sexe', i.sexe === 'M' ? 'male' : 'female'], ['dateNaissance', i.dateNaissance], ['prenom', i.prenoms[0]!]]);
    const r = await fhir(`Patient/$ins-recuperation?${q}`);
    assert.equal(code(r), '00');
  });

  test('01 and 02 without identity', async () => {
    const r = await fhir('Patient/$ins-recuperation', parametres([['nomNaissance', 'INCONNU'], ['sexe', 'F'], ['dateNaissance', '1950-01-01']]));
    assert.equal(code(r), '01');
    assert.equal(sortie(r.corps, 'ins'), undefined);
    const h = population.find((x) => x.homonymeDe)!;
    const r2 = await fhir('Patient/$ins-recuperation', parametres(traits(h, [h.prenoms[0]!])));
    assert.equal(code(r2), '02');
    assert.equal(sortie(r2.corps, 'libelle')!.valueString, 'Plusieurs identites trouvees');
  });

  test('by carte Vitale data', async () => {
    const i = population[2]!;
    const r = await fhir('Patient/$ins-recuperation', parametres([['matriculeIndividu', i.nir], ['dateNaissance', i.dateNaissance]]));
    assert.equal(code(r), '00');
    assert.equal((sortie(r.corps, 'ins')!.valueIdentifier as Identifier).value, i.nir);
  });

  test('malformed traits: 400 naming the parameter', async () => {
    const r = await fhir('Patient/$ins-recuperation', parametres([['nomNaissance', 'MARTIN'], ['sexe', 'F'], ['dateNaissance', '01/01/1980']]));
    refus(r, 400, /DateNaissance doit être une date AAAA-MM-JJ/);
    assert.deepEqual((r.corps as OperationOutcome).issue[0]!.expression, ["Parameters.parameter.where(name = 'dateNaissance')"]);
  });
});

describe('Patient/$ins-verification', () => {
  test('00 when the matricule goes with the traits, 01 otherwise', async () => {
    const [i, autre] = [population[3]!, population[4]!];
    assert.equal(code(await fhir('Patient/$ins-verification', parametres([['matricule', i.nir], ['oid', '1.2.250.1.213.1.4.10'], ...traits(i)]))), '00');
    assert.equal(code(await fhir('Patient/$ins-verification', parametres([['matricule', autre.nir], ...traits(i)]))), '01');
  });

  test('an invalid NIR: 400 with the precise reason', async () => {
    const i = population[3]!;
    const r = await fhir('Patient/$ins-verification', parametres([['matricule', `${i.nir.slice(0, 13)}00`], ...traits(i)]));
    refus(r, 400, new RegExp(`La clé 00 est invalide pour le NIR .* : clé attendue ${i.nir.slice(13)}`));
  });
});

describe('access', () => {
  test('over plain HTTP: 401, and the OperationOutcome says what is needed', async () => {
    const r = await fetch(`${p.serveur.fhirUrl}/Patient/$ins-recuperation`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(parametres(traits(population[0]!))) });
    assert.equal(r.status, 401);
    assert.match(((await r.json()) as OperationOutcome).issue[0]!.diagnostics!, /exige un certificat INSI-AUTO ou INSI-MANU/);
  });

  test('over TLS without a certificate: 401; with a certificate of another profile: 403', async () => {
    refus(await fhir('Patient/$ins-recuperation', parametres(traits(population[0]!)), null), 401, /Aucun certificat client/);
    const autre = await p.pki.emettreOrganisation('LOGICIEL-DPI', STRUCTURE);
    refus(await fhir('Patient/$ins-verification', parametres([['matricule', population[0]!.nir], ...traits(population[0]!)]), autre), 403, /Niveau d'accès insuffisant/);
  });
});

describe('on a local identity', () => {
  test('the demo patients are identities of the demo reference base', async () => {
    const [entree] = demoEntries(1).filter((e) => e.resource?.resourceType === 'Patient');
    const cree = await creer({ ...entree!.resource, meta: undefined });
    assert.equal(cree.status, 201, cree.texte);
    const demo = entree!.resource as Patient;
    const r = await fhir(`Patient/${cree.corps.id}/$ins-recuperation`, {});
    assert.equal(code(r), '00');
    assert.equal((sortie(r.corps, 'ins')!.valueIdentifier as Identifier).value, demo.identifier![0]!.value);
    // Its stored INS is checked against its traits.
    assert.equal(code(await fhir(`Patient/${cree.corps.id}/$ins-verification`, {})), '00');
  });

  test('a doubtful or fictitious identity is never sent to INSi (RNIV EXI SI 09)', async () => {
    const i = population[5]!;
    const patient: Patient = { resourceType: 'Patient', name: [{ use: 'official', family: i.nomNaissance, given: i.prenoms }], gender: i.sexe === 'M' ? 'male' : 'female', birthDate: i.dateNaissance };
    const id = (await creer(patient)).corps.id as string;
    const douteuse = await fhir(`Patient/${id}/$identite-douteuse`, { resourceType: 'Parameters', parameter: [{ name: 'motif', valueString: "Pièce d'identité présentée suspecte" }] });
    assert.equal(douteuse.status, 200, douteuse.texte);
    refus(await fhir(`Patient/${id}/$ins-recuperation`, {}), 409, /Identité douteuse \(attribut DOUT\) : le téléservice INSi ne doit pas être appelé/);
    refus(await fhir(`Patient/${id}/$ins-verification`, {}), 409, /Identité douteuse/);
  });

  test('a record without the traits INSi needs: 422 naming the missing one', async () => {
    const id = (await creer({ resourceType: 'Patient', name: [{ family: 'SANSDATE', given: ['ANNE'] }], gender: 'female' })).corps.id as string;
    refus(await fhir(`Patient/${id}/$ins-recuperation`, {}), 422, /la date de naissance \(birthDate\) manque pour interroger l'INSi/);
  });
});
