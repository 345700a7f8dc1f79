// The exact searches the SAS sends to vendors (guide §3.1, §3.2): GET /Slot for individual
// practitioners (INT_R01) and CPTS (INT_R04), GET /Schedule for SOS Médecins, with the window from
// now to the end of the day after tomorrow, Paris time, in the guide's date format.

export const SYSTEME_IDNPS = 'urn:oid:1.2.250.1.71.4.2.1';
export const SYSTEME_IDNST = 'urn:oid:1.2.250.1.71.4.2.2';
/** At most 25 practitioners per call (guide), 10 SOS Médecins associations (functional page). */
export const LOT_PRATICIENS = 25;
export const LOT_SOS = 10;
const FUSEAU = 'Europe/Paris';

export interface Fenetre {
  debut: Date;
  fin: Date;
}

/** From `debut` (rounded down to the minute, so that close searches share a cache entry) to the end of day today + jours, Paris time. */
export function fenetre(debut: Date, jours = 2): Fenetre {
  const minute = new Date(Math.floor(debut.getTime() / 60_000) * 60_000);
  const [a, m, j] = jourParis(minute, jours);
  const fin = instantParis(a, m, j, 23, 59, 59, 999);
  return { debut: minute, fin };
}

export function lots<T>(valeurs: T[], taille: number): T[][] {
  const sortie: T[][] = [];
  for (let i = 0; i < valeurs.length; i += taille) sortie.push(valeurs.slice(i, i + taille));
  return sortie;
}

// Values percent-encoded except the characters the guide's examples keep readable (":" and "," between OR values);
// "|" is sent as %7C as in the guide's self links, "+" as %2B so that it does not arrive as a space.
const valeur = (v: string) => encodeURIComponent(v).replace(/%3A/giu, ':').replace(/%2C/giu, ',');
const requete = (params: [string, string][]) => params.map(([k, v]) => `${k}=${valeur(v)}`).join('&');

/** INT_R01 (and INT_R04 when cpts): Slot search for up to 25 practitioners (idNat_PS). */
export function requeteSlots(idnps: string[], f: Fenetre, cpts: boolean): string {
  const params: [string, string][] = [
    ['_include', 'Slot:schedule'],
    ['_include:iterate', 'Schedule:actor'],
    ...(cpts
      ? ([
          ['_include', 'Slot:service-type-reference'],
          ['_include:iterate', 'HealthcareService:organization'],
        ] as [string, string][])
      : []),
    ['start', `ge${dateSas(f.debut)}`],
    ['start', `le${dateSas(f.fin)}`],
    ['schedule.actor:Practitioner.identifier', idnps.map((id) => `${SYSTEME_IDNPS}|${id}`).join(',')],
    ['status', 'free'],
    ['_count', '1000'],
  ];
  return `/Slot?${requete(params)}`;
}

/** SOS Médecins: Schedule search with the associations' slots, places and organisations, by SIRET (3 + SIRET). */
export function requeteSos(sirets: string[], f: Fenetre): string {
  const params: [string, string][] = [
    ['_revinclude', 'Slot:schedule'],
    ['_include', 'Schedule:actor:Location'],
    ['_include:iterate', 'Location:organization'],
    ['_has:Slot:schedule:start', `ge${dateSas(f.debut)}`],
    ['_has:Slot:schedule:start', `le${dateSas(f.fin)}`],
    ['_has:Slot:schedule:status', 'free'],
    ['actor:Location.organization.identifier', sirets.map((s) => `${SYSTEME_IDNST}|3${s}`).join(',')],
  ];
  return `/Schedule?${requete(params)}`;
}

const parties = new Intl.DateTimeFormat('en-GB', {
  timeZone: FUSEAU,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function murale(d: Date): number[] {
  const p = Object.fromEntries(parties.formatToParts(d).map((x) => [x.type, Number(x.value)]));
  return [p.year, p.month, p.day, p.hour, p.minute, p.second];
}

/** Minutes Paris is ahead of UTC at d. */
function decalage(d: Date): number {
  const [a, m, j, h, mi, s] = murale(d);
  return Math.round((Date.UTC(a, m - 1, j, h, mi, s) - Math.floor(d.getTime() / 1000) * 1000) / 60_000);
}

function instantParis(a: number, m: number, j: number, h: number, mi: number, s: number, ms: number): Date {
  const naif = Date.UTC(a, m - 1, j, h, mi, s, ms);
  const premier = new Date(naif - decalage(new Date(naif)) * 60_000);
  return new Date(naif - decalage(premier) * 60_000);
}

function jourParis(d: Date, plus: number): [number, number, number] {
  const [a, m, j] = murale(d);
  const jour = new Date(Date.UTC(a, m - 1, j + plus));
  return [jour.getUTCFullYear(), jour.getUTCMonth() + 1, jour.getUTCDate()];
}

const deux = (n: number) => String(n).padStart(2, '0');

/** 2024-06-12T16:20:00.000+02:00: Paris wall time, milliseconds, numeric offset (the guide's format). */
export function dateSas(d: Date): string {
  const [a, m, j, h, mi, s] = murale(d);
  const off = decalage(d);
  const abs = Math.abs(off);
  return `${a}-${deux(m)}-${deux(j)}T${deux(h)}:${deux(mi)}:${deux(s)}.${String(d.getUTCMilliseconds()).padStart(3, '0')}${off < 0 ? '-' : '+'}${deux(Math.floor(abs / 60))}:${deux(abs % 60)}`;
}
