// Orientation statistics: searches, orientations (booking redirects), participation and refusal
// declarations, counted per ISO week and per territory (department) from the events of
// sas_evenement; shown as a chart in the portal ("Évolution du nombre d'orientations") and
// exported as CSV.
import type { Queryable } from '../../../db/index.ts';

export type TypeEvenement = 'recherche' | 'orientation' | 'participation' | 'refus';

export interface Evenement {
  type: TypeEvenement;
  departement?: string;
  /** Who did it: the regulator's or the practitioner's idNat_PS. */
  acteur?: string;
  /** The practitioner concerned (orientations, declarations). */
  idnat?: string;
  details?: Record<string, unknown>;
}

export interface LigneStatistique {
  /** Monday of the week (YYYY-MM-DD, Europe/Paris). */
  semaine: string;
  departement: string;
  recherches: number;
  orientations: number;
  participations: number;
  refus: number;
}

export async function enregistrer(db: Queryable, e: Evenement): Promise<void> {
  await db.query('INSERT INTO sas_evenement (type, departement, acteur, idnat, details) VALUES ($1, $2, $3, $4, $5)', [
    e.type,
    e.departement ?? null,
    e.acteur ?? null,
    e.idnat ?? null,
    e.details ? JSON.stringify(e.details) : null,
  ]);
}

export async function statistiques(db: Queryable, filtre: { departement?: string; semaines?: number } = {}): Promise<LigneStatistique[]> {
  const { rows } = await db.query<{ semaine: string; departement: string | null; type: TypeEvenement; n: number }>(
    `SELECT to_char(date_trunc('week', survenu_le AT TIME ZONE 'Europe/Paris'), 'YYYY-MM-DD') AS semaine,
            departement, type, count(*)::int AS n
       FROM sas_evenement
      WHERE ($1::text IS NULL OR departement = $1)
        AND survenu_le >= now() - make_interval(days => $2)
      GROUP BY 1, 2, 3
      ORDER BY 1, 2`,
    [filtre.departement ?? null, 7 * (filtre.semaines ?? 52)],
  );
  const lignes = new Map<string, LigneStatistique>();
  const champ: Record<TypeEvenement, keyof LigneStatistique> = { recherche: 'recherches', orientation: 'orientations', participation: 'participations', refus: 'refus' };
  for (const r of rows) {
    const departement = r.departement ?? '';
    const cle = `${r.semaine}|${departement}`;
    const l = lignes.get(cle) ?? { semaine: r.semaine, departement, recherches: 0, orientations: 0, participations: 0, refus: 0 };
    (l[champ[r.type]] as number) += Number(r.n);
    lignes.set(cle, l);
  }
  return [...lignes.values()];
}

/** Current state of the declarations: practitioners participating and refusing. */
export async function effectifs(db: Queryable): Promise<{ participants: number; refus: number }> {
  const { rows } = await db.query<{ participants: number; refus: number }>(
    `SELECT count(*) FILTER (WHERE participe)::int AS participants, count(*) FILTER (WHERE NOT participe)::int AS refus FROM sas_participation`,
  );
  return { participants: Number(rows[0].participants), refus: Number(rows[0].refus) };
}

const COLONNES: (keyof LigneStatistique)[] = ['semaine', 'departement', 'recherches', 'orientations', 'participations', 'refus'];

/** RFC 4180 CSV, one line per week and department. */
export function enCsv(lignes: LigneStatistique[]): string {
  const cellule = (v: unknown) => (/[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  return [COLONNES.join(','), ...lignes.map((l) => COLONNES.map((c) => cellule(l[c])).join(','))].join('\r\n') + '\r\n';
}

/** Per week over every department of the lines, oldest first. */
export function parSemaine(lignes: LigneStatistique[]): { semaine: string; orientations: number; recherches: number }[] {
  const m = new Map<string, { semaine: string; orientations: number; recherches: number }>();
  for (const l of lignes) {
    const s = m.get(l.semaine) ?? { semaine: l.semaine, orientations: 0, recherches: 0 };
    s.orientations += l.orientations;
    s.recherches += l.recherches;
    m.set(l.semaine, s);
  }
  return [...m.values()].sort((a, b) => a.semaine.localeCompare(b.semaine));
}

/** "Évolution du nombre d'orientations": bars per week, with the searches as a line. */
export function graphiqueSvg(semaines: { semaine: string; orientations: number; recherches: number }[]): string {
  const L = 720;
  const H = 320;
  const m = { g: 48, d: 16, h: 24, b: 56 };
  const max = Math.max(1, ...semaines.map((s) => Math.max(s.orientations, s.recherches)));
  const pas = Math.pow(10, Math.floor(Math.log10(max)));
  const haut = Math.ceil(max / pas) * pas;
  const larg = (L - m.g - m.d) / Math.max(1, semaines.length);
  const y = (v: number) => H - m.b - (v / haut) * (H - m.h - m.b);
  const graduations = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * haut));
  const barres = semaines.map((s, i) => {
    const x = m.g + i * larg + larg * 0.2;
    return `<g><title>Semaine du ${s.semaine} : ${s.orientations} orientation(s), ${s.recherches} recherche(s)</title><rect x="${x.toFixed(1)}" y="${y(s.orientations).toFixed(1)}" width="${(larg * 0.6).toFixed(1)}" height="${(H - m.b - y(s.orientations)).toFixed(1)}" fill="#000091"/><text x="${(x + larg * 0.3).toFixed(1)}" y="${H - m.b + 16}" font-size="10" text-anchor="middle" fill="#3a3a3a">${s.semaine.slice(5)}</text></g>`;
  });
  const ligne = semaines.map((s, i) => `${i ? 'L' : 'M'}${(m.g + i * larg + larg / 2).toFixed(1)} ${y(s.recherches).toFixed(1)}`).join('');
  return `<svg class="sas-graphique" viewBox="0 0 ${L} ${H}" role="img" aria-labelledby="graphique-titre graphique-desc" xmlns="http://www.w3.org/2000/svg">
<title id="graphique-titre">Évolution du nombre d'orientations</title>
<desc id="graphique-desc">Orientations (barres) et recherches (ligne) par semaine, sur ${semaines.length} semaine(s).</desc>
${graduations.map((g) => `<path d="M${m.g} ${y(g).toFixed(1)}H${L - m.d}" stroke="#ddd"/><text x="${m.g - 6}" y="${(y(g) + 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#3a3a3a">${g}</text>`).join('\n')}
${barres.join('\n')}
${semaines.length ? `<path d="${ligne}" fill="none" stroke="#ce0500" stroke-width="2"/>` : `<text x="${L / 2}" y="${H / 2}" text-anchor="middle" fill="#666">Aucune donnée sur la période</text>`}
<g transform="translate(${m.g} ${H - 18})" font-size="11" fill="#161616"><rect width="12" height="12" y="-10" fill="#000091"/><text x="16">Orientations</text><path d="M110 -4h16" stroke="#ce0500" stroke-width="2"/><text x="130">Recherches</text></g>
</svg>`;
}
