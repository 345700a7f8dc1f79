// Commune centres (INSEE code → WGS84 latitude/longitude) from the COG file shipped in
// data/referentiels/communes.csv: the ROR's near-insee-code searches around them, and the demo
// places its sites there.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { badRequest } from '../../fhir/outcome.ts';
import { distanceKm, type NearQuery } from '../../fhir/search/near.ts';

export const COMMUNES_CSV = fileURLToPath(new URL('../../../data/referentiels/communes.csv', import.meta.url));

export interface Commune {
  insee: string;
  nom: string;
  latitude: number;
  longitude: number;
}

export async function loadCommunes(path = COMMUNES_CSV): Promise<Map<string, Commune>> {
  const lines = (await readFile(path, 'utf8')).split('\n').filter(Boolean);
  const header = lines[0].split(',');
  const [insee, nom, lat, lon] = ['insee', 'nom', 'lat', 'lon'].map((c) => header.indexOf(c));
  const communes = new Map<string, Commune>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const latitude = Number(cells[lat]);
    const longitude = Number(cells[lon]);
    if (cells[lat] && cells[lon] && Number.isFinite(latitude) && Number.isFinite(longitude)) {
      communes.set(cells[insee], { insee: cells[insee], nom: cells[nom], latitude, longitude });
    }
  }
  return communes;
}

/** near-insee-code=codeInsee|distance|units: near the centre of a commune (km when units are omitted). */
export function nearCommune(communes: Map<string, Commune>, raw: string): NearQuery {
  const [code, distance, units] = raw.split('|');
  const commune = communes.get(code);
  if (!commune) throw badRequest(`near-insee-code: "${code}" is not the INSEE code of a current commune (COG)`);
  return { latitude: commune.latitude, longitude: commune.longitude, km: distanceKm(distance, units, raw) };
}
