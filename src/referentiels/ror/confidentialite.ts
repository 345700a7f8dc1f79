// The ROR access policy (« Politique d'accès aux données », ME V3): each consuming application is given an
// access profile, 0 to 5, and sees of the ROR's resources what its profile allows. Telecoms and contacts
// carry a confidentiality level (TRE_R283: 1 libre accès, 2 accès restreint, 3 accès très restreint).
//
//   0  free-access data only                         3  free-access data only (see below)
//   1  everything                                    4  everything but contacts and personal data
//   2  everything but very restricted data           5  as 2, without capacities and bed availability
//
// Profile 3 sees restricted data of the médico-social offer only; the split by sector is not made here, so
// profile 3 gets what profile 0 gets: never more than the policy grants. The profile is an OAuth scope of
// the client (`ror-profil-N`); an administrator (and the platform itself) sees everything, any other caller
// without a profile sees free-access data only. Only resources claiming a ROR profile are filtered: the
// Annuaire's own structures are public directory data.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Resource } from '@medplum/fhirtypes';
import { currentContext } from '../../access/context.ts';
import type { Principal } from '../../access/principal.ts';
import type { FhirCore } from '../../fhir/core.ts';
import { EXT, ROR_SD, TRE } from './nomenclatures.ts';

const PROFILS_ROR = [0, 1, 2, 3, 4, 5] as const;
export type ProfilRor = (typeof PROFILS_ROR)[number];
const SCOPE_PROFIL = (p: ProfilRor) => `ror-profil-${p}`;

const EXT_NIVEAU_TELECOM = `${ROR_SD}ror-telecom-confidentiality-level`;
const EXT_NIVEAU_CONTACT = `${ROR_SD}ror-contact-confidentiality-level`;
const TRES_RESTREINT = 3;

/** The highest confidentiality level a profile reads (0: no contact data at all). */
const NIVEAU_MAX: Record<ProfilRor, number> = { 0: 1, 1: 3, 2: 2, 3: 1, 4: 0, 5: 2 };

/** Personal data of a professional, withheld from profile 4 with the contacts. */
const DONNEES_PERSONNELLES = ['name', 'telecom', 'address', 'photo', 'birthDate', 'gender'];

/** Which profile a background job (a bulk export) works for: its requester's, taken at kick-off. */
const profilDuTravail = new AsyncLocalStorage<ProfilRor | null>();
export const pourLeProfil = <T>(profil: ProfilRor | null, fn: () => T): T => profilDuTravail.run(profil, fn);

/** The profile of a caller; null for full access (administrators, the platform, a server without authentication). */
export function profilDe(principal: Principal | undefined): ProfilRor | null {
  if (!principal || principal.admin) return null;
  const accordes = PROFILS_ROR.filter((p) => principal.scopes.includes(SCOPE_PROFIL(p)));
  // Several profiles on one token: the most open one is the client's (the profiles are not nested, but 1 covers all).
  if (accordes.includes(1)) return 1;
  return accordes.length > 0 ? accordes.reduce((a, b) => (NIVEAU_MAX[b] > NIVEAU_MAX[a] ? b : a)) : 0;
}

const profilCourant = (): ProfilRor | null => {
  const travail = profilDuTravail.getStore();
  return travail !== undefined ? travail : profilDe(currentContext()?.principal);
};

/** Installs the filter on every type a ROR profile describes. */
export function filtrerSelonProfil(core: FhirCore): void {
  for (const type of ['Organization', 'HealthcareService', 'Location', 'Practitioner', 'PractitionerRole']) {
    core.addOutputFilter(
      type,
      (r) => {
        const profil = profilCourant();
        return profil === null ? r : filtrer(r, profil);
      },
      // Read on every directory resource served: decided on the stored text before anything is parsed.
      (json) => {
        if (!json.includes(ROR_SD)) return false;
        const profil = profilCourant();
        return profil !== null && profil !== 1;
      },
    );
  }
}

/** The resource as the profile may see it (a copy; the input is not changed). */
function filtrer<T extends Resource>(resource: T, profil: ProfilRor): T {
  if (!resource.meta?.profile?.some((p) => p.startsWith(ROR_SD))) return resource;
  const out = retirer(resource, NIVEAU_MAX[profil]) as Record<string, unknown>;
  if (profil === 4) {
    const personne = out.resourceType === 'Practitioner' || out.resourceType === 'PractitionerRole';
    for (const k of personne ? DONNEES_PERSONNELLES : ['contact']) delete out[k];
  }
  if (profil === 5 && out.resourceType === 'Location') {
    const extensions = (out.extension as { url?: string }[] | undefined)?.filter((e) => e.url !== EXT.supportedCapacity);
    if (extensions?.length) out.extension = extensions;
    else delete out.extension;
  }
  return out as unknown as T;
}

/** Removes, at any depth, the telecoms and contacts above the level `max` (ContactPoints, and telecoms held as extensions); arrays left empty go. */
function retirer(value: unknown, max: number): unknown {
  if (Array.isArray(value)) return value.filter((item) => niveau(item) <= max).map((item) => retirer(item, max));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const child = k === 'telecom' && Array.isArray(v) ? v.filter((t) => niveauTelecom(t) <= max).map((t) => retirer(t, max)) : retirer(v, max);
    if (Array.isArray(child) && child.length === 0) continue;
    out[k] = child;
  }
  return out;
}

/**
 * The level of an element of an array: a contact's, or a telecom's where it is held as an extension
 * (`ror-healthcareservice-contact-telecom`); 0 for the other elements.
 */
function niveau(item: unknown): number {
  return Math.max(codeNiveau(item, EXT_NIVEAU_CONTACT) ?? 0, codeNiveau(item, EXT_NIVEAU_TELECOM) ?? 0);
}

/** A telecom without its level is taken as very restricted: the profiles make it 1..1. */
function niveauTelecom(telecom: unknown): number {
  return codeNiveau(telecom, EXT_NIVEAU_TELECOM) ?? TRES_RESTREINT;
}

function codeNiveau(item: unknown, url: string): number | undefined {
  const extensions = (item as { extension?: { url?: string; valueCodeableConcept?: { coding?: { system?: string; code?: string }[] } }[] })?.extension;
  const ext = Array.isArray(extensions) ? extensions.find((e) => e?.url === url) : undefined;
  if (!ext) return undefined;
  const code = Number(ext.valueCodeableConcept?.coding?.find((c) => c.system === TRE.niveauConfidentialite)?.code);
  return Number.isInteger(code) && code >= 1 && code <= TRES_RESTREINT ? code : TRES_RESTREINT;
}
