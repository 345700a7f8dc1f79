// The guide's search shapes: GET /Slot (INT_R01 individual practitioners, INT_R04 CPTS) and GET /Schedule (SOS Médecins).
import { creneauxPraticien, creneauxSos, type Agenda, type Cpts, type PraticienAgenda } from './agenda.ts';
import { PROFIL, SYSTEME } from './profils.ts';
import * as R from './ressources.ts';
import { lireDateRecherche } from './temps.ts';

export const MAX_IDENTIFIANTS = 25;

/** Raw query pairs, decoded without turning `+` into a space (offsets are often sent unencoded). */
export function lireRequete(url: string): [string, string][] {
  const q = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  return q.split('&').filter(Boolean).map((kv) => {
    const i = kv.indexOf('=');
    const dec = (s: string) => { try { return decodeURIComponent(s); } catch { return s; } };
    return i < 0 ? [dec(kv), ''] : [dec(kv.slice(0, i)), dec(kv.slice(i + 1))];
  });
}

export class ErreurRequete extends Error {}

/** `system|value` → [system, value]; a bare value has an empty system. */
export function separerJeton(jeton: string): [string, string] {
  const i = jeton.indexOf('|');
  return i < 0 ? ['', jeton] : [jeton.slice(0, i), jeton.slice(i + 1)];
}

export interface Fenetre { debut: Date; fin: Date }

function fenetre(valeurs: string[]): Fenetre {
  let debut: Date | undefined;
  let fin: Date | undefined;
  for (const v of valeurs) {
    const prefixe = v.slice(0, 2);
    const d = lireDateRecherche(v.slice(2));
    if (!d || !['ge', 'gt', 'le', 'lt'].includes(prefixe)) {
      throw new ErreurRequete(`start: "${v}" is not a date search value (expected ge<dateTime> or le<dateTime>)`);
    }
    if (prefixe === 'ge' || prefixe === 'gt') debut = d; else fin = d;
  }
  if (!debut || !fin) throw new ErreurRequete('start: both start=ge<dateTime> and start=le<dateTime> are required');
  return { debut, fin };
}

function identifiants(valeur: string | undefined, parametre: string, systeme: string): string[] {
  if (!valeur) throw new ErreurRequete(`${parametre} is required`);
  const ids = valeur.split(',').map((v) => v.trim()).filter(Boolean);
  if (ids.length > MAX_IDENTIFIANTS) throw new ErreurRequete(`${parametre}: at most ${MAX_IDENTIFIANTS} identifiers per request (got ${ids.length})`);
  return ids.map((id) => {
    const [sys, valeur] = separerJeton(id);
    if (sys && sys !== systeme) throw new ErreurRequete(`${parametre}: unknown identifier system "${sys}"`);
    return valeur;
  });
}

type Entree = { fullUrl: string; resource: R.Ressource; search: { mode: 'match' | 'include' } };

export interface Reponse { bundle: Record<string, unknown> & { entry: Entree[] }; slots: number }

function bundle(base: string, selfUrl: string, profil: string, slots: Entree[], inclus: R.Ressource[]): Reponse {
  const vus = new Set<string>();
  const entry: Entree[] = [...slots];
  for (const r of inclus) {
    const cle = `${r.resourceType}/${r.id}`;
    if (vus.has(cle)) continue;
    vus.add(cle);
    entry.push({ fullUrl: `${base}/${cle}`, resource: r, search: { mode: 'include' } });
  }
  return {
    bundle: { resourceType: 'Bundle', meta: { profile: [profil] }, type: 'searchset', total: slots.length,
      link: [{ relation: 'self', url: selfUrl }], entry },
    slots: slots.length,
  };
}

export interface Contexte { agenda: Agenda; base: string; selfUrl: string; now: Date; reserves: Set<string>; urlReservation: (slotId: string) => string }

const inclut = (params: [string, string][], nom: string, valeur: string) => params.some(([k, v]) => k === nom && v === valeur);

/** Normalises a requested practitioner id: prefixed RPPS (8…) or ADELI (0…), or the bare 11-digit RPPS. */
function trouverPraticien(agenda: Agenda, id: string): PraticienAgenda | undefined {
  return agenda.praticiens.get(/^[80]\d{11}$/.test(id) ? id.slice(1) : id);
}

/** GET /Slot — INT_R01, and INT_R04 when the CPTS includes are asked for. */
export function rechercherSlots(ctx: Contexte, params: [string, string][]): Reponse {
  const get = (k: string) => params.filter(([n]) => n === k).map(([, v]) => v);
  const ids = identifiants(get('schedule.actor:Practitioner.identifier')[0], 'schedule.actor:Practitioner.identifier', SYSTEME.idnps);
  const { debut, fin } = fenetre(get('start'));
  const statut = get('status')[0];
  const cpts = inclut(params, '_include', 'Slot:service-type-reference');
  const avecSchedule = inclut(params, '_include', 'Slot:schedule');
  const avecActeurs = avecSchedule && inclut(params, '_include:iterate', 'Schedule:actor');
  const avecOrganisation = cpts && inclut(params, '_include:iterate', 'HealthcareService:organization');
  const slots: Entree[] = [];
  const inclus: R.Ressource[] = [];
  const services: Cpts[] = [];
  for (const id of ids) {
    const p = trouverPraticien(ctx.agenda, id);
    if (!p || (statut && statut !== 'free')) continue;
    for (const c of creneauxPraticien(ctx.agenda, p, ctx.now)) {
      if (c.debut < debut || c.debut > fin || ctx.reserves.has(c.id)) continue;
      // A slot only open to CPTS is not offered in the individual-practitioner shape.
      if (!cpts && c.types.includes('CPTS')) continue;
      const role = p.roles.find((r) => r.scheduleId === c.scheduleId)!;
      const res = R.slot(c, ctx.urlReservation(c.id), p.specialite, cpts);
      slots.push({ fullUrl: `${ctx.base}/Slot/${c.id}`, resource: res, search: { mode: 'match' } });
      if (avecSchedule) inclus.push(R.schedule(p, role));
      if (avecActeurs) inclus.push(R.practitioner(p), R.practitionerRole(p, role));
      if (cpts && (res.meta as { profile: string[] }).profile[0] === PROFIL.cptsSlot) services.push(...c.cpts);
    }
  }
  for (const c of services) {
    inclus.push(R.healthcareService(c));
    if (avecOrganisation) inclus.push(R.organisationCpts(c));
  }
  return bundle(ctx.base, ctx.selfUrl, services.length > 0 ? PROFIL.cptsBundle : PROFIL.bundle, slots, inclus);
}

/** GET /Schedule — the SOS Médecins shape: fixed places of the associations given by SIRET, with their free slots. */
export function rechercherSchedulesSos(ctx: Contexte, params: [string, string][]): Reponse {
  const get = (k: string) => params.filter(([n]) => n === k).map(([, v]) => v);
  const sirets = identifiants(get('actor:Location.organization.identifier')[0], 'actor:Location.organization.identifier', SYSTEME.idnst);
  const { debut, fin } = fenetre(get('_has:Slot:schedule:start'));
  const statut = get('_has:Slot:schedule:status')[0];
  const avecSlots = inclut(params, '_revinclude', 'Slot:schedule');
  const avecLieux = inclut(params, '_include', 'Schedule:actor:Location') || inclut(params, '_include', 'Schedule:actor');
  const avecOrganisation = avecLieux && inclut(params, '_include:iterate', 'Location:organization');
  const schedules: Entree[] = [];
  const inclus: R.Ressource[] = [];
  let total = 0;
  for (const siret of sirets) {
    const s = ctx.agenda.sos.find((x) => `3${x.siret}` === siret || x.siret === siret);
    if (!s || (statut && statut !== 'free')) continue;
    for (const l of s.lieux) {
      const libres = creneauxSos(ctx.agenda, l, ctx.now).filter((c) => c.debut >= debut && c.debut <= fin && !ctx.reserves.has(c.id));
      if (libres.length === 0) continue;
      total += libres.length;
      if (avecSlots) inclus.push(...libres.map((c) => R.slotSos(c, ctx.urlReservation(c.id))));
      schedules.push({ fullUrl: `${ctx.base}/Schedule/${l.scheduleId}`, resource: R.scheduleSos(l), search: { mode: 'match' } });
      if (avecLieux) inclus.push(R.locationSos(s, l));
      if (avecOrganisation) inclus.push(R.organisationSos(s));
    }
  }
  const rep = bundle(ctx.base, ctx.selfUrl, PROFIL.sosBundle, schedules, inclus);
  // The guide counts slots in `total` for every shape, SOS included.
  rep.bundle.total = total;
  rep.slots = total;
  return rep;
}

/** Finds a free or booked slot of the agenda by id (for reads and bookings). */
export function trouverCreneau(agenda: Agenda, id: string, now: Date) {
  for (const p of agenda.praticiens.values()) {
    if (!id.startsWith(`${p.rpps}-`)) continue;
    const c = creneauxPraticien(agenda, p, now).find((x) => x.id === id);
    if (c) return { creneau: c, praticien: p };
  }
  for (const s of agenda.sos) {
    for (const l of s.lieux) {
      if (!id.startsWith(`${l.id}-`)) continue;
      const c = creneauxSos(agenda, l, now).find((x) => x.id === id);
      if (c) return { creneau: c, sos: s };
    }
  }
  return undefined;
}
