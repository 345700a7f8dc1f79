// The reference identity base and the INSi service behind both transports: matching rules (birth
// name, first names, sex, birth date, birth place, accents and case), every reply code, the carte
// Vitale and vérification paths, invalid NIRs refused with their reason, and the resumable loader.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rechercherParCarteVitale, rechercherParTraitsIdentite, verifierIns } from '../../src/referentiels/ins/insi/service.ts';
import { genererPopulation, type IdentiteSynthetique } from '../../src/referentiels/ins/population.ts';
import { chargerReference, POPULATION_DEMO } from '../../src/referentiels/ins/reference.ts';
import { normaliserTrait, RequeteInsiInvalide, type TraitsInsi } from '../../src/referentiels/ins/traits.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { populationDemo } from './support.ts';

let serveur: TestServer;
let population: IdentiteSynthetique[];
const db = () => serveur.platform.db;

before(async () => {
  serveur = await startTestServer();
  population = populationDemo();
  await chargerReference(db(), POPULATION_DEMO);
});
after(() => serveur?.close());

const cle = (i: IdentiteSynthetique) => `${i.nomNaissance}|${i.sexe}|${i.dateNaissance}`;
const traits = (i: IdentiteSynthetique, autres: Partial<TraitsInsi> = {}): TraitsInsi => ({
  nomNaissance: i.nomNaissance,
  prenoms: i.prenoms,
  sexe: i.sexe,
  dateNaissance: i.dateNaissance,
  ...autres,
});

/** An identity alone with its birth name, sex and birth date, with several first names. */
function seule(): IdentiteSynthetique {
  const compte = new Map<string, number>();
  for (const i of population) compte.set(cle(i), (compte.get(cle(i)) ?? 0) + 1);
  return population.find((i) => compte.get(cle(i)) === 1 && i.prenoms.length >= 2 && /E/u.test(i.nomNaissance))!;
}

/** A deliberate homonym and its source, both with several first names that differ at the second. */
function homonymes(): [IdentiteSynthetique, IdentiteSynthetique] {
  for (const h of population) {
    const s = h.homonymeDe && population.find((i) => i.nir === h.homonymeDe);
    if (s && h.prenoms.length >= 2 && s.prenoms.length >= 2 && h.prenoms[1] !== s.prenoms[1] && h.lieuNaissance !== s.lieuNaissance) return [h, s];
  }
  throw new Error('no homonym pair in the demo population');
}

describe('normalisation des traits', () => {
  test('accents, case, ligatures and separators are those INSi compares', () => {
    assert.equal(normaliserTrait('Lefèvre'), 'LEFEVRE');
    assert.equal(normaliserTrait("d’Artagnan de l' Hérault"), "D'ARTAGNAN DE L'HERAULT");
    assert.equal(normaliserTrait('  Jean - Pierre  '), 'JEAN-PIERRE');
    assert.equal(normaliserTrait('Œdipe Æsa'), 'OEDIPE AESA');
    assert.equal(normaliserTrait('Müller2'), 'MULLER');
  });
});

describe('récupération par traits', () => {
  test('00: one identity, found with the first names given in order, whatever the accents and case', async () => {
    const i = seule();
    const accentue = i.nomNaissance.toLowerCase().replace('e', 'é');
    for (const prenoms of [i.prenoms, [i.prenoms[0]!], [i.prenoms.slice(0, 2).join(' ').toLowerCase()], []]) {
      const r = await rechercherParTraitsIdentite(db(), traits(i, { nomNaissance: accentue, prenoms }));
      assert.equal(r.code, '00', `prénoms ${JSON.stringify(prenoms)}`);
      assert.equal(r.libelle, 'OK');
      assert.equal(r.identite?.nir, i.nir);
      assert.deepEqual(r.identite?.prenoms, i.prenoms);
      assert.equal(r.identite?.lieuNaissance, i.lieuNaissance);
      assert.equal(r.identite?.oid, '1.2.250.1.213.1.4.10');
    }
  });

  test('01: no identity when a trait differs, or the first names are not the first ones', async () => {
    const i = seule();
    const essais: Partial<TraitsInsi>[] = [
      { nomNaissance: `${i.nomNaissance}X` },
      { sexe: i.sexe === 'M' ? 'F' : 'M' },
      { dateNaissance: '1900-01-01' },
      { prenoms: [i.prenoms[1]!] },
      { prenoms: ['ZEPHYRIN'] },
      { lieuNaissance: i.lieuNaissance === '75056' ? '13055' : '75056' },
    ];
    for (const e of essais) {
      const r = await rechercherParTraitsIdentite(db(), traits(i, e));
      assert.equal(r.code, '01', JSON.stringify(e));
      assert.equal(r.libelle, 'Aucune identite trouvee');
      assert.equal(r.identite, undefined);
    }
  });

  test('02: homonyms share birth name, first name, sex and date; the full first names or the birth place tell them apart', async () => {
    const [h, s] = homonymes();
    const r = await rechercherParTraitsIdentite(db(), traits(h, { prenoms: [h.prenoms[0]!] }));
    assert.equal(r.code, '02');
    assert.equal(r.libelle, 'Plusieurs identites trouvees');
    assert.equal(r.identite, undefined);
    assert.equal((await rechercherParTraitsIdentite(db(), traits(h))).identite?.nir, h.nir);
    assert.equal((await rechercherParTraitsIdentite(db(), traits(s, { prenoms: [s.prenoms[0]!], lieuNaissance: s.lieuNaissance }))).identite?.nir, s.nir);
  });

  test('malformed traits are refused with the field and the reason', async () => {
    const i = seule();
    const cas: [Partial<TraitsInsi>, RegExp][] = [
      [{ nomNaissance: '' }, /NomNaissance est obligatoire/],
      [{ sexe: 'X' }, /Sexe doit valoir M ou F/],
      [{ dateNaissance: '12/03/1980' }, /DateNaissance doit être une date AAAA-MM-JJ/],
      [{ dateNaissance: '1980-13-01' }, /n'est pas une date de naissance possible/],
      [{ lieuNaissance: '7501' }, /LieuNaissance doit être un code COG/],
    ];
    for (const [e, raison] of cas) {
      await assert.rejects(rechercherParTraitsIdentite(db(), traits(i, e)), (err: unknown) => err instanceof RequeteInsiInvalide && raison.test(err.message));
    }
  });
});

describe('récupération par carte Vitale', () => {
  test("the holder's matricule with the birth date: 00, or 01 when the card's traits differ", async () => {
    const i = seule();
    assert.equal((await rechercherParCarteVitale(db(), { matriculeIndividu: i.nir, nomNaissance: i.nomNaissance, dateNaissance: i.dateNaissance })).identite?.nir, i.nir);
    assert.equal((await rechercherParCarteVitale(db(), { matriculeIndividu: i.nir, dateNaissance: '1900-01-01' })).code, '01');
  });

  test("a beneficiary under the insured parent's matricule is found by birth name and date", async () => {
    const [h, s] = homonymes();
    const parent = population.find((p) => p.nir !== h.nir && p.nir !== s.nir)!.nir;
    assert.equal((await rechercherParCarteVitale(db(), { matriculeOuvrantDroit: parent, nomNaissance: h.nomNaissance, dateNaissance: h.dateNaissance })).code, '02');
    const i = seule();
    assert.equal((await rechercherParCarteVitale(db(), { matriculeOuvrantDroit: parent, nomNaissance: i.nomNaissance, dateNaissance: i.dateNaissance })).identite?.nir, i.nir);
  });

  test('an invalid matricule is refused with the reason', async () => {
    const i = seule();
    await assert.rejects(rechercherParCarteVitale(db(), { matriculeIndividu: i.nir.slice(0, 13), dateNaissance: i.dateNaissance }), /MatriculeIndividu invalide : .*la clé manque/);
    await assert.rejects(rechercherParCarteVitale(db(), { dateNaissance: i.dateNaissance }), /MatriculeIndividu ou MatriculeOD/);
  });
});

describe('vérification', () => {
  test('00 when the matricule, its OID and the traits go together; 01 otherwise, without telling which', async () => {
    const i = seule();
    const ok = await verifierIns(db(), i.nir, 'urn:oid:1.2.250.1.213.1.4.10', traits(i));
    assert.equal(ok.code, '00');
    assert.equal(ok.identite?.nir, i.nir);
    const autre = population.find((p) => p.nir !== i.nir)!;
    for (const r of [
      await verifierIns(db(), i.nir, '1.2.250.1.213.1.4.8', traits(i)),
      await verifierIns(db(), autre.nir, undefined, traits(i)),
      await verifierIns(db(), i.nir, undefined, traits(i, { nomNaissance: 'AUTRE' })),
    ]) {
      assert.equal(r.code, '01');
      assert.equal(r.libelle, 'Aucune identite trouvee');
    }
  });

  test('an invalid NIR or OID is refused with the precise reason', async () => {
    const i = seule();
    const fausseCle = String((Number(i.nir.slice(13)) % 97) + 1).padStart(2, '0');
    await assert.rejects(verifierIns(db(), i.nir.slice(0, 13) + fausseCle, undefined, traits(i)), /MatriculeINS invalide : La clé \d\d est invalide .* clé attendue/);
    await assert.rejects(verifierIns(db(), `5${i.nir.slice(1)}`, undefined, traits(i)), /MatriculeINS invalide : Le code sexe 5 est invalide/);
    await assert.rejects(verifierIns(db(), i.nir, '1.2.3', traits(i)), /L'OID 1.2.3 n'est pas celui d'un matricule INS/);
  });
});

// Last: it replaces the demo population the tests above search.
describe('chargement de la base de référence', () => {
  test('resumes and extends a population of the same seed, refuses another seed unless replaced', async () => {
    const d = db();
    await assert.rejects(chargerReference(d, { nombre: 10, graine: 'essai' }), /graine « socle-demo » \(5000 identités\).*--replace/);
    assert.deepEqual(await chargerReference(d, { nombre: 1200, graine: 'essai', remplacer: true, taillePaquet: 500 }), { graine: 'essai', deja: 0, ajoutes: 1200, total: 1200 });
    assert.deepEqual(await chargerReference(d, { nombre: 1200, graine: 'essai' }), { graine: 'essai', deja: 1200, ajoutes: 0, total: 1200 });
    assert.deepEqual(await chargerReference(d, { nombre: 2000, graine: 'essai', taillePaquet: 300 }), { graine: 'essai', deja: 1200, ajoutes: 800, total: 2000 });
    const { rows } = await d.query<{ n: number; distincts: number }>('SELECT count(*)::int AS n, count(DISTINCT nir)::int AS distincts FROM ins_reference_identity');
    assert.deepEqual(rows[0], { n: 2000, distincts: 2000 });
    // The resumed load wrote exactly what a single load writes.
    const attendus = [...genererPopulation({ graine: 'essai', nombre: 2000 })].map((i) => i.nir).sort();
    const charges = (await d.query<{ nir: string }>('SELECT nir FROM ins_reference_identity')).rows.map((r) => r.nir).sort();
    assert.deepEqual(charges, attendus);
  });
});
