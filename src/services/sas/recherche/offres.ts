// The care offer a regulator searches: one entry per place where a practitioner of the Annuaire
// works (PractitionerRole) and per service of a structure of the ROR (HealthcareService), with its
// position (Location.position, else the centre of the address's commune). Built from the store and
// rebuilt after writes to the resources it reads, so that imports show up in the next search.
import type { Address, CodeableConcept, HealthcareService, Location, Organization, Practitioner, PractitionerRole, Resource } from '@medplum/fhirtypes';
import type { FhirCore } from '../../../fhir/core.ts';
import { currentTable } from '../../../fhir/schema.ts';
import { referentiel, type Commune } from './referentiel.ts';

export const RPPS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';
/** TRE_R66 catégorie d'établissement 604: CPTS. */
const CPTS_CODE = '604';
const TYPES = ['Practitioner', 'PractitionerRole', 'Organization', 'Location', 'HealthcareService'] as const;
/** A write this recent may not have been committed when a rebuild read the store: rebuild once more. */
const MARGE_COMMIT_MS = 5000;

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

export class IndexOffres {
  private generation = 0;
  private derniereEcriture = 0;
  private courant?: { generation: number; debut: number; offres: Offre[] };
  private enCours?: Promise<Offre[]>;

  constructor(private readonly core: FhirCore) {
    const suivis = new Set<string>(TYPES);
    core.onWrite(async (_tx, stored) => {
      if (!suivis.has(stored.resourceType)) return;
      this.generation++;
      this.derniereEcriture = Date.now();
    });
  }

  async offres(): Promise<Offre[]> {
    const c = this.courant;
    if (c && c.generation === this.generation && c.debut - this.derniereEcriture > MARGE_COMMIT_MS) return c.offres;
    this.enCours ??= this.construire().finally(() => (this.enCours = undefined));
    return this.enCours;
  }

  private async construire(): Promise<Offre[]> {
    const generation = this.generation;
    const debut = Date.now();
    const lire = async <T extends Resource>(type: string) => {
      const { rows } = await this.core.db.query<{ id: string; content: string }>(`SELECT id, content FROM ${currentTable(type)} WHERE NOT deleted`);
      return new Map(rows.map((r) => [`${type}/${r.id}`, JSON.parse(r.content) as T]));
    };
    const [practitioners, roles, organizations, locations, services] = await Promise.all([
      lire<Practitioner>('Practitioner'),
      lire<PractitionerRole>('PractitionerRole'),
      lire<Organization>('Organization'),
      lire<Location>('Location'),
      lire<HealthcareService>('HealthcareService'),
    ]);
    const offres: Offre[] = [];
    for (const [cle, role] of roles) {
      if (role.active === false) continue;
      const practitioner = role.practitioner?.reference ? practitioners.get(role.practitioner.reference) : undefined;
      const idnat = practitioner?.identifier?.find((i) => i.system === RPPS_SYSTEM)?.value;
      if (!practitioner || practitioner.active === false || !idnat) continue;
      const location = role.location?.map((l) => l.reference && locations.get(l.reference)).find(Boolean) || undefined;
      const organization = role.organization?.reference ? organizations.get(role.organization.reference) : undefined;
      const name = practitioner.name?.find((n) => n.use === 'usual' || n.use === 'official') ?? practitioner.name?.[0];
      offres.push({
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
      });
    }
    for (const [cle, service] of services) {
      if (service.active === false) continue;
      const organization = service.providedBy?.reference ? organizations.get(service.providedBy.reference) : undefined;
      const location = service.location?.map((l) => l.reference && locations.get(l.reference)).find(Boolean) || undefined;
      const categorie = categorieDe(service, organization);
      offres.push({
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
      });
    }
    this.courant = { generation, debut, offres };
    return offres;
  }
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

