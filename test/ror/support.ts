// Shared set-up of the ROR suites: a platform with the demo ROR (Île-de-France: 7 entités
// géographiques, 14 lieux with capacities, 14 offres), and helpers that read hit sets back as the
// lieux' identifiers ("11/<FINESS EG>-<n>"), which the demo makes stable.
import assert from 'node:assert/strict';
import type { Bundle, Location } from '@medplum/fhirtypes';
import type { Http } from '../support/fhir-client.ts';
import { linkOf, searchset } from '../support/search-fixtures.ts';

export const TRE = (table: string) => `https://mos.esante.gouv.fr/NOS/${table}/FHIR/${table.replace('_', '-')}`;
export const PARIS = '48.8589|2.347'; // centre of commune 75056 in the COG file

/** The demo sites (EG FINESS) by commune, as seeded. */
export const SITE = {
  paris: '750100125',
  creteil: '940100027',
  villejuif: '940100043',
  versailles: '780110078',
  boulogne: '920100047',
  saintDenis: '930110051',
  evry: '910019447',
};

/** Both lieux of each site named. */
export const lieux = (...sites: string[]) => sites.flatMap((s) => [`11/${s}-1`, `11/${s}-2`]).sort();

/** Every match of a search, following next links; the identifiers of Locations, ids otherwise. */
export async function hits(h: Http, query: string): Promise<string[]> {
  const out: string[] = [];
  let b: Bundle = await searchset(h, query);
  for (;;) {
    for (const e of b.entry ?? []) {
      if (e.search?.mode !== 'match') continue;
      const r = e.resource as Location;
      out.push(r.resourceType === 'Location' ? (r.identifier?.[0]?.value as string) : `${r.resourceType}/${r.id}`);
    }
    const next = linkOf(b, 'next');
    if (!next) break;
    b = await searchset(h, next);
  }
  assert.equal(new Set(out).size, out.length, `${query}: a resource was returned twice`);
  return out.sort();
}

/** The Location of a demo lieu, by identifier. */
export async function lieu(h: Http, identifier: string): Promise<Location> {
  const b = await searchset(h, `Location?identifier=${encodeURIComponent(identifier)}`);
  assert.equal(b.entry?.length, 1, `one Location ${identifier}`);
  return b.entry![0].resource as Location;
}
