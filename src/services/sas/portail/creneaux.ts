// The slots shown on the result cards: the vendors' slots through the aggregator (for the
// practitioners of the page) merged with the slots entered by hand in the "agenda SAS" (Schedule
// and Slot in the store), over today and the next two days, as the national platform shows them.
import type { Schedule, Slot } from '@medplum/fhirtypes';
import type { FhirCore } from '../../../fhir/core.ts';
import type { Logger } from '../../../log.ts';
import type { OffreClassee } from '../recherche/moteur.ts';
import type { SourceDisponibilites } from './contrat.ts';

const FUSEAU = 'Europe/Paris';
export const JOURS = 3;

export interface CreneauAffiche {
  /** Vendor slot id, or Slot/<id> of the agenda SAS. */
  id: string;
  debut: string;
  fin: string;
  consultation: 'cabinet' | 'domicile' | 'teleconsultation';
  types: string[];
  /** Vendor's booking page (V2); absent for agenda SAS slots, booked on the platform. */
  urlReservation?: string;
  source: 'editeur' | 'agenda';
  editeur?: string;
}

const CONSULTATION: Record<string, CreneauAffiche['consultation']> = { AMB: 'cabinet', HH: 'domicile', VR: 'teleconsultation' };

/** The three days of the calendar (YYYY-MM-DD in Europe/Paris), from today. */
export function joursCalendrier(maintenant = new Date()): string[] {
  const jour = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: FUSEAU, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
  const out: string[] = [];
  for (let i = 0; out.length < JOURS; i++) {
    const j = jour(new Date(maintenant.getTime() + i * 12 * 3600_000));
    if (!out.includes(j)) out.push(j);
  }
  return out;
}

export const jourDe = (iso: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: FUSEAU, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));

/** Slots of each card of a page (key: the offer's cle), sorted by start, within the 3-day window. */
export async function creneauxDesOffres(
  core: FhirCore,
  source: SourceDisponibilites | undefined,
  offres: OffreClassee[],
  log: Logger,
  maintenant = new Date(),
): Promise<Map<string, CreneauAffiche[]>> {
  const jours = joursCalendrier(maintenant);
  const fenetre = (c: CreneauAffiche) => new Date(c.debut) >= maintenant && jours.includes(jourDe(c.debut));
  const out = new Map<string, CreneauAffiche[]>(offres.map((o) => [o.cle, []]));
  const [editeurs, agenda] = await Promise.all([
    vendeurs(source, offres, maintenant, log),
    agendaSas(core, offres, maintenant),
  ]);
  for (const o of offres) {
    const list = [...(o.idnat ? (editeurs.get(o.idnat) ?? []) : []), ...(agenda.get(o.cle) ?? [])].filter(fenetre);
    list.sort((a, b) => a.debut.localeCompare(b.debut));
    out.set(o.cle, list);
  }
  return out;
}

async function vendeurs(source: SourceDisponibilites | undefined, offres: OffreClassee[], maintenant: Date, log: Logger) {
  const out = new Map<string, CreneauAffiche[]>();
  const idnats = [...new Set(offres.map((o) => o.idnat).filter((x): x is string => !!x))];
  if (!source || idnats.length === 0) return out;
  try {
    const { parPraticien } = await source.disponibilites(idnats, { debut: maintenant, jours: JOURS });
    for (const [rpps, creneaux] of parPraticien) {
      const idnat = idnats.find((i) => i === rpps || i === `8${rpps}`) ?? rpps;
      out.set(
        idnat,
        creneaux.map((c) => ({ id: c.id, debut: c.debut, fin: c.fin, consultation: c.consultation, types: c.typeCreneau, urlReservation: c.urlReservation, source: 'editeur', editeur: c.editeur })),
      );
    }
  } catch (err) {
    // The vendors' slots are a bonus on the cards: a failing aggregator leaves the agenda SAS ones.
    log.warn({ err: (err as Error).message }, 'sas: aggregator unavailable');
  }
  return out;
}

async function agendaSas(core: FhirCore, offres: OffreClassee[], maintenant: Date) {
  const out = new Map<string, CreneauAffiche[]>();
  const cles = offres.map((o) => o.cle);
  if (cles.length === 0) return out;
  const schedules = await core.search('Schedule', { actor: cles.join(','), active: 'true', _count: '1000' });
  const acteurDe = new Map<string, string>();
  for (const m of schedules.matches) {
    const s = JSON.parse(m.json) as Schedule;
    const cle = s.actor.map((a) => a.reference).find((r) => r && cles.includes(r));
    if (cle) acteurDe.set(`Schedule/${m.id}`, cle);
  }
  if (acteurDe.size === 0) return out;
  const fin = new Date(maintenant.getTime() + (JOURS + 1) * 24 * 3600_000);
  const slots = await core.search('Slot', {
    schedule: [...acteurDe.keys()].join(','),
    status: 'free',
    start: [`ge${maintenant.toISOString()}`, `le${fin.toISOString()}`],
    _count: '1000',
  });
  for (const m of slots.matches) {
    const slot = JSON.parse(m.json) as Slot;
    const cle = acteurDe.get(slot.schedule.reference!);
    if (!cle) continue;
    const code = slot.serviceType?.flatMap((t) => t.coding ?? []).find((c) => c.code && CONSULTATION[c.code])?.code;
    const list = out.get(cle) ?? [];
    list.push({
      id: `Slot/${m.id}`,
      debut: slot.start,
      fin: slot.end,
      consultation: CONSULTATION[code ?? 'AMB'],
      types: (slot.meta?.security ?? []).map((s) => s.code!).filter(Boolean),
      source: 'agenda',
    });
    out.set(cle, list);
  }
  return out;
}
