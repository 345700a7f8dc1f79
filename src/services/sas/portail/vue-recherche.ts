// The search page: the form (specialty, place, radius), the map, and one card per result with its
// three-day slot calendar and booking buttons, then the pagination.
import type { Lieu, OffreClassee, Resultats } from '../recherche/moteur.ts';
import { referentiel } from '../recherche/referentiel.ts';
import { carteSvg } from './carte.ts';
import { jourDe, joursCalendrier, type CreneauAffiche } from './creneaux.ts';
import { dateLongue, esc, heure } from './pages.ts';

export interface Formulaire {
  specialite?: string;
  lieu?: string;
  rayon?: string;
  nom?: string;
}

const CONSULTATION: Record<CreneauAffiche['consultation'], string> = { cabinet: 'au cabinet', domicile: 'à domicile', teleconsultation: 'en téléconsultation' };

export function formulaire(f: Formulaire, cache: Record<string, string> = {}): string {
  const options = referentiel()
    .specialites.map((s) => `<option value="${esc(s.libelle)}"></option>`)
    .join('');
  const caches = Object.entries(cache).map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
  return `<form method="get" action="/sas/recherche" class="fr-mb-4w" role="search" aria-label="Recherche d'offre de soins">
${caches}
<div class="fr-grid-row fr-grid-row--gutters">
  <div class="fr-col-12 fr-col-md-4"><div class="fr-input-group">
    <label class="fr-label" for="specialite">Spécialité ou profession<span class="fr-hint-text">Par exemple : Médecine générale (SM), Infirmier, Pédiatrie (SM)</span></label>
    <input class="fr-input" id="specialite" name="specialite" list="specialites" autocomplete="off" value="${esc(f.specialite ?? '')}">
    <datalist id="specialites">${options}</datalist>
  </div></div>
  <div class="fr-col-12 fr-col-md-4"><div class="fr-input-group">
    <label class="fr-label" for="lieu">Lieu<span class="fr-hint-text">Commune, code postal, code INSEE ou adresse avec code postal</span></label>
    <input class="fr-input" id="lieu" name="lieu" required autocomplete="off" value="${esc(f.lieu ?? '')}">
  </div></div>
  <div class="fr-col-6 fr-col-md-2"><div class="fr-input-group">
    <label class="fr-label" for="rayon">Rayon (km)<span class="fr-hint-text">Par défaut : celui du département</span></label>
    <input class="fr-input" id="rayon" name="rayon" inputmode="numeric" pattern="[0-9]*" value="${esc(f.rayon ?? '')}">
  </div></div>
  <div class="fr-col-6 fr-col-md-2"><div class="fr-input-group">
    <label class="fr-label" for="nom">Nom<span class="fr-hint-text">Facultatif</span></label>
    <input class="fr-input" id="nom" name="nom" value="${esc(f.nom ?? '')}">
  </div></div>
</div>
<button class="fr-btn" type="submit">Rechercher</button>
</form>`;
}

export interface VueResultats {
  lieu: Lieu;
  resultats: Resultats;
  creneaux: Map<string, CreneauAffiche[]>;
  /** Hidden fields of a booking form for a slot of an offer. */
  reservation: (o: OffreClassee, c: CreneauAffiche) => Record<string, string>;
  /** Link of another page of the same search. */
  lienPage: (page: number) => string;
  maintenant?: Date;
}

export function resultats(v: VueResultats): string {
  const { resultats: r } = v;
  const premier = (r.page - 1) * r.parPage;
  const jours = joursCalendrier(v.maintenant);
  const titre = r.total === 0 ? 'Aucun résultat' : `${r.total} résultat${r.total > 1 ? 's' : ''}`;
  return `<h2 id="resultats-titre">${titre} dans un rayon de ${r.rayonKm} km autour de ${esc(v.lieu.libelle)}</h2>
<div class="fr-grid-row fr-grid-row--gutters">
<div class="fr-col-12 fr-col-lg-7">
<ol class="sas-resultats" aria-labelledby="resultats-titre" start="${premier + 1}">
${r.offres.map((o, i) => carte(o, premier + i + 1, v.creneaux.get(o.cle) ?? [], jours, v)).join('\n')}
</ol>
${pagination(r.page, r.pages, v.lienPage)}
</div>
<div class="fr-col-12 fr-col-lg-5"><h2 class="fr-h5">Carte</h2>${carteSvg(v.lieu, r.rayonKm, r.offres, premier)}</div>
</div>`;
}

function carte(o: OffreClassee, n: number, creneaux: CreneauAffiche[], jours: string[], v: VueResultats): string {
  const ref = referentiel();
  const libelles = [
    ...o.specialites.map((c) => ref.specialite(`R38:${c}`)?.libelle),
    ...(o.specialites.length ? [] : o.professions.map((c) => ref.specialite(`G15:${c}`)?.libelle)),
  ].filter(Boolean);
  const nom = o.type === 'ps' ? `${o.civilite ? `${o.civilite} ` : ''}${o.prenom ?? ''} ${o.nom}`.trim() : o.nom;
  const badges = [
    o.medecinTraitant ? '<p class="fr-badge fr-badge--info fr-badge--sm">Médecin traitant</p>' : '',
    o.participe ? '<p class="fr-badge fr-badge--success fr-badge--sm">Participe au SAS</p>' : '',
    o.categorie === 'sos' ? '<p class="fr-badge fr-badge--sm">SOS Médecins</p>' : o.categorie === 'cpts' ? '<p class="fr-badge fr-badge--sm">CPTS</p>' : '',
  ].join('');
  const colonnes = jours
    .map((j) => {
      const duJour = creneaux.filter((c) => jourDe(c.debut) === j);
      const items = duJour
        .map((c) => {
          const champs = Object.entries(v.reservation(o, c)).map(([k, val]) => `<input type="hidden" name="${esc(k)}" value="${esc(val)}">`).join('');
          const label = `Réserver le créneau de ${heure(c.debut)} ${CONSULTATION[c.consultation]} avec ${nom}`;
          return `<li><form method="post" action="/sas/orientation">${champs}<button class="fr-btn fr-btn--sm fr-btn--secondary" type="submit" aria-label="${esc(label)}" title="${esc(`${CONSULTATION[c.consultation]}${c.types.length ? ` — ${c.types.join(', ')}` : ''}${c.editeur ? ` — ${c.editeur}` : ''}`)}">${heure(c.debut)}</button></form></li>`;
        })
        .join('');
      return `<div><h4>${esc(dateLongue(j))}</h4>${items ? `<ul>${items}</ul>` : '<p class="sas-vide">Aucun créneau</p>'}</div>`;
    })
    .join('');
  return `<li id="resultat-${n}"><article class="sas-fiche">
<h3 class="fr-h5 fr-mb-1w">${n}. ${esc(nom)}</h3>
${badges ? `<div class="fr-mb-1w">${badges}</div>` : ''}
<p class="fr-text--sm fr-mb-1w">${esc(libelles.join(', ') || (o.type === 'structure' ? 'Structure de soins' : ''))}${o.structure && o.type === 'ps' ? ` — ${esc(o.structure)}` : ''}<br>
${esc(o.adresse ?? o.commune?.nom ?? '')}${o.distanceKm !== undefined ? ` — à ${o.distanceKm.toFixed(1).replace('.', ',')} km` : ''}${o.telephone ? ` — Tél. ${esc(o.telephone)}` : ''}</p>
<div class="sas-calendrier" role="group" aria-label="Créneaux disponibles de ${esc(nom)}">${colonnes}</div>
</article></li>`;
}

function pagination(page: number, pages: number, lien: (p: number) => string): string {
  if (pages <= 1) return '';
  const items: string[] = [];
  if (page > 1) items.push(`<li><a class="fr-pagination__link fr-pagination__link--prev fr-pagination__link--lg-label" href="${esc(lien(page - 1))}">Page précédente</a></li>`);
  for (let p = Math.max(1, page - 3); p <= Math.min(pages, page + 3); p++) {
    items.push(p === page ? `<li><a class="fr-pagination__link" aria-current="page" title="Page ${p}">${p}</a></li>` : `<li><a class="fr-pagination__link" href="${esc(lien(p))}" title="Page ${p}">${p}</a></li>`);
  }
  if (page < pages) items.push(`<li><a class="fr-pagination__link fr-pagination__link--next fr-pagination__link--lg-label" href="${esc(lien(page + 1))}">Page suivante</a></li>`);
  return `<nav role="navigation" class="fr-pagination" aria-label="Pagination"><ul class="fr-pagination__list">${items.join('')}</ul></nav>`;
}
