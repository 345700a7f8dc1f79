// Canonical URLs of the ROR implementation guide (ans.fhir.fr.ror, ME V3) and the NOS code systems
// (TRE) its value sets (JDV) draw from.
export const ROR_SD = 'https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/';

export const PROFILE = {
  organization: `${ROR_SD}ror-organization`,
  healthcareService: `${ROR_SD}ror-healthcareservice`,
  location: `${ROR_SD}ror-location`,
};

export const EXT = {
  supportedCapacity: `${ROR_SD}ror-location-supported-capacity`,
  communeCog: `${ROR_SD}ror-commune-cog`,
  metaCreationDate: `${ROR_SD}ror-meta-creation-date`,
  patientType: `${ROR_SD}ror-healthcareservice-patient-type`,
  sensitiveUnit: `${ROR_SD}ror-healthcareservice-sensitive-unit`,
  coordinateReliability: `${ROR_SD}ror-coordinate-reliability`,
  equipment: `${ROR_SD}ror-location-equipment`,
  equipmentLimit: `${ROR_SD}ror-location-equipment-limit`,
  residentialCapacity: `${ROR_SD}ror-location-residential-capacity`,
  organizationPrice: `${ROR_SD}ror-organization-price`,
  organizationClosingType: `${ROR_SD}ror-organization-closing-type`,
  organizationPeriod: 'http://hl7.org/fhir/StructureDefinition/organization-period',
};

const nos = (table: string) => `https://mos.esante.gouv.fr/NOS/${table}/FHIR/${table.replace('_', '-')}`;

export const TRE = {
  commune: nos('TRE_R13-Commune'),
  regionOM: nos('TRE_R30-RegionOM'),
  activiteOperationnelle: nos('TRE_R211-ActiviteOperationnelle'),
  modePriseEnCharge: nos('TRE_R213-ModePriseEnCharge'),
  champActivite: nos('TRE_R227-ChampActivite'),
  natureCapacite: nos('TRE_R329-NatureCapacite'),
  statutCapacite: nos('TRE_R330-TypeStatutCapacite'),
  temporaliteCapacite: nos('TRE_R331-TemporaliteCapacite'),
  genreCapacite: nos('TRE_R332-GenreCapacite'),
  typeFermetureCapacite: nos('TRE_R333-TypeFermetureCapacite'),
  typeLitSupplementaire: nos('TRE_R334-TypeLitSupplementaire'),
  typeSourceCapacite: nos('TRE_R335-TypeSourceCapacite'),
  typeCrise: nos('TRE_R336-TypeCrise'),
  affectationTemporaire: nos('TRE_R337-AffectationTemporaire'),
  fonctionLieu: nos('TRE_R343-FonctionLieu'),
  typeIdentifiantRessource: nos('TRE_R354-TypeIdentifiantRessourceOperationnelle'),
  equipement: nos('TRE_R212-Equipement'),
  typeCaracteristiqueEquipement: nos('TRE_R340-TypeCaracteristiqueEquipement'),
  typeHabitation: nos('TRE_R242-TypeHabitation'),
  typeFermeture: nos('TRE_R286-TypeFermeture'),
  typeTarif: nos('TRE_R246-TypeTarif'),
  unitePrix: nos('TRE_R228-UnitePrix'),
  groupeTarifaireDependance: nos('TRE_R237-GroupeTarifaireDependance'),
  temporaliteAccueil: nos('TRE_R240-TemporaliteAccueil'),
  conditionTarifaire: nos('TRE_R250-ConditionTarifaire'),
  niveauConfidentialite: nos('TRE_R283-NiveauConfidentialite'),
  canalCommunication: nos('TRE_R200-CanalCommunication'),
};

/**
 * The sub-extensions of ror-location-supported-capacity (CapaciteAccueilOperationnelle): the code
 * system of each coded one, and whether the profile requires it (1..1).
 */
export const CAPACITY_FIELDS = {
  capacityType: { system: TRE.natureCapacite, required: true },
  capacityStatus: { system: TRE.statutCapacite, required: true },
  temporalityCapacity: { system: TRE.temporaliteCapacite, required: true },
  capacitySourceType: { system: TRE.typeSourceCapacite, required: true },
  temporaryAssignement: { system: TRE.affectationTemporaire, required: true },
  genderCapacityAvailable: { system: TRE.genreCapacite, required: false },
  capacityClosingType: { system: TRE.typeFermetureCapacite, required: false },
  additionalBedType: { system: TRE.typeLitSupplementaire, required: false },
  crisisType: { system: TRE.typeCrise, required: false },
} as const;

export type CodedCapacityField = keyof typeof CAPACITY_FIELDS;
