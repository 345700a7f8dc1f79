// The extract formats: identifiers with their keys, Lambert-93, header-driven RPPS lines (52 and 56
// columns, Latin-1), FINESS records with quoted fields, and the generator's output read back.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { finessValide, rppsValide, siretValide } from '../../src/referentiels/annuaire/identifiants.ts';
import { versLambert93, versWgs84 } from '../../src/referentiels/annuaire/lambert93.ts';
import { detecterEncodage, lireLignes } from '../../src/referentiels/annuaire/lignes.ts';
import { decouperCsv, lireEnregistrement } from '../../src/referentiels/annuaire/finess.ts';
import { genererExtraits } from '../../src/referentiels/annuaire/generateur.ts';
import { LigneRejetee, lecteurActivite } from '../../src/referentiels/annuaire/rpps.ts';

const fixtures = fileURLToPath(new URL('../fixtures/annuaire/', import.meta.url));
const temporaire = mkdtempSync(join(tmpdir(), 'socle-annuaire-formats-'));
after(() => rmSync(temporaire, { recursive: true, force: true }));

async function lignes(chemin: string): Promise<string[]> {
  const encodage = await detecterEncodage(chemin);
  const out: string[] = [];
  for await (const l of lireLignes(chemin, encodage)) out.push(l.texte);
  return out;
}

describe('identifiers', () => {
  test('RPPS, FINESS and SIRET keys', () => {
    assert.ok(rppsValide('10001045367'));
    assert.ok(!rppsValide('10001045368'), 'wrong key');
    assert.ok(!rppsValide('1000104536'), 'ten digits');
    for (const f of ['750712184', '690781810', '130783236', '2A0000015']) assert.ok(finessValide(f), f);
    assert.ok(!finessValide('750712185'));
    assert.ok(siretValide('49940088500020'));
    assert.ok(!siretValide('49940088500021'));
  });
});

describe('Lambert-93', () => {
  test('known points, both ways', () => {
    // Paris Notre-Dame ≈ 652 000 / 6 862 000; the projection's origin 700 000 / 6 600 000 is 46.5° N, 3° E.
    const nd = versWgs84(652000, 6862000);
    assert.ok(Math.abs(nd.latitude - 48.853) < 0.005 && Math.abs(nd.longitude - 2.35) < 0.005, JSON.stringify(nd));
    const origine = versWgs84(700000, 6600000);
    assert.ok(Math.abs(origine.latitude - 46.5) < 1e-9 && Math.abs(origine.longitude - 3) < 1e-9);
    const { x, y } = versLambert93(43.2965, 5.3698); // Marseille, Vieux-Port
    const retour = versWgs84(x, y);
    assert.ok(Math.abs(retour.latitude - 43.2965) < 1e-8 && Math.abs(retour.longitude - 5.3698) < 1e-8);
  });
});

describe('RPPS lines', () => {
  test('56 columns in UTF-8, mapped by header name', async () => {
    const [entete, premiere] = await lignes(join(fixtures, 'libreacces/PS_LibreAcces_Personne_activite_202601150830.txt'));
    const l = lecteurActivite(entete!, 'f')(premiere!, 2);
    assert.equal(l.idNat, '810001045367');
    assert.equal(l.nom, 'DUPRÉ');
    assert.equal(l.genreActivite, 'GENR01');
    assert.equal(l.codeCommune, '69383');
  });

  test('the 2021 layout: 52 columns in Latin-1', async () => {
    const chemin = join(fixtures, 'PS_LibreAcces_Personne_activite_202105010000.latin1.txt');
    assert.equal(await detecterEncodage(chemin), 'latin1');
    const [entete, premiere] = await lignes(chemin);
    const l = lecteurActivite(entete!, 'f')(premiere!, 2);
    assert.equal(l.prenom, 'Hélène');
    assert.equal(l.genreActivite, '', 'no such column in 2021');
  });

  test('the Pro Santé Connect extraction, Latin-1', async () => {
    const chemin = join(fixtures, 'psc/CT-AMAR_3-UPDATES_Extraction_Pro_sante_connect_202403251635.latin1.txt');
    assert.equal(await detecterEncodage(chemin), 'latin1');
    const [entete, , adeli] = await lignes(chemin);
    const lire = lecteurActivite(entete!, 'f');
    // Its test identifiers are not RPPS numbers: the line is refused with the reason.
    assert.throws(() => lire(adeli!, 3), (e: Error) => e instanceof LigneRejetee && /ADELI invalide/u.test(e.message));
  });

  test('unknown columns are ignored, a missing required column is a clear error', () => {
    const lire = lecteurActivite("Colonne nouvelle|Type d'identifiant PP|Identifiant PP|Identification nationale PP|Nom d'exercice|Code profession|", 'f');
    assert.equal(lire('x|8|10001045367|810001045367|DUPONT|10|', 2).nom, 'DUPONT');
    assert.throws(() => lecteurActivite("Type d'identifiant PP|Identifiant PP|Nom d'exercice|", 'extrait.txt'), /extrait\.txt : colonne\(s\) obligatoire\(s\) absente\(s\).*Identification nationale PP.*Code profession/u);
    assert.throws(() => lire('x|8|10001045367|810001045368|DUPONT|10|', 2), /≠ type 8/u);
  });
});

describe('FINESS records', () => {
  test('quoted fields with doubled quotes', () => {
    assert.deepEqual(decouperCsv('a;"LIEU DE VIE ""MAVOUNA"";X";c'), ['a', 'LIEU DE VIE "MAVOUNA";X', 'c']);
    assert.throws(() => decouperCsv('a;"ouvert'), LigneRejetee);
  });

  test('the hand-written extract: établissements, Lambert-93 positions, overseas left unprojected, bad lines', async () => {
    const [premiere, ...reste] = await lignes(join(fixtures, 'etalab-cs1100507-stock-20260115-0400.csv'));
    assert.match(premiere!, /^finess;etalab;/u);
    const lus = reste.map((t, i) => {
      try {
        return lireEnregistrement(t, i + 2);
      } catch (err) {
        return (err as Error).message;
      }
    });
    const lieuDeVie = lus.find((r) => typeof r === 'object' && r?.type === 'structureet' && r.etablissement.nofinesset === '010000123');
    assert.ok(lieuDeVie && typeof lieuDeVie === 'object' && lieuDeVie.type === 'structureet');
    assert.equal(lieuDeVie.etablissement.rslongue, 'LIEU DE VIE "MAVOUNA MEMA 1"; ACCUEIL');
    assert.equal(lieuDeVie.etablissement.dateouv, '2004-03-12', 'dd/MM/yyyy read as a date');
    const herriot = lus.find((r) => typeof r === 'object' && r?.type === 'geolocalisation' && r.geo.nofinesset === '690781810');
    assert.ok(herriot && typeof herriot === 'object' && herriot.type === 'geolocalisation' && herriot.geo.position);
    assert.ok(Math.abs(herriot.geo.position.latitude - 45.74) < 0.02 && Math.abs(herriot.geo.position.longitude - 4.88) < 0.02, JSON.stringify(herriot.geo.position));
    const antilles = lus.find((r) => typeof r === 'object' && r?.type === 'geolocalisation' && r.geo.nofinesset === '971234562');
    assert.ok(antilles && typeof antilles === 'object' && antilles.type === 'geolocalisation' && antilles.geo.position === undefined);
    const erreurs = lus.filter((r): r is string => typeof r === 'string');
    assert.equal(erreurs.length, 3);
    assert.match(erreurs.join('\n'), /FINESS d'établissement invalide.*750000000/u);
    assert.match(erreurs.join('\n'), /date invalide : « 2001-02-30 »/u);
    assert.match(erreurs.join('\n'), /4 champs au lieu de 32/u);
  });
});

describe('generator', () => {
  test('deterministic extracts in the public layouts', async () => {
    const options = { graine: 'essai', professionnels: 50, structures: 12, departements: ['69'] };
    const a = await genererExtraits({ dossier: join(temporaire, 'a'), ...options });
    const b = await genererExtraits({ dossier: join(temporaire, 'b'), ...options });
    for (const k of Object.keys(a) as (keyof typeof a)[]) assert.deepEqual(readFileSync(a[k]), readFileSync(b[k]), k);
    const activite = await lignes(a.activite);
    assert.equal(activite[0]!.split('|').length, 57, '56 columns and the trailing separator');
    const lire = lecteurActivite(activite[0]!, a.activite);
    const lues = activite.slice(1).filter(Boolean).map((t, i) => lire(t, i + 2));
    assert.ok(lues.length >= 50);
    assert.equal(new Set(lues.map((l) => l.idNat)).size, 50);
    assert.equal(await detecterEncodage(a.finess), 'latin1');
    const finess = await lignes(a.finess);
    const enregistrements = finess.slice(1).filter(Boolean).map((t, i) => lireEnregistrement(t, i + 2));
    assert.equal(enregistrements.filter((r) => r?.type === 'structureet').length, 12);
    const positions = enregistrements.flatMap((r) => (r?.type === 'geolocalisation' && r.geo.position ? [r.geo.position] : []));
    assert.equal(positions.length, 12);
    // Rhône: 45.4–46.3° N, 4.2–5.2° E.
    for (const p of positions) assert.ok(p.latitude > 45.4 && p.latitude < 46.4 && p.longitude > 4.2 && p.longitude < 5.2, JSON.stringify(p));
  });
});
