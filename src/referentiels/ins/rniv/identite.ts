// A local identity as a FHIR Patient with the FR Core INS elements (specs/referentiels.md §5.5): the
// identity-reliability extension (RNIV status, attributes, collection channel, identity document),
// the INS identifiers, the official name with the birth list of first names, and the birth place.
// URLs and codes are those of FR Core 2.1+/2.2: the vendored 2.0.0 package predates the four RNIV
// statuses (its fr-core-ident-reliability extension has no RECUP or QUAL).
import type { Extension, Identifier, Patient } from '@medplum/fhirtypes';
import { FhirError } from '../../../fhir/outcome.ts';
import { SYSTEME_TYPE_IDENTIFIANT, systemeIns } from '../oids.ts';
import type { IdentiteReference } from '../reference.ts';
import type { TraitsInsi } from '../traits.ts';

const FR_CORE = 'https://hl7.fr/ig/fhir/core';
const URL_FIABILITE = `${FR_CORE}/StructureDefinition/fr-core-identity-reliability`;
const CS_STATUT = `${FR_CORE}/CodeSystem/fr-core-cs-identity-status`;
const CS_ATTRIBUT = `${FR_CORE}/CodeSystem/fr-core-cs-identity-status-comment`;
const CS_MODE_OBTENTION = `${FR_CORE}/CodeSystem/fr-core-cs-method-collection`;
const CS_PIECE = `${FR_CORE}/CodeSystem/fr-core-cs-mode-validation-identity`;
const URL_LISTE_PRENOMS = `${FR_CORE}/StructureDefinition/fr-core-patient-birth-list-given-name`;
const URL_CODE_INSEE = `${FR_CORE}/StructureDefinition/fr-core-address-insee-code`;
const URL_LIEU_NAISSANCE = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace';
const CS_COG = 'https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM';

export type Statut = 'PROV' | 'RECUP' | 'VALI' | 'QUAL';

export const STATUTS: Record<Statut, string> = {
  PROV: 'Identité provisoire',
  RECUP: 'Identité récupérée',
  VALI: 'Identité validée',
  QUAL: 'Identité qualifiée',
};

export const ATTRIBUTS = { DOUT: 'Identité douteuse', FICT: 'Identité fictive' } as const;
export type Attribut = keyof typeof ATTRIBUTS;

/** Documents of fr-core-cs-mode-validation-identity: the high-trust devices and the RNIV's accepted equivalents. */
export const PIECES: Record<string, string> = {
  CN: "Carte nationale d'identité",
  eCN: "e-carte d'identité",
  PA: 'Passeport',
  CS: 'Carte de séjour ou titre de séjour',
  IN: 'Identité Numérique La Poste',
  AV: 'Application Carte Vitale',
  LECV: 'Livret de famille, accompagné de la carte Vitale avec photographie',
  AN: "Extrait d'acte de naissance",
  LEP: 'Livret de famille des parents',
  CC: 'Carnet de circulation pour étranger mineur',
  ANCV: "Extrait d'acte de naissance, accompagné de la carte Vitale avec photographie",
};

export interface Fiabilite {
  /** PROV when the Patient carries no status. */
  statut: Statut;
  /** Codes of fr-core-cs-identity-status-comment: DOUT, FICT, HOMA… */
  attributs: string[];
  modeObtention?: string;
  dateInterrogationInsi?: string;
  dateValidation?: string;
  piece?: string;
}

export function lireFiabilite(p: Patient): Fiabilite {
  const ext = p.extension?.find((e) => e.url === URL_FIABILITE);
  const sous = (url: string) => ext?.extension?.find((e) => e.url === url);
  const code = sous('identityStatus')?.valueCoding?.code;
  return {
    statut: code && code in STATUTS ? (code as Statut) : 'PROV',
    attributs: (ext?.extension ?? [])
      .filter((e) => e.url === 'comment')
      .flatMap((e) => e.valueCodeableConcept?.coding ?? [])
      .filter((c) => c.system === CS_ATTRIBUT && c.code)
      .map((c) => c.code!),
    modeObtention: sous('methodCollection')?.valueCoding?.code,
    dateInterrogationInsi: sous('dateInterrogationINSi')?.valueDate,
    dateValidation: sous('validationDate')?.valueDate,
    piece: sous('validationMode')?.valueCoding?.code,
  };
}

/** Whether the Patient carries the extension at all (a record without it is provisional by default). */
export const aUneFiabilite = (p: Patient) => p.extension?.some((e) => e.url === URL_FIABILITE) ?? false;

export function avecFiabilite(p: Patient, f: Fiabilite): Patient {
  const sous: Extension[] = [{ url: 'identityStatus', valueCoding: { system: CS_STATUT, code: f.statut, display: STATUTS[f.statut] } }];
  if (f.modeObtention) sous.push({ url: 'methodCollection', valueCoding: { system: CS_MODE_OBTENTION, code: f.modeObtention } });
  if (f.dateInterrogationInsi) sous.push({ url: 'dateInterrogationINSi', valueDate: f.dateInterrogationInsi });
  for (const a of f.attributs) {
    const display = ATTRIBUTS[a as Attribut];
    sous.push({ url: 'comment', valueCodeableConcept: { coding: [{ system: CS_ATTRIBUT, code: a, ...(display ? { display } : {}) }] } });
  }
  if (f.dateValidation) sous.push({ url: 'validationDate', valueDate: f.dateValidation });
  if (f.piece) sous.push({ url: 'validationMode', valueCoding: { system: CS_PIECE, code: f.piece, display: PIECES[f.piece] } });
  const autres = (p.extension ?? []).filter((e) => e.url !== URL_FIABILITE);
  return { ...p, extension: [{ url: URL_FIABILITE, extension: sous }, ...autres] };
}

/** Any identifier in an INS system: INS-NIR, INS-NIA, test and démo OIDs (and the NSS, which shares the NIR's OID). */
export const estIns = (i: Identifier) => i.system !== undefined && systemeIns(i.system) !== undefined;

export function sansIns(p: Patient): Patient {
  if (!p.identifier?.some(estIns)) return p;
  const { identifier, ...reste } = p;
  const autres = identifier!.filter((i) => !estIns(i));
  return autres.length > 0 ? { ...reste, identifier: autres } : reste;
}

/** The identifier of an INS returned by INSi, typed by its OID (never inferred from the number). */
export function identifiantIns(i: IdentiteReference): Identifier {
  const s = systemeIns(i.oid);
  if (!s) throw new Error(`OID ${i.oid} inconnu pour un matricule INS`);
  return { use: s.use, type: { coding: [{ system: SYSTEME_TYPE_IDENTIFIANT, code: s.code }] }, system: s.system, value: i.nir };
}

const extension = (p: { extension?: Extension[] } | undefined, url: string) => p?.extension?.find((e) => e.url === url);

/** The name INSi traits come from: the official (birth) name, else the first one. */
const nomOfficiel = (p: Patient) => p.name?.find((n) => n.use === 'official') ?? p.name?.[0];

/** The local traits an INSi call sends; a record that lacks one of them cannot be sent (422). */
export function traitsLocaux(p: Patient): TraitsInsi {
  const nom = nomOfficiel(p);
  const liste = extension(nom, URL_LISTE_PRENOMS)?.valueString;
  const manque = (quoi: string) => new FhirError(422, `Patient/${p.id} : ${quoi} manque pour interroger l'INSi`, 'required');
  if (!nom?.family) throw manque('le nom de naissance (name.family du nom officiel)');
  if (p.gender !== 'male' && p.gender !== 'female') throw manque('le sexe (gender male ou female)');
  if (!p.birthDate || !/^\d{4}(-\d{2}){0,2}$/u.test(p.birthDate)) throw manque('la date de naissance (birthDate)');
  const lieu = extension(p, URL_LIEU_NAISSANCE)?.valueAddress;
  return {
    nomNaissance: nom.family,
    prenoms: liste ? liste.split(' ') : (nom.given ?? []),
    sexe: p.gender === 'male' ? 'M' : 'F',
    // A partial date is sent as INSi's "lunar" date.
    dateNaissance: `${p.birthDate}-00-00`.slice(0, 10),
    lieuNaissance: extension(lieu, URL_CODE_INSEE)?.valueCoding?.code,
  };
}

/**
 * The Patient with the traits and INS INSi returned, in FR Core INS form: these traits replace the
 * locally typed ones (RNIV), the official name gives the first prénom and the full birth list.
 */
export function avecIdentiteInsi(p: Patient, i: IdentiteReference): Patient {
  const officiel = nomOfficiel(p);
  const nom = {
    ...officiel,
    extension: [...(officiel?.extension ?? []).filter((e) => e.url !== URL_LISTE_PRENOMS), { url: URL_LISTE_PRENOMS, valueString: i.prenoms.join(' ') }],
    use: 'official' as const,
    family: i.nomNaissance,
    given: [i.prenoms[0]!],
  };
  const lieu: Extension = {
    url: URL_LIEU_NAISSANCE,
    valueAddress: { extension: [{ url: URL_CODE_INSEE, valueCoding: { system: CS_COG, code: i.lieuNaissance } }] },
  };
  return {
    ...p,
    identifier: [identifiantIns(i), ...(p.identifier ?? []).filter((x) => !estIns(x))],
    name: [nom, ...(p.name ?? []).filter((n) => n !== officiel)],
    gender: i.sexe === 'M' ? 'male' : 'female',
    birthDate: dateFhir(i.dateNaissance),
    extension: [...(p.extension ?? []).filter((e) => e.url !== URL_LIEU_NAISSANCE), lieu],
  };
}

// A "lunar" INSi date (00 for an unknown day or month) becomes a FHIR date of the precision known.
const dateFhir = (d: string) => (d.slice(5, 7) === '00' ? d.slice(0, 4) : d.slice(8) === '00' ? d.slice(0, 7) : d);
