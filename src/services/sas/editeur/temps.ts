// Dates as the SAS exchanges them: Europe/Paris wall time, milliseconds and a numeric offset.
const FUSEAU = 'Europe/Paris';

const parties = new Intl.DateTimeFormat('en-GB', {
  timeZone: FUSEAU, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
});

interface Mur { annee: number; mois: number; jour: number; heure: number; minute: number; seconde: number }

function heureMurale(d: Date): Mur {
  const p = Object.fromEntries(parties.formatToParts(d).map((x) => [x.type, x.value]));
  return { annee: +p.year, mois: +p.month, jour: +p.day, heure: +p.hour, minute: +p.minute, seconde: +p.second };
}

const decalages = new Map<number, number>();

/** Offset of Paris from UTC at instant d, in minutes (60 or 120); Paris changes offset on the hour, so it is kept per hour. */
export function decalageParis(d: Date): number {
  const heure = Math.floor(d.getTime() / 3_600_000);
  let off = decalages.get(heure);
  if (off === undefined) {
    const m = heureMurale(d);
    const commeUtc = Date.UTC(m.annee, m.mois - 1, m.jour, m.heure, m.minute, m.seconde);
    off = Math.round((commeUtc - Math.floor(d.getTime() / 1000) * 1000) / 60000);
    if (decalages.size > 100_000) decalages.clear();
    decalages.set(heure, off);
  }
  return off;
}

/** The instant of a Paris wall-clock time (DST gaps resolve forward). */
export function instantParis(annee: number, mois: number, jour: number, heure = 0, minute = 0, seconde = 0, ms = 0): Date {
  const naif = Date.UTC(annee, mois - 1, jour, heure, minute, seconde, ms);
  let d = new Date(naif - decalageParis(new Date(naif)) * 60000);
  d = new Date(naif - decalageParis(d) * 60000);
  return d;
}

const deux = (n: number) => String(n).padStart(2, '0');

/** `2024-06-12T16:20:00.000+02:00` */
export function dateSas(d: Date): string {
  const off = decalageParis(d);
  const mur = new Date(d.getTime() + off * 60000);
  const abs = Math.abs(off);
  return `${mur.toISOString().slice(0, 23)}${off < 0 ? '-' : '+'}${deux(Math.floor(abs / 60))}:${deux(abs % 60)}`;
}

/** The Paris calendar day of d, plus `n` days: [year, month, day]. */
export function jourParis(d: Date, n = 0): [number, number, number] {
  const m = heureMurale(d);
  const j = new Date(Date.UTC(m.annee, m.mois - 1, m.jour + n));
  return [j.getUTCFullYear(), j.getUTCMonth() + 1, j.getUTCDate()];
}

const DATE_RECHERCHE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Parses a FHIR search date (prefix already removed). Milliseconds and offset are optional; without an offset the
 * time is Paris wall time, as the platform sends it. An unencoded `+` arrives as a space and is put back.
 */
export function lireDateRecherche(valeur: string): Date | undefined {
  const m = DATE_RECHERCHE.exec(valeur.trim().replace(/ (\d{2}:\d{2})$/, '+$1'));
  if (!m) return undefined;
  const [, a, mo, j, h = '0', mi = '0', s = '0', frac = '0', tz] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  if (!tz) return instantParis(+a, +mo, +j, +h, +mi, +s, ms);
  const naif = Date.UTC(+a, +mo - 1, +j, +h, +mi, +s, ms);
  if (tz === 'Z') return new Date(naif);
  const off = (tz.startsWith('-') ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6)));
  const d = new Date(naif - off * 60000);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
