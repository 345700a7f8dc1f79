// The map of a result page, drawn without any tile server (the platform may run offline): an SVG
// whose background is the centres of the communes around the search place (communes.csv), with
// the search radius, the search place, and one numbered marker per result of the page.
import type { Lieu, OffreClassee } from '../recherche/moteur.ts';
import { referentiel } from '../recherche/referentiel.ts';
import { esc } from './pages.ts';

const L = 640;
const H = 480;

/** `premier`: how many results come before this page (markers carry the cards' numbers). */
export function carteSvg(lieu: Lieu, rayonKm: number, offres: OffreClassee[], premier = 0): string {
  const demiKm = Math.max(rayonKm * 1.25, 3);
  const kmParDegLat = 111.32;
  const kmParDegLon = 111.32 * Math.cos((lieu.lat * Math.PI) / 180);
  // Keep the 4:3 frame: the shorter side covers the radius.
  const echelle = Math.min(L, H) / (2 * demiKm); // px per km
  const x = (lon: number) => L / 2 + (lon - lieu.lon) * kmParDegLon * echelle;
  const y = (lat: number) => H / 2 - (lat - lieu.lat) * kmParDegLat * echelle;
  const dedans = (px: number, py: number) => px >= 0 && px <= L && py >= 0 && py <= H;

  const fond: string[] = [];
  const villes: { nom: string; px: number; py: number; population: number }[] = [];
  for (const c of referentiel().communes.values()) {
    const px = x(c.lon);
    const py = y(c.lat);
    if (!dedans(px, py)) continue;
    fond.push(`M${px.toFixed(1)} ${py.toFixed(1)}h0`);
    villes.push({ nom: c.nom, px, py, population: c.population });
  }
  const principales = villes.sort((a, b) => b.population - a.population).slice(0, 6);
  const occupes = new Map<string, number>();
  const marqueurs = offres
    .map((o, i) => ({ o, n: premier + i + 1 }))
    .filter(({ o }) => o.lat !== undefined && o.lon !== undefined)
    .map(({ o, n }) => {
      // Results at one commune centre would hide each other: spread them on a small spiral.
      const place = `${Math.round(x(o.lon!) / 8)},${Math.round(y(o.lat!) / 8)}`;
      const k = occupes.get(place) ?? 0;
      occupes.set(place, k + 1);
      const px = x(o.lon!) + Math.cos(k * 2.4) * Math.sqrt(k) * 12;
      const py = y(o.lat!) + Math.sin(k * 2.4) * Math.sqrt(k) * 12;
      const nom = o.type === 'ps' ? `${o.civilite ?? ''} ${o.prenom ?? ''} ${o.nom}`.trim() : o.nom;
      const couleur = o.participe ? '#000091' : '#6a6a6a';
      return `<g class="sas-marqueur"><title>${n}. ${esc(nom)}${o.distanceKm !== undefined ? ` — ${o.distanceKm.toFixed(1)} km` : ''}</title><circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="9" fill="${couleur}" stroke="#fff" stroke-width="1.5"/><text x="${px.toFixed(1)}" y="${(py + 3.5).toFixed(1)}" font-size="10" text-anchor="middle" fill="#fff">${n}</text></g>`;
    });
  const rayonPx = rayonKm * echelle;
  const echelleKm = [1, 2, 5, 10, 20, 50].find((k) => k * echelle >= 60) ?? 100;
  return `<svg class="sas-carte" viewBox="0 0 ${L} ${H}" role="img" aria-labelledby="carte-titre carte-desc" xmlns="http://www.w3.org/2000/svg">
<title id="carte-titre">Carte des résultats autour de ${esc(lieu.libelle)}</title>
<desc id="carte-desc">Rayon de recherche de ${rayonKm} km ; ${marqueurs.length} résultat(s) de la page. Les points gris sont les centres des communes.</desc>
<rect width="${L}" height="${H}" fill="#f6f6f6"/>
<path d="${fond.join('')}" stroke="#b7b7b7" stroke-width="2.5" stroke-linecap="round" fill="none"/>
<circle cx="${L / 2}" cy="${H / 2}" r="${rayonPx.toFixed(1)}" fill="#000091" fill-opacity="0.05" stroke="#000091" stroke-dasharray="6 4"/>
${principales.map((v) => `<text x="${(v.px + 4).toFixed(1)}" y="${(v.py - 4).toFixed(1)}" font-size="11" fill="#3a3a3a">${esc(v.nom)}</text>`).join('\n')}
<path d="M${L / 2 - 8} ${H / 2}h16M${L / 2} ${H / 2 - 8}v16" stroke="#ce0500" stroke-width="3"/>
${marqueurs.join('\n')}
<g transform="translate(16 ${H - 20})"><path d="M0 0h${(echelleKm * echelle).toFixed(1)}" stroke="#161616" stroke-width="2"/><text x="0" y="-6" font-size="11" fill="#161616">${echelleKm} km</text></g>
</svg>`;
}
