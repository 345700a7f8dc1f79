// GET /metadata: what the simulator serves, stated against the guide's vendor CapabilityStatements.
const CS = 'https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement';

const lecture = (...codes: string[]) => codes.map((code) => ({ code }));

export function capacite(base: string) {
  return {
    resourceType: 'CapabilityStatement', status: 'active', date: '2026-01-01', kind: 'instance',
    name: 'SimulateurEditeurSas', title: "Simulateur d'éditeur SAS (Socle)", publisher: 'Socle',
    fhirVersion: '4.0.1', format: ['application/fhir+json', 'json'],
    implementation: { description: "Serveur de référence d'une solution éditeur pour le SAS", url: base },
    instantiates: [
      `${CS}/SAS-GestionnaireAgenda-PsIndiv`, `${CS}/SAS-GestionnaireAgenda-CPTS`, `${CS}/SAS-GestionnaireAgenda-SOS`,
      `${CS}/SAS-GestionnaireStructure`,
    ],
    rest: [{
      mode: 'server',
      security: { description: 'TLS 1.2 or later with mutual authentication (IGC-Santé organisation certificates) when started with TLS' },
      resource: [
        {
          type: 'Slot', interaction: lecture('read', 'search-type'),
          searchInclude: ['Slot:schedule', 'Schedule:actor', 'Slot:service-type-reference', 'HealthcareService:organization'],
          searchParam: [
            { name: 'start', definition: 'https://interop.esante.gouv.fr/ig/fhir/sas/SearchParameter/slot-sp-start', type: 'date' },
            { name: 'status', type: 'token' }, { name: 'schedule', type: 'reference' },
            { name: 'service-type-reference', definition: 'https://interop.esante.gouv.fr/ig/fhir/sas/SearchParameter/cptsslot-sp-servicetype', type: 'reference' },
          ],
        },
        {
          type: 'Schedule', interaction: lecture('read', 'search-type'),
          searchInclude: ['Schedule:actor:Location', 'Location:organization'], searchRevInclude: ['Slot:schedule'],
          searchParam: [{ name: 'actor', type: 'reference' }, { name: '_has', type: 'string' }],
        },
        {
          type: 'Practitioner', interaction: lecture('read', 'search-type', 'create', 'update'),
          conditionalCreate: false, conditionalUpdate: true, updateCreate: true,
          searchParam: [{ name: 'identifier', type: 'token' }],
        },
        { type: 'PractitionerRole', interaction: lecture('read') },
        { type: 'HealthcareService', interaction: lecture('read') },
        { type: 'Location', interaction: lecture('read') },
        { type: 'Organization', interaction: lecture('read') },
      ],
    }],
  };
}
