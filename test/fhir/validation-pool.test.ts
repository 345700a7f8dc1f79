// Bulk loads validate on worker threads (src/fhir/validation/pool.ts): the outcome must be exactly the one the
// main thread gives, an invalid resource must still stop its whole batch, and a dead worker must not take
// later batches with it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Practitioner } from '@medplum/fhirtypes';
import { fileURLToPath } from 'node:url';
import { vendoredPackages } from '../../src/config.ts';
import { FhirError } from '../../src/fhir/outcome.ts';
import { ValidationPool } from '../../src/fhir/validation/pool.ts';
import { detecterEncodage, lireLignes } from '../../src/referentiels/annuaire/lignes.ts';
import { practitioner } from '../../src/referentiels/annuaire/mapping.ts';
import { lecteurActivite, type LigneActivite } from '../../src/referentiels/annuaire/rpps.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ACTIVITE = fileURLToPath(new URL('../fixtures/annuaire/libreacces/PS_LibreAcces_Personne_activite_202601150830.txt', import.meta.url));

/** A conformant Annuaire practitioner (as-dp-practitioner), mapped from the first line of the RPPS fixture. */
let modele: Practitioner;
/** That practitioner under another id and RPPS number. */
const praticien = (i: number): Practitioner => {
  const p = structuredClone(modele);
  p.id = `pool-${i}`;
  for (const id of p.identifier ?? []) id.value = `${id.value!.slice(0, -4)}${String(i).padStart(4, '0')}`;
  return p;
};

let server: TestServer;
before(async () => {
  server = await startTestServer({ fhirPackages: vendoredPackages(), validationThreads: 1 });
  let lire: ((texte: string, numero: number) => LigneActivite) | undefined;
  for await (const { numero, texte } of lireLignes(ACTIVITE, await detecterEncodage(ACTIVITE))) {
    if (numero === 1) lire = lecteurActivite(texte, ACTIVITE);
    else {
      modele = practitioner([lire!(texte, numero)], [], []);
      break;
    }
  }
  assert.deepEqual(server.platform.fhir.validator.validate(modele).profile, [], 'the model is conformant');
});
after(() => server?.close());

describe('Validation threads', () => {
  it('give each resource the passes the main thread computes, valid or not (SOCLE_VALIDATION_THREADS)', async () => {
    const validator = server.platform.fhir.validator;
    const resources = [
      praticien(1),
      { ...praticien(2), identifier: praticien(2).identifier!.slice(0, 1) }, // one identifier of the two: profile error
      { ...praticien(3), gender: 'inconnu' }, // not a code of the required binding: base error
      { ...praticien(4), meta: { profile: ['https://exemple.invalid/inconnu', ...modele.meta!.profile!] } }, // one profile unknown
      { resourceType: 'Practitioner', id: 'pool-5', name: [{ family: 'SANS PROFIL' }] },
    ] as Practitioner[];
    const pool = new ValidationPool(vendoredPackages(), 1);
    try {
      const passes = await pool.passes(resources);
      assert.equal(passes.length, resources.length);
      resources.forEach((r, i) => assert.deepEqual(passes[i], validator.structure(r), `passes of ${r.id}`));
      assert.ok(passes[1]!.profiles.flatMap((p) => p ?? []).some((issue) => issue.severity === 'error'), 'the missing identifier value is found by the worker');
      assert.equal(passes[3]!.profiles[0], null, 'an unknown profile has no pass');
      // A stopped pool starts a new worker on its next batch.
      await pool.close();
      assert.deepEqual(await pool.passes([resources[0]!]), [validator.structure(resources[0]!)]);
    } finally {
      await pool.close();
    }
  });

  it('stop the whole batch on one invalid resource, with the status and message of a single write', async () => {
    const core = server.platform.fhir;
    const lot = Array.from({ length: 40 }, (_, i) => praticien(100 + i));
    const invalide = { ...praticien(140), identifier: praticien(140).identifier!.slice(0, 1) } as Practitioner;
    lot.splice(17, 0, invalide);
    const attendu = await core.create(invalide).then(
      () => assert.fail('the single write should have been refused'),
      (err: FhirError) => err,
    );
    assert.equal(attendu.status, 422);
    const recu = await core.db.transaction((tx) => core.createMany(lot, tx)).then(
      () => assert.fail('the batch should have been refused'),
      (err: FhirError) => err,
    );
    assert.equal(recu.status, 422);
    assert.deepEqual(recu.issues, attendu.issues);
    assert.equal((await fetch(`${server.fhirUrl}/Practitioner/pool-100`)).status, 404, 'nothing of the batch is written');
  });

  it('use the passes started before the write (prevalidate) and store the batch', async () => {
    const core = server.platform.fhir;
    const lot = Array.from({ length: 30 }, (_, i) => praticien(200 + i));
    core.prevalidate(lot);
    const stored = await core.db.transaction((tx) => core.createMany(lot, tx));
    assert.equal(stored.length, 30);
    const lu = (await (await fetch(`${server.fhirUrl}/Practitioner/pool-229`)).json()) as Practitioner;
    assert.deepEqual(lu.identifier, lot[29]!.identifier);
  });

  it('validate a batch on the main thread when its worker stopped, refusals included', async () => {
    const core = server.platform.fhir;
    const lot = Array.from({ length: 20 }, (_, i) => praticien(300 + i));
    const invalide = { ...praticien(320), identifier: praticien(320).identifier!.slice(0, 1) } as Practitioner;
    core.prevalidate([...lot, invalide]);
    await core.close(); // the worker stops with the batch in hand
    const refus = await core.db.transaction((tx) => core.createMany([...lot, invalide], tx)).then(
      () => assert.fail('the invalid resource should have been refused'),
      (err: FhirError) => err,
    );
    assert.equal(refus.status, 422);
    assert.equal((await core.db.transaction((tx) => core.createMany(lot, tx))).length, 20);
  });
});
