// INS identifiers: NIR/NIA clé and parsing, OIDs, the synthetic population, and `socle ins`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InsError, type CodeErreurIns } from '../../src/referentiels/ins/erreurs.ts';
import { chargerCommunes } from '../../src/referentiels/ins/lieux.ts';
import { formatNir, isValidNir, nirKey, parseNia, parseNir } from '../../src/referentiels/ins/nir.ts';
import { INS_NIA, INS_NIR, INS_NIR_TEST, OID_INS_NIR_DEMO, systemeIns } from '../../src/referentiels/ins/oids.ts';
import { genererPopulation, type IdentiteSynthetique } from '../../src/referentiels/ins/population.ts';

const racine = fileURLToPath(new URL('../../', import.meta.url));
const communes = chargerCommunes();

// Independent of the implementation: BigInt arithmetic and the substitution written out again.
function cleReference(corps: string): string {
  const n = BigInt(corps.slice(0, 5) + ({ A: '19', B: '18' }[corps[6]!] ?? corps.slice(5, 7)) + corps.slice(7));
  return String(97n - (n % 97n)).padStart(2, '0');
}
const avecCle = (corps: string) => corps + cleReference(corps);

function echoue(valeur: string, code: CodeErreurIns, message?: RegExp | string): void {
  assert.throws(
    () => parseNir(valeur),
    (err: unknown) => {
      assert.ok(err instanceof InsError, `InsError attendue pour « ${valeur} »`);
      assert.equal(err.code, code, `« ${valeur} » : ${err.message}`);
      if (typeof message === 'string') assert.equal(err.message, message);
      else if (message) assert.match(err.message, message);
      return true;
    },
  );
}

describe('clé du NIR', () => {
  // Hand-computed: N = 97 × q + r, clé = 97 − r. The test re-checks each division with BigInt.
  const vecteurs: { corps: string; n: bigint; q: bigint; r: bigint; cle: string; source: string }[] = [
    // The worked example of specs/referentiels.md §5.1.
    { corps: '1000175101001', n: 1000175101001n, q: 10311083515n, r: 46n, cle: '51', source: 'spec §5.1' },
    // A man born in December 1984 in Paris (75 123 used as written), order 456.
    { corps: '1841275123456', n: 1841275123456n, q: 18982217767n, r: 57n, cle: '40', source: 'à la main' },
    // Corse-du-Sud: 2A → 19, i.e. the number with 20 minus 1,000,000 (1850520004012 − 1000000).
    { corps: '185052A004012', n: 1850519004012n, q: 19077515505n, r: 27n, cle: '70', source: 'à la main, 2A' },
    // Haute-Corse: 2B → 18, i.e. minus 2,000,000; the clé 3 is written "03".
    { corps: '185052B033012', n: 1850518033012n, q: 19077505494n, r: 94n, cle: '03', source: 'à la main, 2B' },
    // Born in Corsica before 1976: department 20, no substitution.
    { corps: '1850520004012', n: 1850520004012n, q: 19077525814n, r: 54n, cle: '43', source: 'à la main, 20' },
    // Réunion (974), commune 11, and a provisional number (7) born in Algeria (99 352).
    { corps: '2820897411012', n: 2820897411012n, q: 29081416608n, r: 36n, cle: '61', source: 'à la main, DOM' },
    { corps: '7990199352001', n: 7990199352001n, q: 82373189195n, r: 86n, cle: '11', source: 'à la main, NIA' },
  ];

  for (const v of vecteurs) {
    it(`${v.corps} → ${v.cle} (${v.source})`, () => {
      assert.equal(v.q * 97n + v.r, v.n, 'division à la main');
      assert.equal(String(97n - v.r).padStart(2, '0'), v.cle);
      assert.equal(cleReference(v.corps), v.cle);
      assert.equal(nirKey(v.corps), v.cle);
      assert.equal(parseNir(v.corps + v.cle).cle, v.cle);
    });
  }

  it('Corsican substitution equals subtracting 1,000,000 (2A) or 2,000,000 (2B)', () => {
    assert.equal((1850520004012n - 1_000_000n) % 97n, 27n);
    assert.equal((1850520033012n - 2_000_000n) % 97n, 94n);
  });

  it('(N + clé) is a multiple of 97 for random bodies', () => {
    let x = 12345;
    for (let i = 0; i < 2000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const corps = `1${String(x).padStart(12, '0').slice(-12)}`;
      assert.equal((BigInt(corps) + BigInt(nirKey(corps))) % 97n, 0n, corps);
    }
  });
});

describe('parseNir', () => {
  it('decodes a NIR and ignores spaces, dots and case', () => {
    const p = parseNir(' 1 84 12 75.123.456 40 ');
    assert.deepEqual(p, {
      nir: '184127512345640',
      type: 'NIR',
      codeSexe: '1',
      sexe: 'M',
      provisoire: false,
      annee: '84',
      mois: '12',
      moisConnu: true,
      departement: '75',
      commune: '123',
      lieuNaissance: '75123',
      neEtranger: false,
      ordre: '456',
      cle: '40',
    });
    assert.equal(parseNir('1\u00a085\u202f05 2a 004 012 70').departement, '2A');
  });

  it('decodes overseas, abroad, Corsica and provisional numbers', () => {
    const dom = parseNir('282089741101261');
    assert.equal(dom.departement, '974');
    assert.equal(dom.commune, '11');
    assert.equal(dom.sexe, 'F');
    const etranger = parseNia('799019935200111');
    assert.equal(etranger.type, 'NIA');
    assert.ok(etranger.neEtranger && etranger.provisoire);
    assert.equal(etranger.sexe, 'M');
    assert.equal(etranger.commune, '352');
    assert.equal(parseNir('185052B03301203').lieuNaissance, '2B033');
    assert.equal(parseNir('185052000401243').departement, '20');
  });

  it('accepts the conventional months of an unknown birth month', () => {
    for (const mois of ['20', '30', '42', '50', '99']) {
      const p = parseNir(avecCle(`184${mois}75123456`));
      assert.equal(p.moisConnu, false, mois);
    }
  });

  it('rejects empty input and bad lengths', () => {
    echoue('', 'VIDE');
    echoue(' . ', 'VIDE');
    echoue('18412751234564', 'LONGUEUR', /15 caractères .*: 14 reçus/);
    echoue('1841275123456', 'LONGUEUR', /13 reçus .*la clé manque/);
    echoue('1841275123456400', 'LONGUEUR', /16 reçus/);
  });

  it('rejects characters other than digits, and letters other than 2A/2B', () => {
    echoue('1841275X2345640', 'CARACTERE', 'Caractère « X » non autorisé en position 8 du NIR 1841275X2345640 : un chiffre attendu');
    echoue('A84127512345640', 'CARACTERE', /position 1/);
    echoue('1840575123456XX', 'CARACTERE', /position 14/);
    echoue('185052C00401270', 'CARACTERE', /« C » .* position 7 .*2A, 2B/);
    echoue('185053A00401270', 'CARACTERE', /« A » .* position 7/);
    echoue('1850A2000401270', 'CARACTERE', /position 5/);
    echoue('18412-751234540', 'CARACTERE', /« - » non autorisé en position 6/);
  });

  it('rejects a bad sex digit', () => {
    for (const s of ['0', '5', '6', '9']) echoue(avecCle(`${s}841275123456`), 'SEXE', /1 ou 2 attendu/);
    for (const s of ['3', '4', '7', '8']) assert.ok(isValidNir(avecCle(`${s}841275123456`)), s);
  });

  it('rejects a bad month', () => {
    for (const mois of ['00', '13', '19', '21', '29', '43', '49']) {
      echoue(avecCle(`184${mois}75123456`), 'MOIS', new RegExp(`Le mois ${mois} est invalide pour le NIR 1 84 ${mois} 75 123 456`));
    }
  });

  it('rejects a bad department, commune or country', () => {
    echoue(avecCle('1841200123456'), 'DEPARTEMENT', /département 00/);
    for (const dep of ['970', '979', '980', '985', '989']) {
      echoue(avecCle(`18412${dep}12456`), 'DEPARTEMENT', new RegExp(`département ${dep}`));
    }
    echoue(avecCle('1841275000456'), 'COMMUNE', /code commune 75000/);
    echoue(avecCle('1841297100456'), 'COMMUNE', /code commune 97100/);
    for (const pays of ['000', '100', '600', '999']) echoue(avecCle(`1841299${pays}456`), 'PAYS', new RegExp(`code pays 99${pays}`));
  });

  it('rejects order number 000', () => {
    echoue(avecCle('1841275123000'), 'ORDRE', /numéro d'ordre 000/);
  });

  it('rejects a wrong clé with the expected one', () => {
    echoue('184127512345612', 'CLE', 'La clé 12 est invalide pour le NIR 1 84 12 75 123 456 : clé attendue 40');
    echoue('184127512345600', 'CLE', /clé attendue 40/);
    echoue('184127512345698', 'CLE', /clé attendue 40/);
    echoue('185052A00401243', 'CLE', /clé attendue 70/);
    assert.throws(() => parseNia('184127512345612'), /pour le NIA 1 84 12/);
  });

  it('isValidNir, formatNir and nirKey input checks', () => {
    assert.equal(isValidNir('184127512345640'), true);
    assert.equal(isValidNir('184127512345641'), false);
    assert.equal(isValidNir(''), false);
    assert.equal(formatNir('184127512345640'), '1 84 12 75 123 456 40');
    assert.equal(formatNir('1841275123456'), '1 84 12 75 123 456');
    assert.throws(() => formatNir('12345'), (e: unknown) => e instanceof InsError && e.code === 'LONGUEUR');
    assert.throws(() => nirKey('18412751234'), (e: unknown) => e instanceof InsError && e.code === 'LONGUEUR');
    assert.throws(() => nirKey('18412751234X6'), (e: unknown) => e instanceof InsError && e.code === 'CARACTERE');
  });
});

describe('OIDs INS', () => {
  it('exposes the four FrCore systems and finds them by OID or urn', () => {
    assert.equal(INS_NIR.system, 'urn:oid:1.2.250.1.213.1.4.8');
    assert.equal(INS_NIA.system, 'urn:oid:1.2.250.1.213.1.4.9');
    assert.equal(INS_NIA.use, 'temp');
    assert.equal(INS_NIR_TEST.system, 'urn:oid:1.2.250.1.213.1.4.10');
    assert.equal(INS_NIR_TEST.code, 'INS-NIR-TEST');
    assert.equal(systemeIns('urn:oid:1.2.250.1.213.1.4.11')?.code, 'INS-NIR-DEMO');
    assert.equal(systemeIns(OID_INS_NIR_DEMO)?.environnement, 'demo');
    assert.equal(systemeIns('1.2.250.1.213.1.4.2'), undefined);
  });
});

describe('population synthétique', () => {
  const premiers = (graine: string, nombre = 100, partHomonymes?: number) => [
    ...genererPopulation({ graine, nombre, communes, ...(partHomonymes === undefined ? {} : { partHomonymes }) }),
  ];

  it('is deterministic by seed', () => {
    assert.deepEqual(premiers('graine-a'), premiers('graine-a'));
    assert.notDeepEqual(premiers('graine-a'), premiers('graine-b'));
    assert.deepEqual(premiers('42', 5), premiers(42 as unknown as string, 5));
  });

  it('gives every identity a valid, unique NIR consistent with its traits', () => {
    const vus = new Set<string>();
    const nomInsi = /^[A-Z]+(?:(?:-{1,2}|[' ])[A-Z]+)*$/u;
    let etranger = 0;
    let corseAvant1976 = 0;
    const population = premiers('coherence', 30_000);
    for (const id of population) {
      const p = parseNir(id.nir);
      assert.ok(!vus.has(id.nir), `NIR en double ${id.nir}`);
      vus.add(id.nir);
      assert.equal(p.sexe, id.sexe);
      assert.equal(id.dateNaissance.slice(2, 4), p.annee);
      assert.equal(id.dateNaissance.slice(5, 7), p.mois);
      // A real calendar date: parsing and printing it back gives the same day (no 31 April, no 29 February 2023).
      assert.equal(new Date(`${id.dateNaissance}T00:00:00Z`).toISOString().slice(0, 10), id.dateNaissance);
      if (/^2[AB]/u.test(id.lieuNaissance) && Number(id.dateNaissance.slice(0, 4)) < 1976) {
        corseAvant1976++;
        assert.equal(p.lieuNaissance, `20${id.lieuNaissance.slice(2)}`);
      } else {
        assert.equal(p.lieuNaissance, id.lieuNaissance);
      }
      if (p.neEtranger) etranger++;
      assert.notEqual(id.lieuNaissance, '75056', 'Paris is born by arrondissement');
      assert.match(id.nomNaissance, nomInsi);
      assert.ok(id.prenoms.length >= 1 && id.prenoms.length <= 4);
      for (const prenom of id.prenoms) assert.match(prenom, nomInsi);
      assert.equal(id.oid, INS_NIR_TEST.oid);
    }
    assert.ok(corseAvant1976 > 0, 'some Corsicans born before 1976');
    assert.ok(Math.abs(etranger / population.length - 0.1) < 0.01, `part née à l'étranger ${etranger / population.length}`);
    assert.ok(population.some((id) => /^751(0[1-9]|1\d|20)$/u.test(id.lieuNaissance)));
  });

  it('produces about the configured share of homonyms', () => {
    const cle = (id: IdentiteSynthetique) => `${id.nomNaissance}|${id.prenoms[0]}|${id.sexe}|${id.dateNaissance}`;
    for (const part of [0, 0.05, 0.2]) {
      const population = premiers(`homonymes-${part}`, 20_000, part);
      const parNir = new Map(population.map((id) => [id.nir, id]));
      const vues = new Set<string>();
      let repetees = 0;
      for (const id of population) {
        if (vues.has(cle(id))) repetees++;
        vues.add(cle(id));
        if (id.homonymeDe) {
          const source = parNir.get(id.homonymeDe);
          assert.ok(source, 'the source precedes its homonym');
          assert.equal(cle(source), cle(id));
          assert.notEqual(source.nir, id.nir);
        }
      }
      const mesuree = repetees / population.length;
      assert.ok(Math.abs(mesuree - part) < 0.01, `part ${part} : mesurée ${mesuree}`);
    }
  });

  it('rejects bad options and a missing or malformed communes file at the call', () => {
    assert.throws(() => genererPopulation({ communes, partHomonymes: 1 }), RangeError);
    assert.throws(() => genererPopulation({ communes, anneeMin: 1900, anneeMax: 2024 }), /au plus 100 années/);
    const absent = '/nulle/part/communes.csv';
    assert.throws(() => genererPopulation({ communes: absent }), /\/nulle\/part\/communes\.csv \(fichier introuvable\)/);
    const dossier = mkdtempSync(join(tmpdir(), 'socle-ins-'));
    writeFileSync(join(dossier, 'entete.csv'), 'code,habitants\n01001,860\n');
    assert.throws(() => chargerCommunes(join(dossier, 'entete.csv')), /colonnes « insee » et « population »/);
    writeFileSync(join(dossier, 'ligne.csv'), 'insee,population\n01001,860\n0100X,12\n');
    assert.throws(() => chargerCommunes(join(dossier, 'ligne.csv')), /ligne 3 : ligne invalide « 0100X,12 »/);
  });
});

describe('socle ins', () => {
  const socle = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/socle.js', 'ins', ...args], { cwd: racine, encoding: 'utf8' });

  it('check prints the decoded parts of a valid NIR', () => {
    const r = socle('check', '1 84 12 75 123 456 40');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^NIR 1 84 12 75 123 456 40 : valide$/mu);
    assert.match(r.stdout, /sexe +1 \(masculin\)/u);
    assert.match(r.stdout, /lieu +75123 \(département 75, commune 123\)/u);
    assert.match(r.stdout, /clé +40/u);
  });

  it('check exits 1 with the precise error', () => {
    const cle = socle('check', '184127512345612');
    assert.equal(cle.status, 1);
    assert.equal(cle.stdout, '');
    assert.match(cle.stderr, /La clé 12 est invalide pour le NIR 1 84 12 75 123 456 : clé attendue 40 \[CLE\]/u);
    const lettres = socle('check', '1840575123456XX');
    assert.equal(lettres.status, 1);
    assert.match(lettres.stderr, /Caractère « X » non autorisé en position 14/u);
    assert.equal(socle('check').status, 2);
  });

  it('generate writes the same ndjson as the library, and csv', () => {
    const r = socle('generate', '--count', '20', '--seed', 's1');
    assert.equal(r.status, 0, r.stderr);
    const lignes = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as IdentiteSynthetique);
    assert.deepEqual(lignes, [...genererPopulation({ graine: 's1', nombre: 20, communes })]);
    const csv = socle('generate', '--count=3', '--seed=s1', '--format', 'csv').stdout.trimEnd().split('\n');
    assert.equal(csv[0], 'nir,oid,nomNaissance,prenoms,sexe,dateNaissance,lieuNaissance,homonymeDe');
    assert.equal(csv.length, 4);
    assert.equal(csv[1]!.split(',')[0], lignes[0]!.nir);
    assert.equal(socle('generate', '--format', 'xml').status, 2);
    const homonymes = socle('generate', '--homonymes', '2');
    assert.equal(homonymes.status, 2);
    assert.match(homonymes.stderr, /--homonymes attend une part entre 0 et 1/u);
  });
});
