// A small deterministic regional ROR for the demo (Île-de-France, code région 11): entités
// géographiques (ror-organization), their lieux (ror-location) placed at the centre of their commune
// from the COG file with WGS84 positions and capacities, and offres opérationnelles
// (ror-healthcareservice) with activités opérationnelles of JDV_J17. The EG of Saint-Antoine is
// linked to the demo structure of the same FINESS when it exists. A few lieux carry équipements
// spécifiques (JDV_J18, with their limits) or capacités d'habitation (JDV_J32), one EG its tarifs
// (USLD of Paul-Brousse) and one a planned closure, so that every ROR search parameter finds data. EG
// and offres have telecoms at each confidentiality level, for the access profiles (confidentialite.ts).
import type { Bundle, BundleEntry, Extension, Resource } from '@medplum/fhirtypes';
import { withContext } from '../../access/context.ts';
import { PLATFORM } from '../../access/principal.ts';
import type { FhirCore } from '../../fhir/core.ts';
import { processBundle } from '../../fhir/rest/transaction.ts';
import type { Commune } from './communes.ts';
import { EXT, PROFILE, ROR_SD, TRE } from './nomenclatures.ts';

const FINESS = 'urn:oid:1.2.250.1.71.4.2.2';
const REGION_TAG = { system: TRE.regionOM, code: '11', display: 'Île-de-France' };
const CREATED = '2025-01-06T09:00:00+01:00';
const UPDATED = '2025-01-06T09:00:00+01:00';

/** EG: FINESS géographique, name, commune (INSEE), the demo EJ it belongs to (FINESS), two offres. */
const SITES: { finess: string; name: string; insee: string; ej?: string; offres: [string, string][] }[] = [
  { finess: '750100125', name: 'Hôpital Saint-Antoine', insee: '75056', ej: '1750712184', offres: [['013', 'Cardiologie générale'], ['127', 'Réanimation polyvalente']] },
  { finess: '940100027', name: 'Hôpital Henri-Mondor', insee: '94028', offres: [['097', 'Neurologie'], ['126', 'Réanimation médicale']] },
  { finess: '940100043', name: 'Hôpital Paul-Brousse', insee: '94076', offres: [['050', 'Gériatrie, Gérontologie'], ['170', 'Soins palliatifs']] },
  { finess: '780110078', name: 'Centre hospitalier de Versailles', insee: '78646', offres: [['100', 'Obstétrique'], ['114', 'Pneumologie']] },
  { finess: '920100047', name: 'Hôpital Ambroise-Paré', insee: '92012', offres: [['013', 'Cardiologie générale'], ['050', 'Gériatrie, Gérontologie']] },
  { finess: '930110051', name: 'Centre hospitalier de Saint-Denis', insee: '93066', offres: [['100', 'Obstétrique'], ['127', 'Réanimation polyvalente']] },
  { finess: '910019447', name: 'Centre hospitalier Sud Francilien', insee: '91228', offres: [['098', 'Neurologie vasculaire'], ['114', 'Pneumologie']] },
];

const coded = (system: string, code: string, display?: string) => ({ coding: [{ system, code, ...(display ? { display } : {}) }] });
const sub = (url: string, system: string, code: string, display: string): Extension => ({ url, valueCodeableConcept: coded(system, code, display) });
const kg = (value: number) => ({ value, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' });

/** EquipementSpecifique (JDV_J18) in service, with the limit of the most tolerant one (poids maximum). */
const equipment = (code: string, display: string, nbInService: number, maxWeightKg?: number): Extension => ({
  url: EXT.equipment,
  extension: [
    sub('equipmentType', TRE.equipement, code, display),
    { url: 'nbInService', valueInteger: nbInService },
    ...(maxWeightKg === undefined
      ? []
      : [{ url: EXT.equipmentLimit, extension: [sub('equipmentFeature', TRE.typeCaracteristiqueEquipement, '001', 'Poids maximum'), { url: 'limitValue', valueQuantity: kg(maxWeightKg) }] }]),
  ],
});

/** CapaciteHabitation: a type d'habitation (JDV_J32) and how many of them. */
const residential = (code: string, display: string, nb: number): Extension => ({
  url: EXT.residentialCapacity,
  extension: [sub('residentialType', TRE.typeHabitation, code, display), { url: 'residentialNumber', valueInteger: nb }],
});

/** Tarif (ror-organization-price): a daily price (JDV_J205) of a type (JDV_J36) in euros, valid from 2025, with its coded details. */
function price(type: [string, string], amount: number, details: { residentialType?: [string, string]; specialPrice?: [string, string]; dependencyLevel?: [string, string]; welcomeType: [string, string] }): Extension {
  const { residentialType, specialPrice, dependencyLevel, welcomeType } = details;
  return {
    url: EXT.organizationPrice,
    extension: [
      sub('priceType', TRE.typeTarif, ...type),
      sub('priceUnit', TRE.unitePrix, '2', 'Tarif journalier'),
      { url: 'amount', valueMoney: { value: amount, currency: 'EUR' } },
      { url: 'startDate', valueDateTime: '2025-01-01' },
      ...(residentialType ? [sub('residentialType', TRE.typeHabitation, ...residentialType)] : []),
      ...(specialPrice ? [sub('specialPrice', TRE.conditionTarifaire, ...specialPrice)] : []),
      ...(dependencyLevel ? [sub('dependencyLevel', TRE.groupeTarifaireDependance, ...dependencyLevel)] : []),
      sub('welcomeType', TRE.temporaliteAccueil, ...welcomeType),
    ],
  };
}

const NIVEAUX = { libre: ['1', 'Accès libre'], restreint: ['2', 'Accès restreint'], tresRestreint: ['3', 'Accès très restreint'] } as const;

/** A ROR telecom: its channel (JDV_J225) and confidentiality level (TRE_R283), which the access profiles filter on. */
const telecom = (system: 'phone' | 'email', value: string, niveau: keyof typeof NIVEAUX) => {
  const [canal, libelle] = system === 'phone' ? ['2', 'Téléphone fixe'] : ['3', 'Courrier électronique'];
  const [code, display] = NIVEAUX[niveau];
  return {
    system,
    value,
    extension: [
      sub(`${ROR_SD}ror-telecom-communication-channel`, TRE.canalCommunication, canal, libelle),
      sub(`${ROR_SD}ror-telecom-confidentiality-level`, TRE.niveauConfidentialite, code, display),
    ],
  };
};

/** The switchboard (free access), the duty manager's line (restricted) and the crisis cell (very restricted) of an EG. */
const standard = (i: number) => `01 40 00 ${String(10 + i).padStart(2, '0')}`;
const contactsEg = (i: number, finess: string) => [
  {
    telecom: [
      telecom('phone', `${standard(i)} 00`, 'libre'),
      telecom('phone', `${standard(i)} 50`, 'restreint'),
      telecom('email', `cellule-crise-${finess}@demo.ror.invalid`, 'tresRestreint'),
    ],
  },
];

/** Extensions of some lieux, by identifier suffix "<FINESS EG>-<n>". */
const LIEU_EXTRAS: Record<string, Extension[]> = {
  '750100125-1': [equipment('089', "Lit d'hospitalisation obésité (poids entre 250 et 350 kg) - bariatrique", 2, 350)],
  '920100047-1': [equipment('189', 'Table de coronarographie obésité (poids entre 150 et 250 kg) - bariatrique', 1, 250)],
  '940100027-2': [equipment('093', 'ECMO transportable', 1)],
  '940100043-1': [residential('02', 'Chambre simple', 12), residential('01', 'Chambre double', 4)],
};

/** Extensions of some EG, by FINESS. */
const EG_EXTRAS: Record<string, Extension[]> = {
  '940100043': [
    price(['02', 'Forfait socle hébergement'], 65.4, { residentialType: ['02', 'Chambre simple'], specialPrice: ['02', 'Tarif agréé Aide Sociale'], welcomeType: ['02', 'Permanent'] }),
    price(['03', 'Dépendance'], 21.8, { dependencyLevel: ['01', 'GIR 1-2'], welcomeType: ['02', 'Permanent'] }),
  ],
  // A fictitious planned closure (typeFermeture "Prévisionnelle", with its date), for the demo only.
  '930110051': [sub(EXT.organizationClosingType, TRE.typeFermeture, 'PRE', 'Prévisionnelle'), { url: EXT.organizationPeriod, valuePeriod: { end: '2030-12-31' } }],
};

/** One line of capacities (CapaciteAccueilOperationnelle), lits en temporalité courante. */
export function capacity(status: [string, string], nb: number, gender?: [string, string]): Extension {
  return {
    url: EXT.supportedCapacity,
    extension: [
      sub('capacityType', TRE.natureCapacite, '01', 'Lit'),
      sub('capacityStatus', TRE.statutCapacite, ...status),
      sub('temporalityCapacity', TRE.temporaliteCapacite, '01', 'Courant'),
      { url: 'nbCapacity', valueInteger: nb },
      sub('capacitySourceType', TRE.typeSourceCapacite, '01', 'Saisie manuelle'),
      sub('temporaryAssignement', TRE.affectationTemporaire, '01', 'Aucune'),
      ...(gender ? [sub('genderCapacityAvailable', TRE.genreCapacite, ...gender)] : []),
      { url: 'capacityUpdateDate', valueDateTime: UPDATED },
    ],
  };
}

/** Seeds the demo ROR unless one exists. Returns the number of resources written. */
export async function seedRorDemo(core: FhirCore, communes: Map<string, Commune>): Promise<number> {
  const existing = await core.search('Location', { _profile: PROFILE.location, _summary: 'count' });
  if ((existing.total ?? 0) > 0) return 0;
  const entries: BundleEntry[] = [];
  const add = (resource: Resource, key: string) =>
    entries.push({ fullUrl: `urn:uuid:${key}`, resource, request: { method: 'POST', url: resource.resourceType } });
  for (const [i, site] of SITES.entries()) {
    const commune = communes.get(site.insee);
    if (!commune) throw new Error(`demo ROR: commune ${site.insee} is not in the COG file`);
    const ej = site.ej ? (await core.search('Organization', { identifier: `${FINESS}|${site.ej}`, _count: '1' })).matches[0] : undefined;
    const eg = uuid(1, i, 0);
    add(
      {
        resourceType: 'Organization',
        meta: { profile: [PROFILE.organization], tag: [REGION_TAG] },
        identifier: [{ system: FINESS, value: `1${site.finess}` }],
        name: site.name,
        active: true,
        address: [{ city: commune.nom, extension: [{ url: `${ROR_SD}ror-commune-cog`, valueCodeableConcept: coded(TRE.commune, site.insee, commune.nom) }] }],
        contact: contactsEg(i, site.finess),
        ...(EG_EXTRAS[site.finess] ? { extension: EG_EXTRAS[site.finess] } : {}),
        ...(ej ? { partOf: { reference: `Organization/${ej.id}` } } : {}),
      } as Resource,
      eg,
    );
    site.offres.forEach(([code, display], j) => {
      const location = uuid(2, i, j);
      add(
        {
          resourceType: 'Location',
          meta: { profile: [PROFILE.location], tag: [REGION_TAG] },
          extension: [
            { url: EXT.communeCog, valueCodeableConcept: coded(TRE.commune, site.insee, commune.nom) },
            { url: EXT.metaCreationDate, valueDateTime: CREATED },
            capacity(['01', 'Installé'], 20 + 4 * i + 2 * j),
            capacity(['02', 'Disponible'], (3 * i + j) % 5, ['03', 'Indifférencié']),
            ...(LIEU_EXTRAS[`${site.finess}-${j + 1}`] ?? []),
          ],
          identifier: [{ type: coded(TRE.typeIdentifiantRessource, '25'), value: `11/${site.finess}-${j + 1}` }],
          status: 'active',
          name: `${display} — ${site.name}`,
          type: [coded(TRE.fonctionLieu, '001', 'Hébergement')],
          address: { city: commune.nom, country: 'FR' },
          // Units of a site sit a few hundred metres apart, around the commune's centre.
          position: { longitude: round(commune.longitude + 0.002 * j), latitude: round(commune.latitude + 0.001 * j) },
          managingOrganization: { reference: `urn:uuid:${eg}` },
        } as Resource,
        location,
      );
      add(
        {
          resourceType: 'HealthcareService',
          meta: { profile: [PROFILE.healthcareService], tag: [REGION_TAG] },
          extension: [
            { url: EXT.metaCreationDate, valueDateTime: CREATED },
            { url: EXT.sensitiveUnit, valueBoolean: false },
            { url: EXT.patientType, extension: [{ url: 'ageRange', valueRange: { low: age(code === '050' ? 75 : 18), high: age(120) } }] },
          ],
          identifier: [{ system: 'https://interop.esante.gouv.fr/ig/fhir/ror/identifiantOffre', value: `11-${site.finess}-${code}` }],
          active: true,
          name: `Hospitalisation complète de ${display.toLowerCase()}`,
          providedBy: { reference: `urn:uuid:${eg}` },
          type: [coded(TRE.champActivite, '01', 'Médecine, Chirurgie, Obstétrique (MCO)')],
          specialty: [coded(TRE.activiteOperationnelle, code, display)],
          characteristic: [coded(TRE.modePriseEnCharge, '28', 'Hospitalisation complète (HC)')],
          telecom: [telecom('phone', `${standard(i)} ${String(11 + j).padStart(2, '0')}`, 'libre'), telecom('phone', `${standard(i)} ${String(61 + j).padStart(2, '0')}`, 'restreint')],
          location: [{ reference: `urn:uuid:${location}` }],
        } as Resource,
        uuid(3, i, j),
      );
    });
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries };
  await withContext({ principal: PLATFORM }, () => processBundle(core, bundle));
  return entries.length;
}

const age = (value: number) => ({ value, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a' });
const round = (x: number) => Math.round(x * 1e5) / 1e5;
const uuid = (kind: number, i: number, j: number) => `0b0c0000-0000-4000-8000-${String(kind * 10_000 + i * 100 + j).padStart(12, '0')}`;
