// Checks vendor resources against the SAS profiles with the platform validator. Lenient where the
// guide itself varies (§1, §11): a resource passes if it conforms to the profile of either package
// version (1.2.0 moved some fixed CodeSystem URLs to FR Core, 1.1.0 is what the official kit uses),
// and a resource that forgot its meta.profile is checked against the profile its place calls for.
//
// Verdicts are memoised: a vendor repeats the same Practitioner, PractitionerRole and Schedule on
// every search, and its Slots differ only by id, dates, schedule reference and booking URL. Those
// values are checked here by format and the rest of the slot is validated once per shape.
import type { Resource } from '@medplum/fhirtypes';
import type { Validator } from '../../../fhir/validation/index.ts';

export const PROFILS = {
  slot: 'http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur',
  schedule: 'http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur',
  practitioner: 'http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur',
  practitionerRole: 'http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur',
  cptsSlot: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator',
  cptsHealthcareService: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-healthcareservice-aggregator',
  cptsOrganization: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-organization-aggregator',
  sosSlot: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-slot-aggregator',
  sosSchedule: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-schedule-aggregator',
  sosLocation: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-location-aggregator',
  sosOrganization: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-organization-aggregator',
  rendezVous: 'http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS',
  rendezVousSos: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-appointment',
} as const;

/** The version the official test kit validates against, tried when the current one refuses. */
const VERSION_KIT = '1.1.0';
const MEMOIRE_MAX = 50_000;
// FHIR dateTime with a time and an offset (R4 instant-like), what Slot.start/end must be.
const DATE_HEURE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$/u;
const ID = /^[A-Za-z0-9\-.]{1,64}$/u;
const REFERENCE = /^(https?:\/\/\S+\/)?Schedule\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/u;

export class ValidateurSas {
  private readonly verdicts = new Map<string, string | null>();

  constructor(private readonly validator: Validator) {}

  /** Why the resource does not conform to `profil` (or to the SAS profile it claims), or undefined when it does. */
  verifier(resource: Resource, profil: string): string | undefined {
    const revendique = resource.meta?.profile?.find((p) => Object.values(PROFILS).includes(p.split('|')[0] as never));
    const cible = revendique ?? profil;
    const cle = `${cible}\u0000${empreinte(resource)}`;
    const connu = this.verdicts.get(cle);
    if (connu !== undefined) return connu ?? undefined;
    const verdict = this.valider(resource, cible);
    if (this.verdicts.size >= MEMOIRE_MAX) this.verdicts.delete(this.verdicts.keys().next().value!);
    this.verdicts.set(cle, verdict ?? null);
    return verdict;
  }

  private valider(resource: Resource, profil: string): string | undefined {
    const actuel = this.essai(resource, profil.split('|')[0]);
    if (!actuel) return undefined;
    return this.essai(resource, `${profil.split('|')[0]}|${VERSION_KIT}`) === undefined ? undefined : actuel;
  }

  private essai(resource: Resource, profil: string): string | undefined {
    const r = this.validator.validate({ ...resource, meta: { ...resource.meta, profile: [profil] } } as Resource);
    const erreurs = [...r.base, ...r.profile].filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (erreurs.length === 0) return undefined;
    return erreurs
      .slice(0, 3)
      .map((i) => i.diagnostics ?? i.details?.text ?? i.code)
      .join(' ; ');
  }
}

/**
 * The memo key. A Slot's per-slot values that pass their format check are replaced by placeholders, so all slots of
 * one shape share a verdict; a value that fails keeps the slot out of the memo (validated in full, and rejected).
 */
function empreinte(resource: Resource): string {
  if (resource.resourceType !== 'Slot') return JSON.stringify(resource);
  const { id, start, end, comment, schedule, ...reste } = resource;
  const forme = {
    id: id === undefined ? 0 : ID.test(id) ? 1 : id,
    start: start === undefined ? 0 : DATE_HEURE.test(start) ? 1 : start,
    end: end === undefined ? 0 : DATE_HEURE.test(end) ? 1 : end,
    comment: comment === undefined ? 0 : typeof comment === 'string' && comment.trim() !== '' ? 1 : comment,
    schedule: schedule && Object.keys(schedule).length === 1 && typeof schedule.reference === 'string' && REFERENCE.test(schedule.reference) ? 1 : schedule ?? 0,
  };
  return JSON.stringify([forme, reste]);
}
