// The reference vendor server (socle sas vendor-sim): the guide's search shapes over HTTP, V1 accounts, faults, mTLS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { Client } from 'fhir-kit-client';
import { fhirClient } from '../support/fhir-client.ts';
import { startVendorSim, type VendorSim } from '../../src/services/sas/editeur/index.ts';
import { dateSas } from '../../src/services/sas/editeur/temps.ts';
import { ouvrirPki } from '../../src/pki/pki.ts';

const IDNPS = 'urn:oid:1.2.250.1.71.4.2.1';
const IDNST = 'urn:oid:1.2.250.1.71.4.2.2';
const FORMAT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$/;
// A fixed "now" (a Tuesday morning in Paris) keeps the agendas deterministic.
const NOW = new Date('2026-03-10T07:30:00.000Z');
const FIN = new Date(NOW.getTime() + 72 * 3_600_000);

const types = (b: any) => (b.entry ?? []).map((e: any) => e.resource.resourceType);
const deType = (b: any, t: string) => (b.entry ?? []).map((e: any) => e.resource).filter((r: any) => r.resourceType === t);
const acteurs = (sim: VendorSim, n: number[]) => n.map((i) => `${IDNPS}|8${sim.praticiens[i].rpps}`).join(',');

function slotParams(sim: VendorSim, n: number[], cpts = false): [string, string][] {
  return [
    ['_include', 'Slot:schedule'], ['_include:iterate', 'Schedule:actor'],
    ...(cpts ? [['_include', 'Slot:service-type-reference'], ['_include:iterate', 'HealthcareService:organization']] as [string, string][] : []),
    ['start', `ge${dateSas(NOW)}`], ['start', `le${dateSas(FIN)}`],
    ['schedule.actor:Practitioner.identifier', acteurs(sim, n)], ['status', 'free'], ['_count', '1000'],
  ];
}
const query = (p: [string, string][]) => new URLSearchParams(p).toString();
/** Search parameters as fhir-kit-client takes them: repeated names as arrays. */
function enObjet(p: [string, string][]): Record<string, string | string[]> {
  const o: Record<string, string[]> = {};
  for (const [k, v] of p) (o[k] ??= []).push(v);
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.length > 1 ? v : v[0]]));
}

describe('vendor simulator: search shapes', () => {
  let sim: VendorSim;
  let client: Client;
  before(async () => {
    sim = await startVendorSim({ seed: 'test', praticiens: 6, now: () => NOW });
    client = fhirClient(sim.url);
  });
  after(() => sim?.close());

  test('INT_R01 through a FHIR client: slots with their schedule, practitioner and role, every resource profiled', async () => {
    const b: any = await client.search({ resourceType: 'Slot', searchParams: enObjet(slotParams(sim, [0, 1])) });
    assert.equal(b.resourceType, 'Bundle');
    assert.equal(b.type, 'searchset');
    assert.deepEqual(b.meta.profile, ['http://sas.fr/fhir/StructureDefinition/BundleAgregateur']);
    const slots = deType(b, 'Slot');
    assert.ok(slots.length > 0);
    assert.equal(b.total, slots.length);
    for (const t of ['Schedule', 'Practitioner', 'PractitionerRole']) assert.ok(types(b).includes(t), `${t} included`);
    for (const e of b.entry) {
      assert.ok(e.resource.meta?.profile?.length, `${e.resource.resourceType}/${e.resource.id} has meta.profile`);
      assert.equal(e.fullUrl, `${sim.url}/${e.resource.resourceType}/${e.resource.id}`);
      assert.equal(e.search.mode, e.resource.resourceType === 'Slot' ? 'match' : 'include');
    }
    for (const s of slots) {
      assert.match(s.start, FORMAT);
      assert.match(s.end, FORMAT);
      assert.ok(Date.parse(s.start) >= NOW.getTime() && Date.parse(s.start) <= FIN.getTime());
      assert.equal(s.status, 'free');
      assert.ok(s.meta.security.every((c: any) => ['PUBLIC', 'PRO', 'SNP'].includes(c.code)), 'no CPTS type in the INT_R01 shape');
      assert.ok(s.serviceType.some((st: any) => ['AMB', 'HH', 'VR'].includes(st.coding?.[0]?.code)));
      assert.match(s.comment, new RegExp(`^${sim.url}/reservation\\?slot=`));
    }
    const ids = deType(b, 'Practitioner').map((p: any) => p.identifier[0].value).sort();
    assert.deepEqual(ids, [`8${sim.praticiens[0].rpps}`, `8${sim.praticiens[1].rpps}`].sort());
    // Practitioner 1 practises in two places: one role and one schedule per place, the location contained.
    const roles = deType(b, 'PractitionerRole').filter((r: any) => r.practitioner.reference.endsWith(sim.praticiens[1].rpps));
    assert.equal(roles.length, 2);
    for (const r of roles) assert.equal(r.location[0].reference, `#${r.contained[0].id}`);
  });

  test('self link is the request URL, with + in offsets left unencoded or encoded', async () => {
    for (const q of [query(slotParams(sim, [2])), query(slotParams(sim, [2])).replace(/%2B/g, '+')]) {
      const res = await fetch(`${sim.url}/Slot?${q}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^application\/fhir\+json/);
      const b = await res.json();
      assert.equal(b.link[0].relation, 'self');
      assert.equal(b.link[0].url, `${sim.url}/Slot?${q}`);
      assert.ok(b.total > 0);
    }
  });

  test('agendas are deterministic for a seed and relative to now', async () => {
    const autre = await startVendorSim({ seed: 'test', praticiens: 6, now: () => NOW });
    try {
      const q = query(slotParams(sim, [3]));
      const a = await (await fetch(`${sim.url}/Slot?${q}`)).json();
      const b = await (await fetch(`${autre.url}/Slot?${q}`)).json();
      assert.deepEqual(deType(a, 'Slot').map((s: any) => [s.id, s.start]), deType(b, 'Slot').map((s: any) => [s.id, s.start]));
    } finally {
      await autre.close();
    }
  });

  test('slot dates carry the Paris offset of their own day across the change to summer time', async () => {
    const veille = new Date('2026-03-28T06:00:00.000Z');
    const ete = await startVendorSim({ seed: 'test', praticiens: 6, now: () => veille });
    try {
      const p = slotParams(ete, [0, 1, 2, 3, 4, 5]).map(([k, v]): [string, string] =>
        [k, k === 'start' ? `${v.slice(0, 2)}${dateSas(v.startsWith('ge') ? veille : new Date(veille.getTime() + 72 * 3_600_000))}` : v]);
      const slots = deType(await (await fetch(`${ete.url}/Slot?${query(p)}`)).json(), 'Slot');
      const offsets = new Map(slots.map((s: any) => [s.start.slice(0, 10), s.start.slice(23)]));
      assert.equal(offsets.get('2026-03-28'), '+01:00');
      assert.equal(offsets.get('2026-03-30'), '+02:00');
      for (const s of slots) assert.equal(Date.parse(s.end) - Date.parse(s.start), 20 * 60_000, `${s.start} → ${s.end}`);
    } finally {
      await ete.close();
    }
  });

  test('INT_R04: CPTS slots carry the CPTS type and reference the CPTS HealthcareService and Organization', async () => {
    const b = await (await fetch(`${sim.url}/Slot?${query(slotParams(sim, [0, 1, 2, 3, 4, 5], true))}`)).json();
    assert.deepEqual(b.meta.profile, ['https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator']);
    const cpts = deType(b, 'Slot').filter((s: any) => s.meta.security.some((c: any) => c.code === 'CPTS'));
    assert.ok(cpts.length > 0);
    const services = new Set(deType(b, 'HealthcareService').map((h: any) => `HealthcareService/${h.id}`));
    const orgs = new Set(deType(b, 'Organization').map((o: any) => `Organization/${o.id}`));
    for (const s of cpts) {
      const refs = s.serviceType.flatMap((st: any) => (st.extension ?? []).map((e: any) => e.valueReference.reference));
      assert.ok(refs.length > 0 && refs.every((r: string) => services.has(r)));
    }
    for (const h of deType(b, 'HealthcareService')) assert.ok(orgs.has(h.providedBy.reference));
    for (const o of deType(b, 'Organization')) assert.match(o.identifier[0].value, /^1\d{9}$/);
  });

  test('SOS Médecins: Schedule search by SIRET returns fixed places, association and slots; total counts slots', async () => {
    const p = new URLSearchParams([
      ['_revinclude', 'Slot:schedule'], ['_include', 'Schedule:actor:Location'], ['_include:iterate', 'Location:organization'],
      ['_has:Slot:schedule:start', `ge${dateSas(NOW)}`], ['_has:Slot:schedule:start', `le${dateSas(FIN)}`], ['_has:Slot:schedule:status', 'free'],
      ['actor:Location.organization.identifier', `${IDNST}|3${sim.sos[0].siret}`],
    ]);
    const b = await (await fetch(`${sim.url}/Schedule?${p}`)).json();
    assert.equal(b.total, deType(b, 'Slot').length);
    assert.equal(deType(b, 'Schedule').length, 2);
    assert.equal(deType(b, 'Organization')[0].identifier[0].value, `3${sim.sos[0].siret}`);
    for (const s of deType(b, 'Slot')) assert.ok(s.meta.security.every((c: any) => ['PUBLIC', 'SNP'].includes(c.code)));
  });

  test('unknown practitioner: 200 with an empty Bundle; bad searches: 400 OperationOutcome', async () => {
    const vide = await (await fetch(`${sim.url}/Slot?${query(slotParams(sim, [0]).map(([k, v]) => [k, k.startsWith('schedule') ? `${IDNPS}|800000000000` : v]))}`)).json();
    assert.equal(vide.total, 0);
    assert.equal(vide.entry.length, 0);
    const trop = Array.from({ length: 26 }, (_, i) => `${IDNPS}|8${10000000000 + i}`).join(',');
    const cas: [string, RegExp][] = [
      [query(slotParams(sim, [0]).map(([k, v]) => [k, k.startsWith('schedule') ? trop : v])), /at most 25/],
      [query(slotParams(sim, [0]).filter(([k]) => k !== 'start')), /start/],
      [query(slotParams(sim, [0]).filter(([k]) => !k.startsWith('schedule'))), /schedule\.actor:Practitioner\.identifier is required/],
      [query(slotParams(sim, [0]).map(([k, v]) => [k, k === 'start' ? 'ge-hier' : v])), /not a date/],
    ];
    for (const [q, raison] of cas) {
      const res = await fetch(`${sim.url}/Slot?${q}`);
      assert.equal(res.status, 400);
      const oo = await res.json();
      assert.equal(oo.resourceType, 'OperationOutcome');
      assert.match(oo.issue[0].diagnostics, raison);
    }
  });

  test('metadata and reads by id', async () => {
    const cs: any = await client.capabilityStatement();
    assert.equal(cs.resourceType, 'CapabilityStatement');
    assert.ok(cs.instantiates.includes('https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireAgenda-PsIndiv'));
    const p: any = await client.read({ resourceType: 'Practitioner', id: `ps-${sim.praticiens[0].rpps}` });
    assert.equal(p.identifier[0].value, `8${sim.praticiens[0].rpps}`);
    await assert.rejects(client.read({ resourceType: 'Slot', id: 'inconnu' }), (e: any) => e.response?.status === 404);
  });
});

describe('vendor simulator: V1 regulator accounts', () => {
  let sim: VendorSim;
  before(async () => { sim = await startVendorSim({ praticiens: 1 }); });
  after(() => sim?.close());
  const compte = (system: string, value: string, extra: Record<string, unknown> = {}) => ({
    resourceType: 'Practitioner', id: 'ignored', meta: { source: 'urn:oid:1.2.250.1.213.3.6' },
    identifier: [{ type: { coding: [{ system: 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203', code: system === IDNPS ? 'IDNPS' : 'INTRN' }] }, system, value }],
    active: true, name: [{ family: 'Martin', given: ['Claire'] }], telecom: [{ system: 'email', value: 'claire.martin@samu.fr' }], ...extra,
  });
  const envoyer = (methode: string, chemin: string, corps: unknown) =>
    fetch(`${sim.url}${chemin}`, { method: methode, headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(corps) });

  test('create, duplicate, conditional update, deactivation and put-as-create', async () => {
    const cree = await envoyer('POST', '/Practitioner', compte(IDNPS, '3456780581/11242343'));
    assert.equal(cree.status, 201);
    const r = await cree.json();
    assert.notEqual(r.id, 'ignored');
    assert.equal(cree.headers.get('location'), `${sim.url}/Practitioner/${r.id}/_history/1`);
    const doublon = await envoyer('POST', '/Practitioner', compte(IDNPS, '3456780581/11242343'));
    assert.equal(doublon.status, 409);
    const cible = `/Practitioner?identifier=${encodeURIComponent(`${IDNPS}|3456780581/11242343`)}`;
    const desactive = await envoyer('PUT', cible, compte(IDNPS, '3456780581/11242343', { active: false }));
    assert.equal(desactive.status, 200);
    assert.equal((await desactive.json()).active, false);
    const lu = await (await fetch(`${sim.url}/Practitioner/${r.id}`)).json();
    assert.equal(lu.active, false);
    assert.equal(lu.meta.versionId, '2');
    const nouveau = await envoyer('PUT', `/Practitioner?identifier=${encodeURIComponent('urn:oid:1.2.250.1.213.3.6|b6e39355-8a61-4556-b340-36f7b95fec6a')}`,
      compte('urn:oid:1.2.250.1.213.3.6', 'b6e39355-8a61-4556-b340-36f7b95fec6a'));
    assert.equal(nouveau.status, 201);
  });

  test('invalid accounts are refused with the element at fault', async () => {
    const cas: [Record<string, unknown>, string][] = [
      [compte(IDNPS, '3111', { name: [{ family: '', given: ['Claire'] }] }), 'Practitioner.name[0].family'],
      [compte(IDNPS, '3112', { telecom: [{ system: 'phone', value: '+33102030405' }] }), 'Practitioner.telecom[0].system'],
      [compte(IDNPS, '3113', { active: undefined }), 'Practitioner.active'],
      [{ ...compte(IDNPS, '3114'), identifier: [{ type: { coding: [{ system: 'http://interopsante.org/fhir/CodeSystem/fr-v2-0203', code: 'INTRN' }] }, system: IDNPS, value: '3114' }] }, 'Practitioner.identifier[0].type.coding[0].code'],
    ];
    for (const [corps, element] of cas) {
      const res = await envoyer('POST', '/Practitioner', corps);
      assert.equal(res.status, 422);
      const oo = await res.json();
      assert.ok(oo.issue.some((i: any) => i.expression[0] === element), `${element} in ${JSON.stringify(oo.issue)}`);
    }
    const pasFhir = await fetch(`${sim.url}/Practitioner`, { method: 'POST', body: '{pas du json' });
    assert.equal(pasFhir.status, 400);
  });
});

describe('vendor simulator: faults', () => {
  test('http-500 answers an OperationOutcome; invalid breaks profiles, dates and total; hang never answers', async () => {
    const erreur = await startVendorSim({ fault: 'http-500', praticiens: 1 });
    const invalide = await startVendorSim({ fault: 'invalid', praticiens: 2, now: () => NOW });
    const bloque = await startVendorSim({ fault: 'hang', praticiens: 1 });
    try {
      const r500 = await fetch(`${erreur.url}/Slot?${query(slotParams(erreur, [0]))}`);
      assert.equal(r500.status, 500);
      assert.equal((await r500.json()).resourceType, 'OperationOutcome');
      const b = await (await fetch(`${invalide.url}/Slot?${query(slotParams(invalide, [0, 1]))}`)).json();
      const slots = deType(b, 'Slot');
      assert.equal(b.total, slots.length + 1);
      assert.ok(slots.some((s: any) => !s.meta.profile && s.end === undefined));
      assert.ok(slots.every((s: any) => !FORMAT.test(s.start)));
      await assert.rejects(fetch(`${bloque.url}/metadata`, { signal: AbortSignal.timeout(300) }), /abort|timeout/i);
    } finally {
      await Promise.all([erreur.close(), invalide.close(), bloque.close()]);
    }
  });
});

describe('vendor simulator: HTTPS with mutual TLS', () => {
  test('answers with a client certificate of the authority and refuses a client without one', async () => {
    const pki = await ouvrirPki();
    const serveur = await pki.emettreServeur(['localhost', '127.0.0.1']);
    const client = await pki.emettreOrganisation('SAS', { identifiant: '3' + '1'.repeat(14), nom: 'PLATEFORME SAS' });
    const sim = await startVendorSim({ praticiens: 1, tls: { ...serveur, ca: pki.ca } });
    const get = (options: https.RequestOptions) => new Promise<number>((resolve, reject) => {
      https.get(`${sim.url}/metadata`, { ca: pki.ca, agent: false, ...options }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject);
    });
    try {
      assert.match(sim.url, /^https:/);
      assert.equal(await get({ cert: client.cert, key: client.key }), 200);
      await assert.rejects(get({}));
    } finally {
      await sim.close();
    }
  });
});
