// Lambert-93 (EPSG:2154, RGF93 on the GRS80 ellipsoid) ↔ geographic coordinates, from the IGN's
// published algorithms (notes techniques NT/G 71: ALG0001/0002 isometric latitude, ALG0003/0004
// Lambert conformal conic). RGF93 and WGS84 differ by less than a metre, well under FINESS precision.

const E = 0.0818191910428158; // first eccentricity of GRS80
const N = 0.725607765053267;
const C = 11754255.426096;
const XS = 700000;
const YS = 12655612.049876;
const LAMBDA0 = (3 * Math.PI) / 180;

export interface PointGeographique {
  latitude: number;
  longitude: number;
}

/** Inverse projection (ALG0004 then ALG0002): metres → degrees. */
export function versWgs84(x: number, y: number): PointGeographique {
  const dx = x - XS;
  const dy = YS - y;
  const r = Math.hypot(dx, dy);
  const gamma = Math.atan(dx / dy);
  const longitude = LAMBDA0 + gamma / N;
  const l = -Math.log(r / C) / N;
  let phi = 2 * Math.atan(Math.exp(l)) - Math.PI / 2;
  for (let i = 0; i < 20; i++) {
    const s = E * Math.sin(phi);
    const suivant = 2 * Math.atan(Math.pow((1 + s) / (1 - s), E / 2) * Math.exp(l)) - Math.PI / 2;
    if (Math.abs(suivant - phi) < 1e-12) {
      phi = suivant;
      break;
    }
    phi = suivant;
  }
  return { latitude: (phi * 180) / Math.PI, longitude: (longitude * 180) / Math.PI };
}

/** Direct projection (ALG0001 then ALG0003): degrees → metres. */
export function versLambert93(latitude: number, longitude: number): { x: number; y: number } {
  const phi = (latitude * Math.PI) / 180;
  const s = E * Math.sin(phi);
  const l = Math.log(Math.tan(Math.PI / 4 + phi / 2) * Math.pow((1 - s) / (1 + s), E / 2));
  const r = C * Math.exp(-N * l);
  const gamma = N * ((longitude * Math.PI) / 180 - LAMBDA0);
  return { x: XS + r * Math.sin(gamma), y: YS - r * Math.cos(gamma) };
}

/** Metropolitan France and Corsica in Lambert-93's domain of definition (EPSG:2154 bounds). */
export function dansLambert93(x: number, y: number): boolean {
  return x > 0 && x < 1_300_000 && y > 6_000_000 && y < 7_200_000;
}
