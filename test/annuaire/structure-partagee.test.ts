// One Organization per structure, whichever file comes first: the RPPS activity of a FINESS site and the
// FINESS établissement land on the same resource, with the identifiers of both, the FINESS data kept, and
// the registration authority each source gives. Checked over HTTP, as a directory client reads them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Bundle, Extension, Organization, Practitioner, PractitionerRole, Resource, ValueSet } from '@medplum/fhirtypes';
import { vendoredPackages } from '../../src/config.ts';
import { importerFiness } from '../../src/referentiels/annuaire/import-finess.ts';
import { fichiersRpps, importerRpps } from '../../src/referentiels/annuaire/import-rpps.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const fixtures = fileURLToPath(new URL('../fixtures/annuaire/', import.meta.url));
const RPPS = fichiersRpps(join(fixtures, 'libreacces'));
const FINESS = join(fixtures, 'etalab-cs1100507-stock-20260115-0400.csv');
const HERRIOT = 'eg-690781810';
const J83 = 'https://mos.esante.gouv.fr/NOS/JDV_J83-AutoriteEnregistrement-RASS/FHIR/JDV-J83-AutoriteEnregistrement-RASS';
const TRE_R60 = 'https://mos.esante.gouv.fr/NOS/TRE_R60-AutoriteEnregistrement/FHIR/TRE-R60-AutoriteEnregistrement';
const dossier = mkdtempSync(join(tmpdir(), 'socle-annuaire-partage-'));

let rppsPuisFiness: TestServer;
let finessPuisRpps: TestServer;
before(async () => {
  [rppsPuisFiness, finessPuisRpps] = await Promise.all([startTestServer({ fhirPackages: vendoredPackages() }), startTestServer({ fhirPackages: vendoredPackages() })]);
});
after(async () => {
  await Promise.all([rppsPuisFiness?.close(), finessPuisRpps?.close()]);
  rmSync(dossier, { recursive: true, force: true });
});

async function get<T = Bundle>(server: TestServer, path: string): Promise<T> {
  const r = await fetch(`${server.fhirUrl}/${path}`);
  assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
  return (await r.json()) as T;
}
const ressources = <T>(b: Bundle) => (b.entry ?? []).map((e) => e.resource as T);
const identifiants = (o: Organization) => (o.identifier ?? []).map((i) => `${i.system}|${i.value}`).sort();
const trace = (r: Resource, url: string) => r.meta?.extension?.[0]?.extension?.find((e: Extension) => e.url === url);
const autorite = (r: Resource) => trace(r, 'autorite-enregistrement')?.valueCodeableConcept?.coding?.[0];
/** What a client compares: the resource without its version bookkeeping. */
const sansVersion = ({ meta, ...r }: Resource) => ({ ...r, meta: { ...meta, versionId: undefined, lastUpdated: undefined } });

/** A copy of a fixture without the lines matching `retirer`, under the same file name (a later extract). */
function sans(fichier: string, retirer: RegExp, encodage: BufferEncoding): string {
  const copie = join(mkdtempSync(join(dossier, 'jour-')), fichier.split('/').at(-1)!);
  writeFileSync(copie, readFileSync(fichier, encodage).split('\n').filter((l) => !retirer.test(l)).join('\n'), encodage);
  return copie;
}

describe('one Organization per structure (RPPS and FINESS)', () => {
  test('RPPS then FINESS, and FINESS then RPPS: one Organization with both sets of identifiers, the FINESS data kept', async () => {
    const rpps1 = await importerRpps(rppsPuisFiness.platform.fhir, RPPS);
    assert.ok(rpps1.crees > 0);
    // Before FINESS: the RPPS alone describes the site, already under its FINESS-keyed id.
    const seul = await get<Organization>(rppsPuisFiness, `Organization/${HERRIOT}`);
    assert.equal(seul.name, 'HOPITAL EDOUARD HERRIOT');
    assert.equal(trace(seul, 'systeme-information')?.valueCode, 'RPPS');
    const finess1 = await importerFiness(rppsPuisFiness.platform.fhir, FINESS);
    assert.equal(finess1.modifies, 1, 'the FINESS completes the resource the RPPS created');

    await importerFiness(finessPuisRpps.platform.fhir, FINESS);
    await importerRpps(finessPuisRpps.platform.fhir, RPPS);

    for (const server of [rppsPuisFiness, finessPuisRpps]) {
      const parFiness = ressources<Organization>(await get(server, 'Organization?identifier=https://finess.esante.gouv.fr|690781810'));
      assert.deepEqual(parFiness.map((o) => o.id), [HERRIOT]);
      assert.equal(ressources(await get(server, 'Organization?identifier=urn:oid:1.2.250.1.71.4.2.2|1690781810')).length, 1);
      assert.deepEqual(ressources<Organization>(await get(server, 'Organization?identifier=https://rppsrang.esante.gouv.fr|F690781810')).map((o) => o.id), [HERRIOT]);
      const o = parFiness[0]!;
      assert.deepEqual(identifiants(o), [
        'https://finess.esante.gouv.fr|690781810',
        'https://rppsrang.esante.gouv.fr|F690781810',
        'urn:oid:1.2.250.1.71.4.2.2|1690781810',
      ]);
      // The FINESS data win: long name, legal entity, FINESS trace; the RPPS adds its activity sector.
      assert.equal(o.name, 'HOPITAL EDOUARD HERRIOT - HCL');
      assert.equal(o.partOf?.reference, 'Organization/ej-690001235');
      assert.equal(trace(o, 'systeme-information')?.valueCode, 'FINESS');
      assert.ok(o.type?.some((t) => t.coding?.[0]?.code === 'SA01'), 'secteur d’activité from the RPPS');
      assert.ok(o.type?.some((t) => t.coding?.[0]?.code === '355'), 'catégorie from the FINESS');
      assert.equal(o.active, true);
      // The professional's activity there points to that very resource; the RPPS-keyed one does not exist.
      const roles = ressources<PractitionerRole>(await get(server, 'PractitionerRole?practitioner=Practitioner/ps-810001045367'));
      assert.deepEqual(roles.map((r) => r.organization?.reference).sort(), ['Organization/eg-690781810', 'Organization/st-C49940088500020']);
      assert.equal((await fetch(`${server.fhirUrl}/Organization/st-F690781810`)).status, 404);
    }
    assert.deepEqual(sansVersion(await get(rppsPuisFiness, `Organization/${HERRIOT}`)), sansVersion(await get(finessPuisRpps, `Organization/${HERRIOT}`)));

    // Re-imports change nothing, in either order.
    for (const server of [rppsPuisFiness, finessPuisRpps]) {
      const version = (await get<Organization>(server, `Organization/${HERRIOT}`)).meta?.versionId;
      const rpps = await importerRpps(server.platform.fhir, RPPS);
      const finess = await importerFiness(server.platform.fhir, FINESS);
      for (const b of [rpps, finess]) assert.deepEqual([b.crees, b.modifies, b.desactives], [0, 0, 0], JSON.stringify(b));
      assert.equal((await get<Organization>(server, `Organization/${HERRIOT}`)).meta?.versionId, version);
    }
  });

  test('a structure that vanishes from one file but not from the other stays active', async () => {
    const server = rppsPuisFiness;
    // The RPPS no longer lists the activity at the hospital: the FINESS still does.
    const rpps = await importerRpps(server.platform.fhir, { ...RPPS, activite: sans(RPPS.activite, /\|F690781810\|/u, 'utf8') });
    const herriot = await get<Organization>(server, `Organization/${HERRIOT}`);
    assert.equal(herriot.active, true);
    assert.equal(herriot.name, 'HOPITAL EDOUARD HERRIOT - HCL');
    assert.ok(!identifiants(herriot).includes('https://rppsrang.esante.gouv.fr|F690781810'), 'the RPPS part is gone');
    assert.equal(rpps.modifies, 1, JSON.stringify(rpps));
    // The RPPS lists it again and the FINESS drops it: the RPPS description remains, active.
    await importerRpps(server.platform.fhir, RPPS);
    await importerFiness(server.platform.fhir, sans(FINESS, /^(structureet|geolocalisation);690781810;/u, 'latin1'));
    const rppsSeul = await get<Organization>(server, `Organization/${HERRIOT}`);
    assert.equal(rppsSeul.active, true);
    assert.equal(rppsSeul.name, 'HOPITAL EDOUARD HERRIOT');
    assert.equal(trace(rppsSeul, 'systeme-information')?.valueCode, 'RPPS');
    // Neither lists it: inactive, history kept.
    await importerRpps(server.platform.fhir, { ...RPPS, activite: sans(RPPS.activite, /\|F690781810\|/u, 'utf8') });
    assert.equal((await get<Organization>(server, `Organization/${HERRIOT}`)).active, false);
  });

  test('registration authority (as-ext-data-trace): the RPPS column, the ARS of the FINESS établissement', async () => {
    const server = finessPuisRpps;
    const dupre = await get<Practitioner>(server, 'Practitioner/ps-810001045367');
    assert.deepEqual(autorite(dupre), { system: TRE_R60, code: 'CNOM', display: 'Ordre des médecins' });
    // Her cabinet (CNOM/CNOM/CNOM) and the activity there; the hospital line leaves the column empty.
    const roles = ressources<PractitionerRole>(await get(server, 'PractitionerRole?practitioner=Practitioner/ps-810001045367'));
    assert.deepEqual(roles.map((r) => autorite(r)?.code ?? null).sort(), ['CNOM', null]);
    assert.equal(autorite(await get<Organization>(server, 'Organization/st-C49940088500020'))?.code, 'CNOM');
    // FINESS: the ARS of the region (Auvergne-Rhône-Alpes; Guadeloupe is written 9A in the extract).
    assert.equal(autorite(await get<Organization>(server, `Organization/${HERRIOT}`))?.code, 'ARS-84');
    assert.equal(autorite(await get<Organization>(server, 'Organization/ej-690001235'))?.code, 'ARS-84');
    assert.equal(autorite(await get<Organization>(server, 'Organization/eg-971234562'))?.code, 'ARS-01');
    assert.equal(autorite(await get<Organization>(server, 'Organization/eg-750712184'))?.code, 'ARS-11');
    // Searchable as on the national API (the guide's data-registration-authority, read in meta.extension: data/ig/errata.json).
    const parAutorite = ressources<Practitioner>(await get(server, `Practitioner?data-registration-authority=${encodeURIComponent(`${TRE_R60}|CNOM`)}`));
    assert.ok(parAutorite.some((p) => p.id === 'ps-810001045367'));
    assert.ok(ressources<Organization>(await get(server, 'Organization?data-registration-authority=ARS-84')).some((o) => o.id === HERRIOT));
    assert.deepEqual(ressources(await get(server, 'Organization?data-registration-authority=ARS-93')), []);
    // The value set the profiles bind is served by the terminology module.
    const j83 = await get<ValueSet>(server, `ValueSet/$expand?url=${encodeURIComponent(J83)}`);
    const codes = j83.expansion?.contains?.map((c) => c.code) ?? [];
    for (const c of ['CNOM', 'ARS-84', 'ARS-01', 'ARS-11']) assert.ok(codes.includes(c), c);
    assert.ok(!codes.includes('ARS-82'), 'Rhône-Alpes merged into ARS-84 in 2016');
  });
});
