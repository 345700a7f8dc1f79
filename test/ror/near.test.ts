// near (R4 special parameter, Location.position) and the ROR's near-insee-code, over the demo ROR:
// exact hit sets at known distances from the centre of Paris (Villejuif 7.4 km, Boulogne 8.0 km,
// Saint-Denis 8.9 km, Créteil 11.3 km, Versailles 17.8 km, Évry 26.3 km), units, combination with
// the ROR capacity parameters, chains, _has, paging, index upkeep on update and delete, bad input.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.ts';
import { httpFor, type Http } from '../support/fhir-client.ts';
import type { Bundle, Location } from '@medplum/fhirtypes';
import { linkOf, searchset } from '../support/search-fixtures.ts';
import { hits, lieu, lieux, PARIS, SITE, TRE } from './support.ts';

let server: TestServer;
let h: Http;
const { paris, creteil, villejuif, versailles, boulogne, saintDenis, evry } = SITE;

before(async () => {
  server = await startTestServer({ demo: true });
  h = httpFor(server.fhirUrl);
});
after(() => server?.close());

describe('near on Location', () => {
  it('returns exactly the lieux within the distance, in km by default', async () => {
    assert.deepEqual(await hits(h, `Location?near=${PARIS}|10|km`), lieux(paris, villejuif, boulogne, saintDenis));
    assert.deepEqual(await hits(h, `Location?near=${PARIS}|12`), lieux(paris, villejuif, boulogne, saintDenis, creteil));
    assert.deepEqual(await hits(h, `Location?near=${PARIS}|20|km`), lieux(paris, villejuif, boulogne, saintDenis, creteil, versailles));
    assert.deepEqual(await hits(h, `Location?near=${PARIS}|30|km`), lieux(paris, villejuif, boulogne, saintDenis, creteil, versailles, evry));
  });

  it('converts metres and miles', async () => {
    assert.deepEqual(await hits(h, `Location?near=${PARIS}|11000|m`), lieux(paris, villejuif, boulogne, saintDenis));
    assert.deepEqual(await hits(h, `Location?near=${PARIS}|8|[mi_i]`), lieux(paris, villejuif, boulogne, saintDenis, creteil)); // 12.9 km
  });

  it('resolves near-insee-code to the centre of the commune', async () => {
    assert.deepEqual(await hits(h, 'Location?near-insee-code=75056|10'), lieux(paris, villejuif, boulogne, saintDenis));
    assert.deepEqual(await hits(h, 'Location?near-insee-code=94028|5|km'), lieux(creteil));
    const bad = await h.get('Location?near-insee-code=99999|5');
    assert.equal(bad.status, 400);
    assert.match(bad.body.issue[0].diagnostics, /99999.*commune/);
  });

  it('combines with the ROR capacity parameters', async () => {
    // Disponible capacities of the demo: 0 at Paris-1 and Saint-Denis-1.
    assert.deepEqual(await hits(h, `Location?near=${PARIS}|10&nb-capacity=0`), [`11/${paris}-1`, `11/${saintDenis}-1`]);
    assert.deepEqual(await hits(h, `Location?near=${PARIS}|10&nb-capacity=0&commune-cog=93066`), [`11/${saintDenis}-1`]);
    const status = encodeURIComponent(`${TRE('TRE_R330-TypeStatutCapacite')}|02`);
    assert.equal((await hits(h, `Location?capacity-status=${status}&near=${PARIS}|30`)).length, 14);
    assert.deepEqual(await hits(h, `Location?capacity-update-date=gt2026-01-01`), []);
  });

  it('works in chains and _has', async () => {
    const reanimation = encodeURIComponent(`${TRE('TRE_R211-ActiviteOperationnelle')}|127`);
    assert.equal((await hits(h, `HealthcareService?location.near=${PARIS}|10`)).length, 8);
    assert.equal((await hits(h, `HealthcareService?specialty=${reanimation}&location.near=${PARIS}|10`)).length, 2);
    assert.equal((await hits(h, `HealthcareService?specialty=${reanimation}&location.near=${PARIS}|5`)).length, 1);
    const cardio = encodeURIComponent(`${TRE('TRE_R211-ActiviteOperationnelle')}|013`);
    assert.deepEqual(await hits(h, `Location?_has:HealthcareService:location:specialty=${cardio}&near=${PARIS}|10`), [`11/${paris}-1`, `11/${boulogne}-1`]);
  });

  it('pages exactly', async () => {
    assert.deepEqual(await hits(h, `Location?near=${PARIS}|20&_count=5`), lieux(paris, villejuif, boulogne, saintDenis, creteil, versailles));
  });

  it('follows updates and deletions of positions', async () => {
    const loc = await lieu(h, `11/${evry}-1`);
    const moved = await h.put(`Location/${loc.id}`, { ...loc, position: { latitude: 48.86, longitude: 2.35 } });
    assert.equal(moved.status, 200, moved.text);
    assert.ok((await hits(h, `Location?near=${PARIS}|1`)).includes(`11/${evry}-1`));
    assert.equal((await h.delete(`Location/${loc.id}`)).status, 204);
    assert.ok(!(await hits(h, `Location?near=${PARIS}|30`)).includes(`11/${evry}-1`));
    assert.deepEqual(await hits(h, 'Location?near:missing=true'), []);
  });

  it('refuses malformed values with 400', async () => {
    for (const v of ['abc', '48.85', '91|2|5', `${PARIS}|5|parsec`, `${PARIS}|-3`]) {
      const res = await h.get(`Location?near=${encodeURIComponent(v)}`);
      assert.equal(res.status, 400, `${v}: ${res.text}`);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    }
  });
});

/** The sites of a search's matches in the order served, following next links, with the distance each entry gives. */
async function inOrder(query: string): Promise<{ site: string; km: number | undefined }[]> {
  const out: { site: string; km: number | undefined }[] = [];
  for (let b: Bundle | undefined = await searchset(h, query); b; ) {
    for (const e of b.entry ?? []) {
      if (e.search?.mode !== 'match') continue;
      const distance = e.search.extension?.find((x) => x.url === 'http://hl7.org/fhir/StructureDefinition/location-distance');
      out.push({ site: ((e.resource as Location).identifier![0].value as string).slice(3, -2), km: distance?.valueDistance?.value });
    }
    const next = linkOf(b, 'next');
    b = next ? await searchset(h, next) : undefined;
  }
  return out;
}

const sitesOf = (rows: { site: string }[]) => rows.map((r) => r.site).filter((s, i, all) => all.indexOf(s) === i);

describe('sorting by distance (_sort=near)', () => {
  it('serves the nearest first across pages, each entry with its distance (location-distance)', async () => {
    const rows = await inOrder(`Location?near=${PARIS}|20&_sort=near&_count=3`);
    assert.deepEqual(sitesOf(rows), [paris, villejuif, boulogne, saintDenis, creteil, versailles]);
    assert.equal(rows.length, 12);
    assert.ok(rows.every((r, i) => r.km !== undefined && (i === 0 || r.km >= rows[i - 1].km!)), JSON.stringify(rows));
    assert.ok(Math.abs(rows.find((r) => r.site === villejuif)!.km! - 7.4) < 0.2);
  });

  it('sorts farthest first with -near, and from the centre of a commune with near-insee-code', async () => {
    assert.deepEqual(sitesOf(await inOrder(`Location?near=${PARIS}|20&_sort=-near`)), [versailles, creteil, saintDenis, boulogne, villejuif, paris]);
    assert.deepEqual(sitesOf(await inOrder('Location?near-insee-code=75056|20&_sort=near-insee-code&_count=4')), [paris, villejuif, boulogne, saintDenis, creteil, versailles]);
  });

  it('ignores the sort with a warning when the query gives no point', async () => {
    const b = await searchset(h, 'Location?_sort=near&_count=1');
    const outcome = b.entry?.find((e) => e.search?.mode === 'outcome')?.resource as { issue: { diagnostics: string }[] } | undefined;
    assert.match(outcome?.issue[0].diagnostics ?? '', /Cannot sort by "near".*point/);
  });
});
