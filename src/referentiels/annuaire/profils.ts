// Canonicals, identifier systems and code systems of the Annuaire Santé implementation guide
// (ans.fhir.fr.annuaire 1.2.0-snapshot-2, FR Core) used by the mapping.
import type { CodeableConcept, Extension, Meta } from '@medplum/fhirtypes';

const AS = 'https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition';
const FR = 'https://hl7.fr/ig/fhir/core/StructureDefinition';
const VERSION_AS = '1.2.0-snapshot-2';
// The version the Annuaire's profiles fix in their meta.profile slices (FR Core 2.0.0 validates it here).
const VERSION_FR = '2.2.0';

export const PROFILS = {
  Practitioner: [`${FR}/fr-core-practitioner|${VERSION_FR}`, `${AS}/as-dp-practitioner|${VERSION_AS}`],
  PractitionerRole: [`${FR}/fr-core-practitioner-role|${VERSION_FR}`, `${AS}/as-dp-practitionerrole|${VERSION_AS}`],
  Organization: [`${FR}/fr-core-organization|${VERSION_FR}`, `${AS}/as-dp-organization|${VERSION_AS}`],
} as const;

export const SYSTEMES = {
  idNatPs: 'urn:oid:1.2.250.1.71.4.2.1',
  rpps: 'https://rpps.esante.gouv.fr',
  idNatSt: 'urn:oid:1.2.250.1.71.4.2.2',
  finess: 'https://finess.esante.gouv.fr',
  sirene: 'https://sirene.fr',
  rppsRang: 'https://rppsrang.esante.gouv.fr',
  typeIdentifiant: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203',
  typeOrganisation: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-3307',
};

export const nos = (table: string): string => `https://mos.esante.gouv.fr/NOS/${table}/FHIR/${table.replace('_', '-')}`;

export const EXT = {
  dataTrace: `${AS}/as-ext-data-trace`,
  organizationTypes: `${AS}/as-ext-organization-types`,
  mailboxMetadata: `${AS}/as-ext-mailbox-mss-metadata`,
  emailType: `${FR}/fr-core-contact-point-email-type`,
  inseeCode: `${FR}/fr-core-address-insee-code`,
  organizationPeriod: 'http://hl7.org/fhir/StructureDefinition/organization-period',
  geolocation: 'http://hl7.org/fhir/StructureDefinition/geolocation',
  adxp: (part: string) => `http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-${part}`,
};

/** meta of every imported resource: both profiles, the Annuaire's source, the data-trace extension. */
export function meta(
  type: keyof typeof PROFILS,
  systeme: 'RPPS' | 'FINESS',
  options: { dateMaj?: string; autorite?: CodeableConcept; profils?: readonly string[] } = {},
): Meta {
  const trace: Extension = {
    url: EXT.dataTrace,
    extension: [
      ...(options.autorite ? [{ url: 'autorite-enregistrement', valueCodeableConcept: options.autorite }] : []),
      { url: 'systeme-information', valueCode: systeme },
      ...(options.dateMaj ? [{ url: 'date-maj-ae', valueDate: options.dateMaj }] : []),
    ],
  };
  return { profile: [...(options.profils ?? PROFILS[type])], source: 'https://annuaire.esante.gouv.fr', extension: [trace] };
}
