// Identity claims from the platform's own registries: a professional's Pro Santé Connect claims
// are built from the Annuaire (Practitioner, PractitionerRole, Organization in the FHIR store), a
// patient's from their Patient resource. Shapes follow specs/referentiels.md §4.3: all strings,
// empty string for absent values, `code^OID` for coded values.
import type { Organization, Patient, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import type { FhirCore } from '../fhir/core.ts';

export const RPPS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';
const FINESS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.2';
const OID_PROFESSION = '1.2.250.1.213.1.1.5.5';
const OID_SECTEUR = '1.2.250.1.71.4.2.4';
export const INS_SYSTEMS = ['1.2.250.1.213.1.4.8', '1.2.250.1.213.1.4.9', '1.2.250.1.213.1.4.10', '1.2.250.1.213.1.4.11'].map((o) => `urn:oid:${o}`);
/** Strong authentication (TOTP of the e-CPS stand-in), as PSC reports it. */
const PALIER_FORT = 'APPPRIP3^1.2.250.1.213.1.5.1.1.1';

export interface ProfessionalIdentity {
  practitionerId: string;
  idNatPs: string;
  professions: string[];
  specialties: string[];
  claims: Record<string, unknown>;
}

export interface PatientIdentity {
  patientId: string;
  ins: string;
  claims: Record<string, unknown>;
}

const isProfession = (system?: string) => !!system && /TRE[-_]G15|1\.2\.250\.1\.213\.1\.1\.5\.5/.test(system);
const isSavoirFaire = (system?: string) => !!system && /TRE[-_]R38|TRE[-_]R3[3-9]|SpecialiteOrdinale|SavoirFaire/i.test(system);
const isSecteur = (system?: string) => !!system && /TRE[-_]R02|SecteurActivite/i.test(system);

export async function professionalIdentity(core: FhirCore, idNatPs: string): Promise<ProfessionalIdentity | undefined> {
  const found = await core.search('Practitioner', { identifier: `${RPPS_SYSTEM}|${idNatPs}`, _count: '1' });
  const stored = found.matches[0];
  if (!stored) return undefined;
  const practitioner = JSON.parse(stored.json) as Practitioner;
  const roles = await core.search('PractitionerRole', {
    practitioner: `Practitioner/${stored.id}`,
    _include: 'PractitionerRole:organization',
    _count: '100',
  });
  const organizations = new Map(roles.included.map((o) => [`Organization/${o.id}`, JSON.parse(o.json) as Organization]));
  const practitionerRoles = roles.matches.map((r) => JSON.parse(r.json) as PractitionerRole).filter((r) => r.active !== false);

  const name = practitioner.name?.find((n) => n.use === 'official' || n.use === 'usual') ?? practitioner.name?.[0];
  const family = name?.family ?? '';
  const given = name?.given?.[0] ?? '';
  const civilite = practitioner.gender === 'female' ? 'MME' : practitioner.gender === 'male' ? 'M' : '';
  const civiliteExercice = name?.prefix?.some((p) => /^dr/i.test(p)) ? 'DR' : civilite;

  const codes = (list: { coding?: { system?: string; code?: string }[] }[] | undefined, test: (s?: string) => boolean) =>
    (list ?? []).flatMap((c) => c.coding ?? []).filter((c) => test(c.system) && c.code).map((c) => c.code!);
  const professions = unique([
    ...codes(practitioner.qualification?.map((q) => q.code), isProfession),
    ...practitionerRoles.flatMap((r) => codes(r.code, isProfession)),
  ]);
  const specialties = unique([
    ...codes(practitioner.qualification?.map((q) => q.code), isSavoirFaire),
    ...practitionerRoles.flatMap((r) => codes(r.specialty, isSavoirFaire)),
  ]);

  const activity = (role: PractitionerRole) => {
    const org = role.organization?.reference ? organizations.get(role.organization.reference) : undefined;
    const address = org?.address?.[0];
    const finess = org?.identifier?.find((i) => i.system === FINESS_SYSTEM)?.value ?? '';
    return {
      codeModeExercice: '',
      codeSecteurDactivite: codes(org?.type, isSecteur)[0] ?? '',
      codeSectionPharmacien: '',
      codeRole: '',
      codeGenreActivite: 'GENR01',
      numeroSiretSite: '',
      numeroSirenSite: '',
      // FINESS idNat_Struct carry the type prefix "1"
      numeroFinessSite: finess.replace(/^1(?=\d{9}$)/, ''),
      numeroFinessetablissementJuridique: '',
      identifiantTechniqueDeLaStructure: finess,
      raisonSocialeSite: org?.name ?? '',
      enseigneCommercialeSite: '',
      complementDestinataire: '',
      complementPointGeographique: '',
      numeroVoie: '',
      indiceRepetitionVoie: '',
      codeTypeDeVoie: '',
      libelleVoie: address?.line?.join(' ') ?? '',
      mentionDistribution: '',
      bureauCedex: address?.city ?? '',
      codePostal: address?.postalCode ?? '',
      codeCommune: '',
      codePays: '',
      telephone: '',
      telephone2: '',
      telecopie: '',
      adresseEMail: '',
      codeDepartement: address?.postalCode?.slice(0, 2) ?? '',
      ancienIdentifiantDeLaStructure: '',
      autoriteDenregistrement: '',
    };
  };
  const exercices = professions.map((profession) => ({
    codeProfession: profession,
    codeCategorieProfessionnelle: 'C',
    codeCiviliteDexercice: civiliteExercice,
    nomDexercice: family,
    prenomDexercice: given,
    codeTypeSavoirFaire: specialties.length > 0 ? 'S' : '',
    codeSavoirFaire: specialties[0] ?? '',
    activities: practitionerRoles.filter((r) => codes(r.code, isProfession).includes(profession)).map(activity),
  }));
  const firstActivity = exercices.flatMap((e) => e.activities)[0];
  const secteur = firstActivity?.codeSecteurDactivite;

  return {
    practitionerId: stored.id,
    idNatPs,
    professions,
    specialties,
    claims: {
      SubjectNameID: idNatPs,
      preferred_username: idNatPs,
      given_name: given,
      family_name: family,
      SubjectRefPro: { codeCivilite: civilite, exercices },
      SubjectRole: professions.map((p) => `${p}^${OID_PROFESSION}`),
      Secteur_Activite: secteur ? `${secteur}^${OID_SECTEUR}` : '',
      SubjectOrganization: firstActivity?.raisonSocialeSite ?? '',
      SubjectOrganizationID: firstActivity?.identifiantTechniqueDeLaStructure ?? '',
      Palier_Authentification: PALIER_FORT,
      otherIds: (practitioner.identifier ?? [])
        .filter((i) => i.system !== RPPS_SYSTEM && i.value)
        .map((i) => ({ identifiant: i.value!, origine: i.system ?? '', qualite: 1 })),
      UITVersion: '1.0',
    },
  };
}

export async function patientIdentity(core: FhirCore, ins: string): Promise<PatientIdentity | undefined> {
  const found = await core.search('Patient', { identifier: INS_SYSTEMS.map((s) => `${s}|${ins}`).join(','), _count: '1' });
  const stored = found.matches[0];
  if (!stored) return undefined;
  const patient = JSON.parse(stored.json) as Patient;
  const name = patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0];
  const identifier = patient.identifier?.find((i) => i.value === ins && INS_SYSTEMS.includes(i.system ?? ''));
  return {
    patientId: stored.id,
    ins,
    claims: {
      given_name: name?.given?.join(' ') ?? '',
      family_name: name?.family ?? '',
      birthdate: patient.birthDate ?? '',
      gender: patient.gender ?? '',
      ins,
      ins_oid: identifier?.system?.replace(/^urn:oid:/, '') ?? '',
    },
  };
}

const unique = (values: string[]) => [...new Set(values)];
