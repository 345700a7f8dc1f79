// Reads a vendor's search Bundle into slots per practitioner (or per SOS Médecins association).
// Each resource is checked against its SAS profile; a bad one is dropped and reported, with the
// slots that depend on it, and the rest of the answer is kept. Reading is lenient where vendors
// differ and the guide allows it: missing search.mode, absolute or relative references, both
// CodeSystem URL families, identifiers with or without their prefix.
import type { Bundle, Location, Organization, Practitioner, PractitionerRole, Resource, Schedule, Slot } from '@medplum/fhirtypes';
import type { CreneauSas } from './index.ts';
import { idNatPs } from './registre.ts';
import type { Fenetre } from './requetes.ts';
import { PROFILS, type ValidateurSas } from './validation.ts';

export interface Rejet {
  ressource: string;
  raison: string;
}

export interface Lecture {
  creneaux: CreneauSas[];
  rejets: Rejet[];
}

export class ReponseInvalide extends Error {}

const CONSULTATIONS: Record<string, CreneauSas['consultation']> = { AMB: 'cabinet', HH: 'domicile', VR: 'teleconsultation' };
const TYPES_CRENEAU = new Set(['PUBLIC', 'PRO', 'SNP', 'CPTS']);
const EXT_SERVICE_TYPE_R5 = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType';

export interface Contexte {
  editeur: string;
  /** What was asked: idNat_PS (8 + RPPS), or 3 + SIRET for SOS Médecins. */
  demandes: Set<string>;
  fenetre: Fenetre;
  maintenant: Date;
  validateur: ValidateurSas;
}

export function lireReponse(corps: unknown, sos: boolean, ctx: Contexte): Lecture {
  const bundle = corps as Bundle;
  if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle') throw new ReponseInvalide("la réponse n'est pas un Bundle FHIR");
  if (bundle.type !== 'searchset') throw new ReponseInvalide(`Bundle de type « ${bundle.type} » au lieu de searchset`);
  const lecteur = new Lecteur(bundle, ctx);
  return sos ? lecteur.sos() : lecteur.praticiens();
}

class Lecteur {
  private readonly parReference = new Map<string, Resource>();
  private readonly slots: Slot[] = [];
  private readonly verdicts = new Map<Resource, string | undefined>();
  private readonly rejets: Rejet[] = [];
  private readonly creneaux: CreneauSas[] = [];
  private readonly vus = new Set<string>();

  constructor(
    bundle: Bundle,
    private readonly ctx: Contexte,
  ) {
    for (const entry of bundle.entry ?? []) {
      const r = entry?.resource;
      if (!r || typeof r !== 'object' || typeof r.resourceType !== 'string') continue;
      if (r.resourceType === 'Slot') this.slots.push(r);
      if (r.id) this.parReference.set(`${r.resourceType}/${r.id}`, r);
      if (entry.fullUrl) this.parReference.set(entry.fullUrl, r);
    }
  }

  praticiens(): Lecture {
    for (const slot of this.slots) {
      const cpts = (slot.meta?.security ?? []).some((s) => s.code === 'CPTS') || (slot.serviceType ?? []).some((s) => s.extension?.some((e) => e.url === EXT_SERVICE_TYPE_R5));
      if (!this.conforme(slot, cpts ? PROFILS.cptsSlot : PROFILS.slot) || !this.dansFenetre(slot)) continue;
      const schedule = this.suivre<Schedule>(slot, slot.schedule?.reference, 'Schedule', PROFILS.schedule);
      if (!schedule) continue;
      const refs = (schedule.actor ?? []).map((a) => a.reference);
      const role = this.suivre<PractitionerRole>(slot, refs.find((r) => r && /PractitionerRole\//u.test(r)), 'PractitionerRole', PROFILS.practitionerRole);
      const praticien = this.suivre<Practitioner>(slot, refs.find((r) => r && /(^|\/)Practitioner\//u.test(r)) ?? role?.practitioner?.reference, 'Practitioner', PROFILS.practitioner);
      if (!role || !praticien) continue;
      const idnps = (praticien.identifier ?? []).map((i) => (i.system === 'urn:oid:1.2.250.1.71.4.2.1' && i.value ? idNatPs(i.value) : undefined)).find(Boolean);
      if (!idnps || !this.ctx.demandes.has(idnps)) {
        this.rejeter(slot, `praticien ${idnps ?? 'sans identifiant RPPS'} non demandé`);
        continue;
      }
      const idLieu = role.location?.[0]?.reference?.replace(/^#/u, '');
      const lieu = role.contained?.find((c) => c.resourceType === 'Location' && c.id === idLieu) as Location | undefined;
      this.ajouter(slot, idnps, lieu);
    }
    return { creneaux: this.creneaux, rejets: this.rejets };
  }

  sos(): Lecture {
    for (const slot of this.slots) {
      if (!this.conforme(slot, PROFILS.sosSlot) || !this.dansFenetre(slot)) continue;
      const schedule = this.suivre<Schedule>(slot, slot.schedule?.reference, 'Schedule', PROFILS.sosSchedule);
      const lieu = schedule && this.suivre<Location>(slot, schedule.actor?.[0]?.reference, 'Location', PROFILS.sosLocation);
      const organisation = lieu && this.suivre<Organization>(slot, lieu.managingOrganization?.reference, 'Organization', PROFILS.sosOrganization);
      if (!organisation) continue;
      const idnst = organisation.identifier?.find((i) => i.system === 'urn:oid:1.2.250.1.71.4.2.2')?.value?.replace(/^(\d{14})$/u, '3$1');
      if (!idnst || !this.ctx.demandes.has(idnst)) {
        this.rejeter(slot, `association ${idnst ?? 'sans SIRET'} non demandée`);
        continue;
      }
      this.ajouter(slot, idnst, lieu);
    }
    return { creneaux: this.creneaux, rejets: this.rejets };
  }

  private ajouter(slot: Slot, cle: string, lieu: Location | undefined): void {
    const id = `${this.ctx.editeur}:${slot.id}`;
    if (this.vus.has(id)) return;
    this.vus.add(id);
    const consultations = [...new Set((slot.serviceType ?? []).flatMap((s) => s.coding ?? []).map((c) => CONSULTATIONS[c.code ?? '']).filter(Boolean))];
    const url = slot.comment && /^https?:\/\//u.test(slot.comment.trim()) ? slot.comment.trim() : undefined;
    const position = lieu?.position;
    const adresse = lieu?.address;
    this.creneaux.push({
      id,
      editeur: this.ctx.editeur,
      rpps: cle,
      debut: slot.start!,
      fin: slot.end!,
      consultation: consultations[0] ?? 'cabinet',
      ...(consultations.length > 1 ? { consultations } : {}),
      typeCreneau: [...new Set((slot.meta?.security ?? []).map((s) => s.code ?? '').filter((c) => TYPES_CRENEAU.has(c)))] as CreneauSas['typeCreneau'],
      ...(url ? { urlReservation: url } : {}),
      ...(lieu
        ? {
            lieu: {
              ...(adresse?.line?.length || adresse?.postalCode ? { adresse: [adresse.line?.join(' '), [adresse.postalCode, adresse.city].filter(Boolean).join(' ')].filter(Boolean).join(', ') } : {}),
              ...(adresse?.city ? { commune: adresse.city } : {}),
              ...(typeof position?.latitude === 'number' && typeof position.longitude === 'number' ? { lat: position.latitude, lon: position.longitude } : {}),
            },
          }
        : {}),
    } as CreneauSas);
  }

  /** Only free slots starting between now and the window's end, ending after they start (guide §3.3). */
  private dansFenetre(slot: Slot): boolean {
    const debut = Date.parse(slot.start ?? '');
    const fin = Date.parse(slot.end ?? '');
    let raison: string | undefined;
    if (slot.status !== 'free') raison = `statut « ${slot.status} » au lieu de free`;
    else if (!(debut < fin)) raison = 'début après la fin';
    else if (debut < this.ctx.maintenant.getTime()) raison = 'créneau déjà commencé';
    else if (debut > this.ctx.fenetre.fin.getTime()) raison = 'créneau hors de la fenêtre demandée';
    if (raison) this.rejeter(slot, raison);
    return !raison;
  }

  private conforme(r: Resource, profil: string): boolean {
    if (!this.verdicts.has(r)) this.verdicts.set(r, this.ctx.validateur.verifier(r, profil));
    const raison = this.verdicts.get(r);
    if (raison) this.rejeter(r, raison);
    return !raison;
  }

  /** The resource a slot leads to, if present and conforming; otherwise the slot is dropped with the reason. */
  private suivre<T extends Resource>(slot: Slot, reference: string | undefined, type: string, profil: string): T | undefined {
    const cible = reference ? (this.parReference.get(reference) ?? this.parReference.get(reference.split('/').slice(-2).join('/'))) : undefined;
    if (!cible || cible.resourceType !== type) {
      this.rejeter(slot, `${type} ${reference ?? '(sans référence)'} absent de la réponse`);
      return undefined;
    }
    if (!this.verdicts.has(cible)) {
      const raison = this.ctx.validateur.verifier(cible, profil);
      this.verdicts.set(cible, raison);
      if (raison) this.rejeter(cible, raison);
    }
    if (this.verdicts.get(cible)) {
      this.rejeter(slot, `dépend de ${type}/${cible.id}, non conforme`);
      return undefined;
    }
    return cible as T;
  }

  private rejeter(r: Resource, raison: string): void {
    this.rejets.push({ ressource: `${r.resourceType}/${r.id ?? '?'}`, raison });
  }
}
