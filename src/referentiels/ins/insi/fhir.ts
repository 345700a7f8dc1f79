// The INSi teleservice as FHIR operations, for clients that speak FHIR rather than SOAP:
// Patient/$ins-recuperation (traits, or carte Vitale data) and Patient/$ins-verification with the
// traits as inputs, or Patient/{id}/$… with a local identity's traits, refused for a doubtful or
// fictitious identity (RNIV EXI SI 09). Same service and same access rule as /insi.
import type { Coding, Parameters, Patient } from '@medplum/fhirtypes';
import type { FhirCore } from '../../../fhir/core.ts';
import type { OperationParams, OperationRequest } from '../../../fhir/operations.ts';
import { badRequest, FhirError } from '../../../fhir/outcome.ts';
import { currentContext } from '../../../access/context.ts';
import { appelantCourant } from '../../../pki/appelant.ts';
import { RequeteInsiInvalide, type TraitsInsi } from '../traits.ts';
import { avecIdentiteInsi, estIns, identifiantIns, lireFiabilite, traitsLocaux } from '../rniv/identite.ts';
import { exigerAppelInsiPermis } from '../rniv/transitions.ts';
import { autoriserInsi, type ProfilInsi } from './autorisation.ts';
import { rechercherParCarteVitale, rechercherParTraitsIdentite, verifierIns, type ResultatInsi } from './service.ts';

/** The caller's INSi profile; 401 without an INSi certificate, 403 with a certificate of another profile. */
export function exigerInsi(): ProfilInsi {
  // An organisation certificate is judged on itself (its INSi profile); a CPS card, like a token, on its holder.
  const principal = currentContext()?.principal;
  const a = autoriserInsi(appelantCourant(), principal?.certificate && principal.kind === 'system' ? undefined : principal);
  if (a.accordee) return a.profil;
  throw a.code === 'desir_560' ? new FhirError(403, a.motif, 'forbidden') : new FhirError(401, a.motif, 'login');
}

/** A code input given as code, string or Coding. */
export function lireCode(params: OperationParams, nom: string, requis = false): string | undefined {
  const v = params.all(nom)[0];
  const code = typeof v === 'object' && v !== null ? (v as Coding).code : v === undefined ? undefined : String(v);
  if (code === undefined && requis) throw badRequest(`Le paramètre "${nom}" est obligatoire`);
  return code;
}

const SEXES: Record<string, string> = { male: 'M', female: 'F' };

function traitsParametres(params: OperationParams): TraitsInsi {
  const sexe = lireCode(params, 'sexe') ?? '';
  return {
    nomNaissance: params.string('nomNaissance') ?? '',
    prenoms: params.all('prenom').map((p) => {
      if (typeof p === 'object') throw badRequest('Le paramètre "prenom" est une chaîne (un paramètre par prénom)');
      return String(p);
    }),
    sexe: SEXES[sexe] ?? sexe,
    dateNaissance: params.string('dateNaissance') ?? '',
    lieuNaissance: params.string('lieuNaissance'),
  };
}

async function patientLocal(req: OperationRequest): Promise<Patient> {
  const patient = JSON.parse((await req.core.read('Patient', req.id!, req.tx)).json) as Patient;
  exigerAppelInsiPermis(lireFiabilite(patient));
  return patient;
}

function reponse(r: ResultatInsi, avecIdentite: boolean): Parameters {
  const parameter: Parameters['parameter'] = [
    { name: 'code', valueCode: r.code },
    { name: 'libelle', valueString: r.libelle },
  ];
  if (r.identite && avecIdentite) {
    parameter.push({ name: 'ins', valueIdentifier: identifiantIns(r.identite) });
    parameter.push({ name: 'patient', resource: avecIdentiteInsi({ resourceType: 'Patient' }, r.identite) });
  }
  return { resourceType: 'Parameters', parameter };
}

// The SOAP element a request error names, as the input parameter of these operations.
const PARAMETRES: Record<string, string> = { MatriculeINS: 'matricule', MatriculeOD: 'matriculeOuvrantDroit', OID: 'oid', Prenom: 'prenom' };
const parametre = (champ: string) => PARAMETRES[champ] ?? champ[0]!.toLowerCase() + champ.slice(1);

async function enFhir<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RequeteInsiInvalide) throw badRequest(err.message, err.champ && `Parameters.parameter.where(name = '${parametre(err.champ)}')`);
    throw err;
  }
}

export function enregistrerOperationsInsi(core: FhirCore): void {
  core.operations.register({
    name: 'ins-recuperation',
    levels: ['type', 'instance'],
    types: ['Patient'],
    affectsState: false,
    summary: "INSi : récupère l'INS et les traits de référence par traits d'identité ou par données de carte Vitale (codes 00, 01, 02)",
    handler: (req) =>
      enFhir(async () => {
        exigerInsi();
        const q = req.tx ?? req.core.db;
        if (req.level === 'instance') return reponse(await rechercherParTraitsIdentite(q, traitsLocaux(await patientLocal(req))), true);
        const p = req.params;
        if (p.has('matriculeIndividu') || p.has('matriculeOuvrantDroit')) {
          const carte = {
            matriculeIndividu: p.string('matriculeIndividu'),
            matriculeOuvrantDroit: p.string('matriculeOuvrantDroit'),
            nomNaissance: p.string('nomNaissance'),
            dateNaissance: p.string('dateNaissance'),
            rangNaissance: p.string('rangNaissance'),
          };
          return reponse(await rechercherParCarteVitale(q, carte), true);
        }
        return reponse(await rechercherParTraitsIdentite(q, traitsParametres(p)), true);
      }),
  });

  core.operations.register({
    name: 'ins-verification',
    levels: ['type', 'instance'],
    types: ['Patient'],
    affectsState: false,
    summary: "INSi : vérifie qu'un matricule INS (et son OID) correspond aux traits d'identité (00 oui, 01 non)",
    handler: (req) =>
      enFhir(async () => {
        exigerInsi();
        const q = req.tx ?? req.core.db;
        if (req.level === 'instance') {
          const patient = await patientLocal(req);
          const ins = patient.identifier?.find(estIns);
          if (!ins?.value || !ins.system) throw new FhirError(409, `Patient/${patient.id} n'a pas d'INS enregistré à vérifier`, 'business-rule');
          return reponse(await verifierIns(q, ins.value, ins.system, traitsLocaux(patient)), false);
        }
        const matricule = req.params.string('matricule', true)!;
        return reponse(await verifierIns(q, matricule, req.params.string('oid'), traitsParametres(req.params)), false);
      }),
  });
}
