// FHIR resources of the agenda, shaped exactly as the SAS guide's profiles and examples.
import type { Agenda, Cpts, Creneau, LieuSos, PraticienAgenda, RoleAgenda, Sos } from './agenda.ts';
import { EXT_SERVICE_TYPE_R5, PROFIL, SYSTEME } from './profils.ts';
import { dateSas } from './temps.ts';

type Ressource = Record<string, unknown> & { resourceType: string; id: string };

/** Vendor system of the simulator's own technical identifiers (places without IDNST, appointments). */
export const SYSTEME_EDITEUR = 'https://editeur-simule.socle.invalid';

const typeIdnps = { coding: [{ system: SYSTEME.v20203, code: 'IDNPS' }] };

export function practitioner(p: PraticienAgenda): Ressource {
  return {
    resourceType: 'Practitioner', id: p.id, meta: { profile: [PROFIL.practitioner] },
    identifier: [{ type: typeIdnps, system: SYSTEME.idnps, value: p.idnps }],
    name: [{ family: p.nom, given: [p.prenom] }],
  };
}

function adresse(l: { ligne: string; ville: string; codePostal: string }) {
  return { line: [l.ligne], city: l.ville, postalCode: l.codePostal };
}

export function practitionerRole(p: PraticienAgenda, r: RoleAgenda): Ressource {
  const locId = `loc-${r.id.slice(5)}`;
  return {
    resourceType: 'PractitionerRole', id: r.id, meta: { profile: [PROFIL.practitionerRole] },
    contained: [{
      resourceType: 'Location', id: locId, meta: { profile: [PROFIL.location] },
      identifier: [{ type: { coding: [{ system: SYSTEME.typeIdLieu, code: 'INTRN' }] }, system: SYSTEME_EDITEUR, value: r.lieu.id }],
      address: adresse(r.lieu), position: { longitude: r.lieu.lon, latitude: r.lieu.lat },
    }],
    practitioner: { reference: `Practitioner/${p.id}` },
    organization: { identifier: { type: { coding: [{ system: SYSTEME.v20203, code: 'IDNST' }] }, system: SYSTEME.idnst, value: r.idnst } },
    location: [{ reference: `#${locId}` }],
    telecom: [{ system: 'phone', value: r.lieu.telephone }],
  };
}

export function schedule(p: PraticienAgenda, r: RoleAgenda): Ressource {
  return {
    resourceType: 'Schedule', id: r.scheduleId, meta: { profile: [PROFIL.schedule] },
    actor: [{ reference: `Practitioner/${p.id}` }, { reference: `PractitionerRole/${r.id}` }],
  };
}

export const healthcareServiceId = (c: Cpts) => `hs-${c.id}`;

export function healthcareService(c: Cpts): Ressource {
  return {
    resourceType: 'HealthcareService', id: healthcareServiceId(c), meta: { profile: [PROFIL.cptsHealthcareService] },
    providedBy: { reference: `Organization/${c.id}` }, name: c.nom,
  };
}

export function organisationCpts(c: Cpts): Ressource {
  return {
    resourceType: 'Organization', id: c.id, meta: { profile: [PROFIL.cptsOrganization] },
    identifier: [{ type: { coding: [{ system: SYSTEME.typeIdLieu, code: 'IDNST' }] }, system: SYSTEME.idnst, value: c.finess }],
    name: c.nom, telecom: [{ system: 'phone', value: c.telephone }],
  };
}

const consultation = (code: string) => ({ coding: [{ system: SYSTEME.actCode, code }] });

/**
 * A Slot. `avecCpts` selects the CPTS shape (INT_R04): a CPTS slot gets one serviceType per CPTS pointing at its
 * HealthcareService. CPTS slots are never sent in the plain INT_R01 shape (its slot-type value set has no CPTS code).
 */
export function slot(c: Creneau, urlReservation: string, specialite: string | undefined, avecCpts: boolean): Ressource {
  const cpts = avecCpts && c.types.includes('CPTS');
  return {
    resourceType: 'Slot', id: c.id,
    meta: { profile: [cpts ? PROFIL.cptsSlot : PROFIL.slot], security: c.types.map((code) => ({ system: SYSTEME.typeCreneau, code })) },
    serviceType: [
      ...c.consultations.map(consultation),
      ...(cpts ? c.cpts.map((x) => ({
        extension: [{ url: EXT_SERVICE_TYPE_R5, valueReference: { reference: `HealthcareService/${healthcareServiceId(x)}` } }],
        coding: [{ system: SYSTEME.categorieEtablissement, code: '604' }],
      })) : []),
      ...(c.motif ? [{ text: c.motif }] : []),
    ],
    ...(specialite ? { specialty: [{ coding: [{ system: SYSTEME.specialite, code: specialite }] }] } : {}),
    appointmentType: { coding: [{ system: SYSTEME.motifRdv, code: c.motifRdv }] },
    schedule: { reference: `Schedule/${c.scheduleId}` },
    status: 'free', start: dateSas(c.debut), end: dateSas(c.fin), comment: urlReservation,
  };
}

export function slotSos(c: Creneau, urlReservation: string): Ressource {
  return {
    resourceType: 'Slot', id: c.id,
    meta: { profile: [PROFIL.sosSlot], security: c.types.map((code) => ({ system: SYSTEME.typeCreneau, code })) },
    serviceType: c.consultations.map(consultation),
    appointmentType: { coding: [{ system: SYSTEME.motifRdv, code: c.motifRdv }] },
    schedule: { reference: `Schedule/${c.scheduleId}` },
    status: 'free', start: dateSas(c.debut), end: dateSas(c.fin), comment: urlReservation,
  };
}

export function scheduleSos(l: LieuSos): Ressource {
  return { resourceType: 'Schedule', id: l.scheduleId, meta: { profile: [PROFIL.sosSchedule] }, actor: [{ reference: `Location/${l.id}` }] };
}

export function locationSos(s: Sos, l: LieuSos): Ressource {
  return {
    resourceType: 'Location', id: l.id, meta: { profile: [PROFIL.sosLocation] },
    identifier: [{ type: { coding: [{ system: SYSTEME.typeIdLieu, code: 'INTRN' }] }, system: SYSTEME_EDITEUR, value: l.id }],
    name: l.nom, telecom: [{ system: 'phone', value: l.telephone }], address: adresse(l),
    position: { longitude: l.lon, latitude: l.lat },
    managingOrganization: { reference: `Organization/${s.id}` },
    hoursOfOperation: [{ daysOfWeek: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], openingTime: '08:00:00', closingTime: '20:00:00' }],
  };
}

export function organisationSos(s: Sos): Ressource {
  return {
    resourceType: 'Organization', id: s.id, meta: { profile: [PROFIL.sosOrganization] },
    identifier: [{ type: { coding: [{ system: SYSTEME.typeIdLieu, code: 'IDNST' }] }, system: SYSTEME.idnst, value: `3${s.siret}` }],
    name: s.nom,
  };
}

/** Every agenda resource readable by id (GET [base]/Type/id). */
export function ressourcesParId(agenda: Agenda): Map<string, Ressource> {
  const m = new Map<string, Ressource>();
  const put = (r: Ressource) => m.set(`${r.resourceType}/${r.id}`, r);
  for (const p of agenda.praticiens.values()) {
    put(practitioner(p));
    for (const r of p.roles) { put(practitionerRole(p, r)); put(schedule(p, r)); }
  }
  for (const c of agenda.cpts) { put(healthcareService(c)); put(organisationCpts(c)); }
  for (const s of agenda.sos) {
    put(organisationSos(s));
    for (const l of s.lieux) { put(scheduleSos(l)); put(locationSos(s, l)); }
  }
  return m;
}
export type { Ressource };
