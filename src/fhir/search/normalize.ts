// Normalisations shared by indexing and querying, so a search value and an indexed value meet.

/** Case- and accent-insensitive form: "Hélène  D'ARC" → "helene d'arc". */
export function normalizeString(value: string): string {
  return value
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_INDEXED_LENGTH);
}

/**
 * Free text folded for the full-text index and its queries: accents removed, lower case, the French
 * ligatures spelled out ("Cœur" → "coeur"), control characters (NUL, which PostgreSQL text cannot hold)
 * made spaces; words are split by the database's text parser afterwards.
 */
export function foldText(value: string): string {
  return value
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae')
    .replace(/\p{Cc}/gu, ' ');
}

/** B-tree entries are limited (~2.7 kB); longer values are indexed by their prefix. */
export const MAX_INDEXED_LENGTH = 1024;

export interface DateRange {
  low: Date;
  /** Exclusive upper bound. */
  high: Date;
}

const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The instant range a FHIR date, dateTime or instant covers at its precision: "2024-03" covers the
 * whole month. Values without a time zone are taken as UTC (documented in README).
 */
export function dateRange(value: string): DateRange | undefined {
  const m = DATE_RE.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const offsetMs = tz && tz !== 'Z' ? (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000 : 0;
  const utc = (yy: number, mm: number, dd: number, hh = 0, mn = 0, ss = 0, ms = 0) =>
    new Date(Date.UTC(yy, mm, dd, hh, mn, ss, ms) - offsetMs);
  if (mo === undefined) return { low: utc(year, 0, 1), high: utc(year + 1, 0, 1) };
  const month = Number(mo) - 1;
  if (month < 0 || month > 11) return undefined;
  if (d === undefined) return { low: utc(year, month, 1), high: utc(year, month + 1, 1) };
  const day = Number(d);
  // 2024-02-30 is no date: Date.UTC would silently roll it over to March.
  if (day < 1 || new Date(Date.UTC(year, month, day)).getUTCMonth() !== month) return undefined;
  if (h === undefined) return { low: utc(year, month, day), high: utc(year, month, day + 1) };
  const hour = Number(h);
  const minute = Number(mi);
  if (hour > 23 || minute > 59 || (s !== undefined && Number(s) > 59)) return undefined;
  if (s === undefined) return { low: utc(year, month, day, hour, minute), high: utc(year, month, day, hour, minute + 1) };
  const second = Number(s);
  if (frac === undefined) return { low: utc(year, month, day, hour, minute, second), high: utc(year, month, day, hour, minute, second + 1) };
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const low = utc(year, month, day, hour, minute, second, ms);
  return { low, high: new Date(low.getTime() + 1) };
}
