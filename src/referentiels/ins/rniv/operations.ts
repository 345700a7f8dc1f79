// The RNIV transitions as FHIR operations on Patient instances. Each one checks the rules
// (transitions.ts), writes the Patient and an AuditEvent naming the transition, its reason, the caller
// and the statuses before and after, in one transaction: both or neither.
import type { AuditEvent, AuditEventEntityDetail, Parameters, Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../../../db/index.ts';
import type { FhirCore } from '../../../fhir/core.ts';
import type { OperationRequest } from '../../../fhir/operations.ts';
import { badRequest, FhirError } from '../../../fhir/outcome.ts';
import { appelantCourant } from '../../../pki/appelant.ts';
import { exigerInsi, lireCode } from '../insi/fhir.ts';
import { rechercherParTraitsIdentite, verifierIns, type ResultatInsi } from '../insi/service.ts';
import { avecFiabilite, avecIdentiteInsi, estIns, lireFiabilite, sansIns, traitsLocaux, type Attribut, type Fiabilite } from './identite.ts';
import { enEcritureRniv } from './garde.ts';
import { apresAttribut, apresLevee, apresRecuperation, apresValidation, apresVerification } from './transitions.ts';

export const SYSTEME_TRANSITIONS = 'https://socle.esante.example/fhir/CodeSystem/rniv-transition';

interface Contexte {
  tx: Queryable;
  patient: Patient;
  avant: Fiabilite;
  req: OperationRequest;
  aujourdhui: string;
}

interface Effet {
  patient: Patient;
  motif: string;
  insi?: ResultatInsi;
}

interface Transition {
  nom: string;
  resume: string;
  executer(c: Contexte): Promise<Effet>;
}

const motif = (c: Contexte, defaut?: string) => {
  const m = c.req.params.string('motif', defaut === undefined)?.trim();
  if (m === '' && defaut === undefined) throw badRequest('Le paramètre "motif" ne doit pas être vide');
  return m || defaut!;
};

const attribut = (c: Contexte): Attribut => {
  const a = lireCode(c.req.params, 'attribut', true);
  if (a !== 'DOUT' && a !== 'FICT') throw badRequest(`Le paramètre "attribut" vaut DOUT (identité douteuse) ou FICT (identité fictive) : « ${a} » reçu`);
  return a;
};

const TRANSITIONS: Transition[] = [
  {
    nom: 'identite-recuperer-ins',
    resume: "Récupère l'INS de l'identité auprès de l'INSi avec ses traits : provisoire → récupérée, validée → qualifiée",
    async executer(c) {
      const profil = exigerInsi();
      const fiabilite = apresRecuperation(c.avant, c.aujourdhui);
      const insi = await rechercherParTraitsIdentite(c.tx, traitsLocaux(c.patient));
      if (!insi.identite) {
        throw new FhirError(422, `INSi : ${insi.libelle} (code ${insi.code}) : l'identité reste ${c.avant.statut}, à compléter ou à corriger avant un nouvel appel`, 'not-found');
      }
      return { patient: avecFiabilite(avecIdentiteInsi(c.patient, insi.identite), fiabilite), motif: motif(c, `Récupération INSi (code 00) par un certificat ${profil}`), insi };
    },
  },
  {
    nom: 'identite-verifier-ins',
    resume: "Vérifie l'INS enregistré auprès de l'INSi ; s'il n'est pas confirmé, l'identité perd son INS et son statut INSi",
    async executer(c) {
      exigerInsi();
      apresVerification(c.avant, true, c.aujourdhui);
      const ins = c.patient.identifier?.find(estIns);
      if (!ins?.value || !ins.system) throw new FhirError(409, `Patient/${c.patient.id} n'a pas d'INS enregistré à vérifier`, 'business-rule');
      const insi = await verifierIns(c.tx, ins.value, ins.system, traitsLocaux(c.patient));
      const confirme = insi.code === '00';
      const fiabilite = apresVerification(c.avant, confirme, c.aujourdhui);
      const patient = avecFiabilite(confirme ? c.patient : sansIns(c.patient), fiabilite);
      return { patient, motif: motif(c, `Vérification INSi : ${insi.libelle} (code ${insi.code})`), insi };
    },
  },
  {
    nom: 'identite-valider',
    resume: "Enregistre le contrôle d'une pièce d'identité à haut niveau de confiance : provisoire → validée, récupérée → qualifiée",
    async executer(c) {
      const piece = lireCode(c.req.params, 'piece', true)!;
      const date = c.req.params.string('dateValidation') ?? c.aujourdhui;
      if (!/^\d{4}-\d{2}-\d{2}$/u.test(date)) throw badRequest(`Le paramètre "dateValidation" est une date AAAA-MM-JJ : « ${date} » reçu`);
      const fiabilite = apresValidation(c.avant, piece, date);
      return { patient: avecFiabilite(c.patient, fiabilite), motif: motif(c, `Pièce d'identité contrôlée : ${piece}`) };
    },
  },
  {
    nom: 'identite-douteuse',
    resume: "Attribue l'attribut identité douteuse (DOUT) : l'identité redevient provisoire et perd son INS",
    async executer(c) {
      const fiabilite = apresAttribut(c.avant, 'DOUT');
      return { patient: avecFiabilite(sansIns(c.patient), fiabilite), motif: motif(c) };
    },
  },
  {
    nom: 'identite-fictive',
    resume: "Attribue l'attribut identité fictive (FICT) : l'identité redevient provisoire et perd son INS",
    async executer(c) {
      const fiabilite = apresAttribut(c.avant, 'FICT');
      return { patient: avecFiabilite(sansIns(c.patient), fiabilite), motif: motif(c) };
    },
  },
  {
    nom: 'identite-lever-attribut',
    resume: "Lève l'attribut identité douteuse (DOUT) ou fictive (FICT) ; l'identité reste provisoire",
    async executer(c) {
      const fiabilite = apresLevee(c.avant, attribut(c));
      return { patient: avecFiabilite(c.patient, fiabilite), motif: motif(c) };
    },
  },
];

export function enregistrerTransitions(core: FhirCore): void {
  for (const t of TRANSITIONS) {
    core.operations.register({
      name: t.nom,
      levels: ['instance'],
      types: ['Patient'],
      affectsState: true,
      permittedTo: ['health-professionals', 'insi-clients'],
      summary: t.resume,
      handler: (req) => (req.tx ? appliquer(req, t, req.tx) : req.core.db.transaction((tx) => appliquer(req, t, tx))),
    });
  }
}

function appliquer(req: OperationRequest, t: Transition, tx: Queryable): Promise<Parameters> {
  return enEcritureRniv(async () => {
    const { core } = req;
    const stored = await core.read('Patient', req.id!, tx);
    const patient = JSON.parse(stored.json) as Patient;
    const avant = lireFiabilite(patient);
    const effet = await t.executer({ tx, patient, avant, req, aujourdhui: new Date().toISOString().slice(0, 10) });
    const ecrit = await core.update('Patient', stored.id, effet.patient, { ifMatch: stored.versionId }, tx);
    const apres = lireFiabilite(effet.patient);
    const audit = await core.create(auditEvent(t, ecrit.stored.id, ecrit.stored.versionId, avant, apres, effet), {}, tx);
    return {
      resourceType: 'Parameters',
      parameter: [
        { name: 'statut', valueCode: apres.statut },
        ...(effet.insi ? [{ name: 'code', valueCode: effet.insi.code }, { name: 'libelle', valueString: effet.insi.libelle }] : []),
        { name: 'patient', resource: JSON.parse(core.present('Patient', ecrit.stored.json)) as Patient },
        { name: 'audit', valueReference: { reference: `AuditEvent/${audit.stored.id}` } },
      ],
    };
  });
}

function auditEvent(t: Transition, id: string, version: number, avant: Fiabilite, apres: Fiabilite, effet: Effet): AuditEvent {
  const appelant = appelantCourant();
  const detail: AuditEventEntityDetail[] = [
    { type: 'statutAvant', valueString: avant.statut },
    { type: 'statutApres', valueString: apres.statut },
    { type: 'version', valueString: String(version) },
  ];
  if (apres.attributs.length > 0) detail.push({ type: 'attributs', valueString: apres.attributs.join(' ') });
  if (effet.insi) detail.push({ type: 'codeCR', valueString: effet.insi.code });
  return {
    resourceType: 'AuditEvent',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: SYSTEME_TRANSITIONS, code: t.nom, display: t.resume }],
    action: 'U',
    recorded: new Date().toISOString(),
    outcome: '0',
    outcomeDesc: effet.motif,
    agent: [{ requestor: true, who: { display: appelant.sujet }, name: appelant.sujet }],
    source: {
      observer: { display: 'Socle — identitovigilance (RNIV)' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    entity: [
      {
        what: { reference: `Patient/${id}` },
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
        description: effet.motif,
        detail,
      },
    ],
  };
}
