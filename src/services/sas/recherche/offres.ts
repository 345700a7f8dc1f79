// The care offer a regulator searches: one entry per place where a practitioner of the Annuaire
// works (PractitionerRole) and per service of a structure of the ROR (HealthcareService), with its
// position (Location.position, else the centre of the address's commune). These are the rules that
// compute an offer from its resources; index-offres.ts keeps the computed offers in a table.
import type { Address, CodeableConcept, HealthcareService, Location, Organization, Practitioner, PractitionerRole, Reference } from '@medplum/fhirtypes';
import { referentiel, type Commune } from './referentiel.ts';

export const RPPS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';
/** TRE_R66 catégorie d'établissement 604: CPTS. */
const CPTS_CODE = '604';

export interface Offre {
  /** PractitionerRole/… or HealthcareService/… */
  cle: string;
  type: 'ps' | 'structure';
  /** idNat_PS ("8" + RPPS) of a practitioner. */
  idnat?: string;
  practitionerId?: string;
  nom: string;
  prenom?: string;
  civilite?: string;
  professions: string[];
  specialites: string[];
  /** Structures: SOS Médecins association or CPTS. */
  categorie?: 'sos' | 'cpts' | 'autre';
  /** Name and reference (Organization/…) of the structure it belongs to. */
  structure?: string;
  organisation?: string;
  adresse?: string;
  commune?: Commune;
  lat?: number;
  lon?: number;
  telephone?: string;
}

/** The resources an offer is computed from, by reference (Practitioner/…, Organization/…, Location/…). */
export interface Sources {
  practitioners: Map<string, Practitioner>;
  organizations: Map<string, Organization>;
  locations: Map<string, Location>;
}

/** What a PractitionerRole or a HealthcareService references among the sources of its offer. */
export function referencesDe(r: PractitionerRole | HealthcareService): string[] {
  const refs = r.resourceType === 'PractitionerRole' ? [r.practitioner, r.organization, ...(r.location ?? [])] : [r.providedBy, ...(r.location ?? [])];
  return refs.map((x) => x?.reference).filter((x): x is string => !!x);
}

/** A practitioner's offer at one place: none when the role or the practitioner is inactive, or the practitioner has no RPPS. */
export function offreDuRole(cle: string, role: PractitionerRole, s: Sources): Offre | undefined {
  if (role.active === false) return undefined;
  const practitioner = role.practitioner?.reference ? s.practitioners.get(role.practitioner.reference) : undefined;
  const idnat = practitioner?.identifier?.find((i) => i.system === RPPS_SYSTEM)?.value;
  if (!practitioner || practitioner.active === false || !idnat) return undefined;
  const location = premierLieu(role.location, s);
  const organization = role.organization?.reference ? s.organizations.get(role.organization.reference) : undefined;
  const name = practitioner.name?.find((n) => n.use === 'usual' || n.use === 'official') ?? practitioner.name?.[0];
  return {
    cle,
    type: 'ps',
    idnat,
    practitionerId: role.practitioner!.reference!.split('/')[1],
    nom: name?.family ?? '',
    prenom: name?.given?.[0],
    civilite: name?.prefix?.[0],
    professions: codes([...(practitioner.qualification ?? []).map((q) => q.code), ...(role.code ?? [])], /G15|1\.2\.250\.1\.71\.1\.2\.7/),
    specialites: codes([...(practitioner.qualification ?? []).map((q) => q.code), ...(role.specialty ?? [])], /R38|SpecialiteOrdinale|1\.2\.250\.1\.213\.2\.28/),
    structure: organization?.name,
    organisation: role.organization?.reference,
    telephone: role.telecom?.find((t) => t.system === 'phone')?.value ?? location?.telecom?.find((t) => t.system === 'phone')?.value,
    ...place(location, location?.address ?? organization?.address?.[0] ?? practitioner.address?.[0]),
  };
}

/** A structure's offer (SOS Médecins, CPTS, other services of the ROR); none when the service is inactive. */
export function offreDuService(cle: string, service: HealthcareService, s: Sources): Offre | undefined {
  if (service.active === false) return undefined;
  const organization = service.providedBy?.reference ? s.organizations.get(service.providedBy.reference) : undefined;
  const location = premierLieu(service.location, s);
  const categorie = categorieDe(service, organization);
  return {
    cle,
    type: 'structure',
    nom: service.name ?? organization?.name ?? 'Structure',
    structure: organization?.name,
    organisation: service.providedBy?.reference,
    categorie,
    // SOS Médecins and CPTS take general-practice consultations (the national platform lists them there).
    professions: categorie === 'autre' ? [] : ['10'],
    specialites: [...codes(service.specialty ?? [], /./), ...(categorie === 'autre' ? [] : ['SM54'])],
    telephone: service.telecom?.find((t) => t.system === 'phone')?.value ?? location?.telecom?.find((t) => t.system === 'phone')?.value,
    ...place(location, location?.address ?? organization?.address?.[0]),
  };
}

/** The first referenced Location that exists. */
function premierLieu(refs: Reference[] | undefined, s: Sources): Location | undefined {
  return refs?.map((l) => l.reference && s.locations.get(l.reference)).find(Boolean) || undefined;
}

function codes(concepts: (CodeableConcept | undefined)[], system: RegExp): string[] {
  const out = new Set<string>();
  for (const c of concepts) for (const coding of c?.coding ?? []) if (coding.code && system.test(coding.system ?? '')) out.add(coding.code);
  return [...out];
}

function categorieDe(service: HealthcareService, organization?: Organization): Offre['categorie'] {
  const all = [...(service.type ?? []), ...(service.category ?? []), ...(organization?.type ?? [])].flatMap((c) => c.coding ?? []);
  if (all.some((c) => c.code === CPTS_CODE && /R66|CategorieEtablissement/.test(c.system ?? ''))) return 'cpts';
  if (/\bCPTS\b/i.test(`${service.name} ${organization?.name}`)) return 'cpts';
  if (/SOS\s*M[ée]decins/i.test(`${service.name} ${organization?.name}`)) return 'sos';
  return 'autre';
}

const INSEE_EXTENSION = /insee/i;

// Thousands of practices share a few thousand communes: each address form is looked up once.
const communes = new Map<string, Commune | undefined>();
function communeDe(insee?: string, codePostal?: string, nom?: string): Commune | undefined {
  const cle = `${insee}|${codePostal}|${nom}`;
  if (!communes.has(cle)) communes.set(cle, referentiel().commune({ insee, codePostal, nom }));
  return communes.get(cle);
}

/** Where an offer is: a Location's position, else the centre of its address's commune. */
function place(location: Location | undefined, address: Address | undefined): Pick<Offre, 'adresse' | 'commune' | 'lat' | 'lon'> {
  const insee = address?.extension?.find((e) => INSEE_EXTENSION.test(e.url));
  const commune = address ? communeDe(insee?.valueString ?? insee?.valueCode ?? insee?.valueCoding?.code, address.postalCode, address.city) : undefined;
  const adresse = address ? [address.line?.join(' '), [address.postalCode, address.city].filter(Boolean).join(' ')].filter(Boolean).join(', ') : undefined;
  const p = location?.position;
  if (p && Number.isFinite(p.latitude) && Number.isFinite(p.longitude)) return { adresse, commune, lat: p.latitude, lon: p.longitude };
  return { adresse, commune, lat: commune?.lat, lon: commune?.lon };
}

