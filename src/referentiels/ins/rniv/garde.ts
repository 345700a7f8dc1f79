// Two guards on every Patient, whatever the route (REST, Bundle, operations):
// - on the way out, the INS leaves the platform only with a qualified identity (FR Core PatientINS,
//   RNIV): every other Patient is served without its INS identifiers. Searching by INS still works,
//   because the search index reads the stored resource: the platform matches an INS it is given.
// - on the way in, the RNIV status, its attributes, and the INS and traits INSi brought change only
//   through the RNIV operations, so a plain update cannot claim a qualification nobody performed.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../../../db/index.ts';
import type { FhirCore } from '../../../fhir/core.ts';
import { FhirError } from '../../../fhir/outcome.ts';
import type { StoredResource } from '../../../fhir/repository.ts';
import { normaliserPrenoms, normaliserTrait } from '../traits.ts';
import { aUneFiabilite, estIns, lireFiabilite, sansIns, traitsLocaux, type Fiabilite } from './identite.ts';

const ecritureRniv = new AsyncLocalStorage<true>();

/** Runs the writes of an RNIV operation, which the write guard lets through. */
export const enEcritureRniv = <T>(fn: () => Promise<T>): Promise<T> => ecritureRniv.run(true, fn);

export function garderIdentites(core: FhirCore): void {
  core.addOutputFilter('Patient', (r) => {
    const p = r as Patient;
    return lireFiabilite(p).statut === 'QUAL' ? p : sansIns(p);
  });
  core.onWrite(async (tx, stored) => {
    if (stored.resourceType !== 'Patient' || stored.deleted || ecritureRniv.getStore()) return;
    controlerEcriture(await versionPrecedente(core, tx, stored), JSON.parse(stored.json) as Patient);
  });
}

async function versionPrecedente(core: FhirCore, tx: Queryable, stored: StoredResource): Promise<Patient | undefined> {
  if (stored.versionId <= 1) return undefined;
  try {
    return JSON.parse((await core.vread('Patient', stored.id, String(stored.versionId - 1), tx)).json) as Patient;
  } catch (err) {
    if (err instanceof FhirError && err.status === 410) return undefined; // re-created after a deletion
    throw err;
  }
}

const PAR_OPERATIONS = 'ne change que par les opérations RNIV ($identite-recuperer-ins, $identite-valider, $identite-douteuse, $identite-fictive, $identite-lever-attribut, $identite-verifier-ins)';

function controlerEcriture(avant: Patient | undefined, apres: Patient): void {
  const f = lireFiabilite(apres);
  if (!avant || !aUneFiabilite(avant)) {
    // A new local identity, or one that never had a status: it may only start provisional.
    if (aUneFiabilite(apres) && f.statut !== 'PROV') {
      throw new FhirError(422, `Le statut d'identité ${f.statut} ${PAR_OPERATIONS} : une identité est créée provisoire (PROV)`, 'business-rule');
    }
    if (f.attributs.includes('DOUT') && f.attributs.includes('FICT')) {
      throw new FhirError(422, 'Les attributs identité fictive (FICT) et identité douteuse (DOUT) ne se cumulent pas', 'business-rule');
    }
    return;
  }
  const precedente = lireFiabilite(avant);
  if (!memeFiabilite(precedente, f) || !aUneFiabilite(apres)) {
    throw new FhirError(409, `Le statut de l'identité (extension fr-core-identity-reliability, actuellement ${precedente.statut}) ${PAR_OPERATIONS}`, 'business-rule');
  }
  if (precedente.statut !== 'RECUP' && precedente.statut !== 'QUAL') return;
  if (cleIns(avant) !== cleIns(apres)) {
    throw new FhirError(
      409,
      `L'INS d'une identité ${precedente.statut === 'QUAL' ? 'qualifiée' : 'récupérée'} vient de l'INSi et ${PAR_OPERATIONS}. ` +
        "Une identité non qualifiée est servie sans son INS : pour modifier ses autres éléments, utilisez PATCH, qui s'applique à la version enregistrée",
      'business-rule',
    );
  }
  if (cleTraits(avant) !== cleTraits(apres)) {
    throw new FhirError(
      409,
      "Les traits INS (nom de naissance, prénoms, sexe, date et lieu de naissance) d'une identité récupérée ou qualifiée viennent de l'INSi : " +
        'pour les corriger, déclarez-la douteuse ($identite-douteuse), corrigez-la, puis récupérez à nouveau son INS',
      'business-rule',
    );
  }
}

function memeFiabilite(a: Fiabilite, b: Fiabilite): boolean {
  const cle = (f: Fiabilite) => JSON.stringify([f.statut, [...f.attributs].sort(), f.modeObtention, f.dateInterrogationInsi, f.dateValidation, f.piece]);
  return cle(a) === cle(b);
}

const cleIns = (p: Patient) => JSON.stringify((p.identifier ?? []).filter(estIns).map((i) => `${i.system}|${i.value}|${i.use ?? ''}`).sort());

function cleTraits(p: Patient): string {
  try {
    const t = traitsLocaux(p);
    return JSON.stringify([normaliserTrait(t.nomNaissance), normaliserPrenoms(t.prenoms), t.sexe, t.dateNaissance, t.lieuNaissance]);
  } catch {
    return 'traits incomplets';
  }
}
