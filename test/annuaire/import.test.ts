// RPPS and FINESS imports into a running platform with the Annuaire's profiles loaded, checked the way
// a directory client sees them: over HTTP with the Annuaire API's searches.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Bundle, Organization, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { vendoredPackages } from '../../src/config.ts';
import { importerFiness } from '../../src/referentiels/annuaire/import-finess.ts';
import { fichiersRpps, importerRpps } from '../../src/referentiels/annuaire/import-rpps.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const fixtures = fileURLToPath(new URL('../fixtures/annuaire/', import.meta.url));
const AS_DP_PRACTITIONER = 'https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-dp-practitioner|1.2.0-snapshot-2';
const GEOLOCATION = 'http://hl7.org/fhir/StructureDefinition/geolocation';

let server: TestServer;
before(async () => {
  server = await startTestServer({ fhirPackages: vendoredPackages() });
});
after(() => server.close());

async function get<T = Bundle>(path: string): Promise<T> {
  const r = await fetch(`${server.fhirUrl}/${path}`);
  assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
  return (await r.json()) as T;
}
const ressources = <T>(b: Bundle) => (b.entry ?? []).map((e) => e.resource as T);

describe('RPPS import (PS_LibreAcces, 56 columns, with its companion files)', () => {
  test('imports valid lines, reports the bad ones with their line numbers, and is found by the Annuaire searches', async () => {
    const bilan = await importerRpps(server.platform.fhir, fichiersRpps(join(fixtures, 'libreacces')));
    assert.equal(bilan.lignes, 6);
    assert.equal(bilan.rejetes, 2);
    assert.deepEqual(bilan.premiersRejets.map((r) => [r.ligne, r.motif]), [
      [5, 'numéro RPPS invalide : 10003461033 (11 chiffres avec clé de Luhn)'],
      [6, '8 champs au lieu de 56'],
    ]);
    // 3 professionals, 4 activities, 4 structures.
    assert.equal(bilan.crees, 11);

    const parRpps = ressources<Practitioner>(await get('Practitioner?identifier=https://rpps.esante.gouv.fr|10001045367'));
    assert.equal(parRpps.length, 1);
    const dupre = parRpps[0]!;
    assert.ok(dupre.meta?.profile?.includes(AS_DP_PRACTITIONER));
    assert.equal(dupre.meta?.source, 'https://annuaire.esante.gouv.fr');
    assert.deepEqual(dupre.name?.[0], { use: 'usual', family: 'DUPRÉ', given: ['Hélène'], prefix: ['MME'], suffix: ['DR'] });
    assert.equal(dupre.telecom?.[0]?.value, 'helene.dupre@medecin.mssante.fr');
    const codes = dupre.qualification!.flatMap((q) => q.code.coding!.map((c) => c.code));
    for (const c of ['10', 'SM54', 'CAPA02', 'DE01']) assert.ok(codes.includes(c), `qualification ${c}`);

    assert.equal(ressources(await get('Practitioner?identifier=810001045367')).length, 1, 'by idNatPs');
    assert.equal(ressources(await get('Practitioner?name=dupr')).length, 1, 'by name prefix');
    assert.deepEqual(ressources<Practitioner>(await get('Practitioner?qualification-code=SM54')).map((p) => p.id), [dupre.id]);

    const roles = await get(`PractitionerRole?practitioner=Practitioner/${dupre.id}&_include=PractitionerRole:organization`);
    const inclus = (roles.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource as Organization);
    assert.equal((roles.entry ?? []).filter((e) => e.search?.mode === 'match').length, 2);
    assert.deepEqual(inclus.map((o) => o.name).sort(), ['CABINET DU DR DUPRÉ', 'HOPITAL EDOUARD HERRIOT']);
    const cabinet = inclus.find((o) => o.name === 'CABINET DU DR DUPRÉ')!;
    assert.equal(cabinet.address?.[0]?.extension?.[0]?.valueCoding?.code, '69383');

    // Specialty (of the practitioner) and commune (of the structure), both chained; a role code (fonction).
    const lyon = ressources<PractitionerRole>(await get('PractitionerRole?practitioner.qualification-code=SM54&organization.address-city=Lyon'));
    assert.equal(lyon.length, 2);
    assert.equal(ressources(await get('PractitionerRole?practitioner.qualification-code=SM54&organization.address-city=Marseille')).length, 0);
    assert.equal(ressources(await get('PractitionerRole?role=FON-01&organization.address-postalcode=69003')).length, 1);

    // An ADELI-only professional: no RPPS number, so the FR Core profile only.
    const adeli = ressources<Practitioner>(await get('Practitioner?identifier=0012600631'))[0]!;
    assert.ok(!adeli.meta?.profile?.some((p) => p.includes('as-dp-practitioner')));
  });

  test('re-importing the same files changes nothing', async () => {
    const avant = await get('Practitioner/_history');
    const bilan = await importerRpps(server.platform.fhir, fichiersRpps(join(fixtures, 'libreacces')));
    assert.deepEqual([bilan.crees, bilan.modifies, bilan.desactives, bilan.inchanges], [0, 0, 0, 11]);
    assert.equal((await get('Practitioner/_history')).total ?? (await get('Practitioner/_history')).entry?.length, avant.total ?? avant.entry?.length);
  });
});

describe('FINESS import (etalab cs1100507, Latin-1)', () => {
  test('établissements part of their entité juridique, with INSEE code and position', async () => {
    const bilan = await importerFiness(server.platform.fhir, join(fixtures, 'etalab-cs1100507-stock-20260115-0400.csv'));
    assert.equal(bilan.rejetes, 3);
    assert.match(bilan.premiersRejets.map((r) => `${r.ligne} ${r.motif}`).join('\n'), /^6 numéro FINESS d'établissement invalide.*\n7 date invalide.*\n8 structureet : 4 champs au lieu de 32$/u);
    // The RPPS imported before describes the same site: one Organization, completed by the FINESS.
    const herriot = ressources<Organization>(await get('Organization?_id=eg-690781810&_include=Organization:partof'));
    assert.equal(herriot.length, 2, 'the EG and its EJ');
    const eg = herriot.find((o) => o.id === 'eg-690781810')!;
    assert.equal(eg.partOf?.reference, 'Organization/ej-690001235');
    const adresse = eg.address![0]!;
    assert.equal(adresse.extension?.find((e) => e.url.endsWith('fr-core-address-insee-code'))?.valueCoding?.code, '69383');
    const geo = adresse.extension?.find((e) => e.url === GEOLOCATION);
    const lat = geo?.extension?.find((e) => e.url === 'latitude')?.valueDecimal ?? 0;
    assert.ok(Math.abs(lat - 45.74) < 0.02, `latitude ${lat}`);
    const guadeloupe = ressources<Organization>(await get('Organization?identifier=971234562'))[0]!;
    assert.equal(guadeloupe.address?.[0]?.extension?.find((e) => e.url === GEOLOCATION), undefined, 'UTM coordinates are not converted');
    assert.equal(guadeloupe.address?.[0]?.extension?.[0]?.valueCoding?.code, '97120');
    assert.equal(ressources(await get('Organization?name:contains=MAVOUNA')).length, 1);
  });
});

describe('delta between two daily extracts (Pro Santé Connect variant)', () => {
  test('changes update, new lines create, what vanished becomes inactive, history kept', async () => {
    const jour = mkdtempSync(join(tmpdir(), 'socle-annuaire-delta-'));
    try {
      const fichier = join(jour, 'Extraction_ProSanteConnect_Personne_activite.txt');
      cpSync(join(fixtures, 'psc/Extraction_ProSanteConnect_Personne_activite_202112120512.txt'), fichier);
      const j1 = await importerRpps(server.platform.fhir, { activite: fichier });
      assert.equal(j1.rejetes, 2, 'HIRE: identifier and key inconsistent');
      cpSync(join(fixtures, 'psc/Extraction_ProSanteConnect_Personne_activite_202112120515.txt'), fichier);
      const j2 = await importerRpps(server.platform.fhir, { activite: fichier });
      // MONTAND arrives (practitioner, role, structure); ROLEAU leaves (practitioner, role); EVRARD leaves one structure (role, structure).
      assert.equal(j2.crees, 3);
      assert.equal(j2.desactives, 4, JSON.stringify(j2));
      const roleau = await get<Practitioner>('Practitioner/ps-810107592585');
      assert.equal(roleau.active, false);
      assert.equal(roleau.meta?.versionId, '2');
      const historique = await get(`Practitioner/ps-810107592585/_history`);
      assert.equal(historique.entry?.length, 2);
      assert.equal((historique.entry?.at(-1)?.resource as Practitioner).active, true);
      const evrard = ressources<PractitionerRole>(await get('PractitionerRole?practitioner=Practitioner/ps-0012800728'));
      assert.deepEqual(evrard.map((r) => r.active).sort(), [false, true, true, true]);
      assert.equal((await get<Organization>('Organization/st-C39806996300062')).active, false);
      assert.equal(ressources(await get('Practitioner?identifier=810100375103&active=true')).length, 1);
    } finally {
      rmSync(jour, { recursive: true, force: true });
    }
  });
});
