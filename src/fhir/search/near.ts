// The R4 special parameter `near` (Location.position): positions are indexed in sp_position and a
// search is a bounding-box pre-filter (btree on latitude, longitude) followed by the exact
// great-circle distance (haversine) in SQL, so it combines with every other parameter, chains and
// _has, and paging stays exact. Other special parameters that mean "near a point" (the ROR's
// near-insee-code: near a commune's centre) register a resolver that turns their value into one.
import type { SearchParameter } from '@medplum/fhirtypes';
import type { TypedValue } from '@medplum/core';
import { badRequest } from '../outcome.ts';
import type { Sql } from './sql.ts';

/** IUGG mean Earth radius. */
const EARTH_RADIUS_KM = 6371.0088;
/** R4: "if the distance is omitted, the server can use its own discretion". */
export const DEFAULT_NEAR_KM = 10;
/** UCUM length units accepted for the distance; km when omitted (R4). */
const UNITS_KM: Record<string, number> = { km: 1, m: 0.001, '[mi_i]': 1.609344, mi: 1.609344 };

export interface PositionRow {
  param: string;
  latitude: number;
  longitude: number;
}

export interface NearQuery {
  latitude: number;
  longitude: number;
  km: number;
}

/** Index kind of a special parameter: `near` (on Location.position) is indexed as a position. */
export const isPositionParameter = (sp: SearchParameter) => sp.type === 'special' && sp.code === 'near';

/** The position row of a Location.position value, if it carries both coordinates. */
export function positionRow(param: string, tv: TypedValue): PositionRow | undefined {
  const v = tv.value as { latitude?: unknown; longitude?: unknown } | undefined;
  if (typeof v?.latitude !== 'number' || typeof v.longitude !== 'number') return undefined;
  return { param, latitude: v.latitude, longitude: v.longitude };
}

/** near=latitude|longitude|distance|units (R4 search#special). */
export function parseNear(raw: string): NearQuery {
  const [lat, lon, distance, units] = raw.split('|');
  const latitude = Number(lat);
  const longitude = Number(lon);
  if (!lat || !lon || !Number.isFinite(latitude) || !Number.isFinite(longitude) || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
    throw badRequest(`near expects latitude|longitude|distance|units (WGS84 degrees), got "${raw}"`);
  }
  return { latitude, longitude, km: distanceKm(distance, units, raw) };
}

/** A distance and its UCUM unit (km when omitted), in kilometres. */
export function distanceKm(distance: string | undefined, units: string | undefined, raw: string): number {
  if (distance === undefined || distance === '') return DEFAULT_NEAR_KM;
  const n = Number(distance);
  if (!Number.isFinite(n) || n < 0) throw badRequest(`The distance of a near search must be a non-negative number, got "${distance}" in "${raw}"`);
  const factor = UNITS_KM[units || 'km'];
  if (factor === undefined) throw badRequest(`Unsupported distance unit "${units}" in "${raw}": use km, m or [mi_i]`);
  return n * factor;
}

type Resolver = (raw: string) => NearQuery;
const resolvers = new Map<string, Resolver>();

/** Makes a special parameter (by code) search positions near the point its value resolves to. */
export function registerNearResolver(code: string, resolver: Resolver): void {
  resolvers.set(code, resolver);
}

/** The near query of a special parameter value, or undefined when no resolver knows the parameter. */
export function resolveNear(sp: SearchParameter, raw: string): NearQuery | undefined {
  if (isPositionParameter(sp)) return parseNear(raw);
  return resolvers.get(sp.code as string)?.(raw);
}

/** SQL expression: the distance in km from the query's point to the row's latitude/longitude columns. */
export function distanceSql(sql: Sql, q: NearQuery): string {
  const lat = sql.p(q.latitude);
  const lon = sql.p(q.longitude);
  return `2 * ${EARTH_RADIUS_KM} * asin(least(1, sqrt(power(sin(radians(latitude - ${lat}::float8) / 2), 2) + cos(radians(${lat}::float8)) * cos(radians(latitude)) * power(sin(radians(longitude - ${lon}::float8) / 2), 2))))`;
}

/**
 * The ids of the resources of `type` whose position is within the distance. The bounding box lets
 * PostgreSQL use the btree; the haversine then keeps the exact disc.
 */
export function nearSubquery(sql: Sql, type: string, q: NearQuery): string {
  const dLat = (q.km / EARTH_RADIUS_KM) * (180 / Math.PI);
  const cosLat = Math.cos((q.latitude * Math.PI) / 180);
  const dLon = cosLat > 1e-9 ? dLat / cosLat : 360;
  const box = [`latitude BETWEEN ${sql.p(q.latitude - dLat)} AND ${sql.p(q.latitude + dLat)}`];
  // Near a pole or across the antimeridian the longitude range wraps: latitude alone bounds the box.
  if (q.longitude - dLon >= -180 && q.longitude + dLon <= 180) box.push(`longitude BETWEEN ${sql.p(q.longitude - dLon)} AND ${sql.p(q.longitude + dLon)}`);
  return `SELECT resource_id FROM sp_position WHERE resource_type = ${sql.p(type)} AND param = 'near' AND ${box.join(' AND ')} AND ${distanceSql(sql, q)} <= ${sql.p(q.km)}`;
}
