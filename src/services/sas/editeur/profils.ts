// Canonical URLs, systems and codes of the SAS implementation guide (1.1.0, the version the official kit validates).
export const PROFIL = {
  bundle: 'http://sas.fr/fhir/StructureDefinition/BundleAgregateur',
  slot: 'http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur',
  schedule: 'http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur',
  practitioner: 'http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur',
  practitionerRole: 'http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur',
  location: 'http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur',
  cptsBundle: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator',
  cptsSlot: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator',
  cptsHealthcareService: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-healthcareservice-aggregator',
  cptsOrganization: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-organization-aggregator',
  sosBundle: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-bundle-aggregator',
  sosSlot: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-slot-aggregator',
  sosSchedule: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-schedule-aggregator',
  sosLocation: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-location-aggregator',
  sosOrganization: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-organization-aggregator',
  regulateur: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/FrPractitionerRegul',
  rendezVous: 'http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS',
  rendezVousSos: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-appointment',
} as const;

export const SYSTEME = {
  idnps: 'urn:oid:1.2.250.1.71.4.2.1',
  idnst: 'urn:oid:1.2.250.1.71.4.2.2',
  sas: 'urn:oid:1.2.250.1.213.3.6',
  v20203: 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203',
  v20203FrCore: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203',
  typeIdLieu: 'http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type',
  typeIdLieuFrCore: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-location-identifier-type',
  typeCreneau: 'https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  motifRdv: 'http://terminology.hl7.org/CodeSystem/v2-0276',
  specialite: 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale',
  categorieEtablissement: 'https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement',
} as const;

/** R5-style extension that ties a CPTS slot's serviceType to the CPTS HealthcareService. */
export const EXT_SERVICE_TYPE_R5 = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType';
export const EXT_OPERATEUR_RDV = 'http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator';

export type TypeCreneau = 'PUBLIC' | 'PRO' | 'SNP' | 'CPTS';
export type TypeConsultation = 'AMB' | 'HH' | 'VR';

/** The kit's datetime pattern: milliseconds and a numeric offset, never `Z`. */
export const FORMAT_DATE_SAS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$/;
