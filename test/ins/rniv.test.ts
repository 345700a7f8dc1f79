// Identity-vigilance (RNIV) on local Patients: every allowed transition with its AuditEvent, every
// forbidden one refused with its reason and without any write, the guard against plain updates, and
// the INS withheld from every representation of a non-qualified identity.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent, Bundle, OperationOutcome, Parameters, Patient } from '@medplum/fhirtypes';
import type { Certificat } from '../../src/pki/pki.ts';
import type { IdentiteSynthetique } from '../../src/referentiels/ins/population.ts';
import { SYSTEME_TRANSITIONS } from '../../src/referentiels/ins/rniv/operations.ts';
import { demarrerPlateformeIns, https, populationDemo, sortie, type PlateformeIns, type Reponse } from './support.ts';

let p: PlateformeIns;
let population: IdentiteSynthetique[];
let suivante = 10;
const INS_TEST = 'urn:oid:1.2.250.1.213.1.4.10';
const SUJET_AUTO = 'CN=INSI-AUTO, OU=1750712184, O=Hôpital Saint-Antoine, ST=Paris (75), C=FR';

before(async () => {
  p = await demarrerPlateformeIns();
  population = populationDemo().filter((i) => !i.homonymeDe);
});
after(() => p?.close());

/** FHIR over mutual TLS with the INSI-AUTO certificate, or over plain HTTP with `certificat` null. */
async function fhir(chemin: string, corps?: unknown, certificat: Certificat | null = p.auto, method?: string): Promise<Reponse> {
  if (certificat) return https(`${p.urlTls}/fhir/${chemin}`, { corps, method, certificat, ca: p.pki.ca });
  const r = await fetch(`${p.serveur.fhirUrl}/${chemin}`, {
    method: method ?? (corps === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': method === 'PATCH' ? 'application/json-patch+json' : 'application/fhir+json' },
    body: corps === undefined ? undefined : JSON.stringify(corps),
  });
  const texte = await r.text();
  return { status: r.status, contentType: r.headers.get('content-type') ?? '', texte, corps: texte ? JSON.parse(texte) : undefined };
}

/** A local identity typed at the desk from a reference identity: lower case, accents, no status. */
async function creer(i = population[suivante++]!, autres: Partial<Patient> = {}): Promise<{ id: string; i: IdentiteSynthetique }> {
  const nom = i.nomNaissance[0] + i.nomNaissance.slice(1).toLowerCase().replace('e', 'é');
  const patient: Patient = { resourceType: 'Patient', name: [{ use: 'official', family: nom, given: i.prenoms.map((x) => x.toLowerCase()) }], gender: i.sexe === 'M' ? 'male' : 'female', birthDate: i.dateNaissance, ...autres };
  const r = await fhir('Patient', patient, null);
  assert.equal(r.status, 201, r.texte);
  return { id: r.corps.id, i };
}

const params = (valeurs: Record<string, string> = {}): Parameters => ({
  resourceType: 'Parameters',
  parameter: Object.entries(valeurs).map(([name, v]) => (name === 'piece' || name === 'attribut' ? { name, valueCode: v } : { name, valueString: v })),
});

async function transition(id: string, nom: string, valeurs: Record<string, string> = {}, certificat: Certificat | null = p.auto): Promise<Parameters> {
  const r = await fhir(`Patient/${id}/$${nom}`, params(valeurs), certificat);
  assert.equal(r.status, 200, `${nom}: ${r.texte}`);
  return r.corps;
}

/** The stored Patient, INS included, as the platform itself sees it. */
const stocke = async (id: string) => JSON.parse((await p.serveur.platform.fhir.read('Patient', id)).json) as Patient & { meta: { versionId: string } };
const statut = (x: Patient) => x.extension?.[0]?.extension?.find((e) => e.url === 'identityStatus')?.valueCoding?.code;
const ins = (x: Patient) => {
  const liste = x.identifier?.filter((i) => i.system?.startsWith('urn:oid:1.2.250.1.213.1.4.'));
  return liste?.length ? liste : undefined;
};

async function audits(id: string): Promise<AuditEvent[]> {
  const r = await fhir(`AuditEvent?entity=Patient/${id}&_count=200`, undefined, null);
  assert.equal(r.status, 200, r.texte);
  return ((r.corps as Bundle).entry ?? [])
    .map((e) => e.resource as AuditEvent)
    .filter((a) => a.subtype?.[0]?.system === SYSTEME_TRANSITIONS)
    .sort((a, b) => a.recorded.localeCompare(b.recorded));
}

const detail = (a: AuditEvent, type: string) => a.entity?.[0]?.detail?.find((d) => d.type === type)?.valueString;

function verifierAudit(a: AuditEvent, id: string, attendu: { transition: string; avant: string; apres: string; motif?: string | RegExp; qui?: string }): void {
  assert.equal(a.subtype?.[0]?.code, attendu.transition);
  assert.equal(a.action, 'U');
  assert.equal(a.outcome, '0');
  assert.equal(a.entity?.[0]?.what?.reference, `Patient/${id}`);
  assert.equal(detail(a, 'statutAvant'), attendu.avant);
  assert.equal(detail(a, 'statutApres'), attendu.apres);
  if (typeof attendu.motif === 'string') assert.ok(a.outcomeDesc?.includes(attendu.motif), `motif « ${a.outcomeDesc} »`);
  else if (attendu.motif) assert.match(a.outcomeDesc!, attendu.motif);
  assert.equal(a.agent[0]!.who?.display, attendu.qui ?? SUJET_AUTO);
  assert.ok(Date.now() - Date.parse(a.recorded) < 120_000, 'recorded now');
}

describe('allowed transitions', () => {
  test('provisoire → récupérée (INSi) → qualifiée (pièce): INSi traits replace the typed ones, the INS shows once qualified', async () => {
    const { id, i } = await creer();
    const recup = await transition(id, 'identite-recuperer-ins');
    assert.equal(sortie(recup, 'statut')!.valueCode, 'RECUP');
    assert.equal(sortie(recup, 'code')!.valueCode, '00');
    const servi = sortie(recup, 'patient')!.resource as Patient;
    assert.equal(ins(servi), undefined, 'a retrieved identity is served without its INS');
    const s = await stocke(id);
    assert.deepEqual(ins(s)!.map((x) => [x.system, x.value, x.use, x.type?.coding?.[0]?.code]), [[INS_TEST, i.nir, 'official', 'INS-NIR-TEST']]);
    assert.equal(s.name![0]!.family, i.nomNaissance);
    assert.deepEqual(s.name![0]!.given, [i.prenoms[0]]);
    assert.equal(statut(s), 'RECUP');

    const qual = await transition(id, 'identite-valider', { piece: 'CN', motif: "Carte nationale d'identité présentée à l'accueil" }, null);
    assert.equal(sortie(qual, 'statut')!.valueCode, 'QUAL');
    const lu = (await fhir(`Patient/${id}`, undefined, null)).corps as Patient;
    assert.equal(statut(lu), 'QUAL');
    assert.equal(ins(lu)![0]!.value, i.nir);

    const [a1, a2] = await audits(id);
    verifierAudit(a1!, id, { transition: 'identite-recuperer-ins', avant: 'PROV', apres: 'RECUP', motif: 'Récupération INSi (code 00) par un certificat INSI-AUTO' });
    assert.equal(detail(a1!, 'codeCR'), '00');
    verifierAudit(a2!, id, { transition: 'identite-valider', avant: 'RECUP', apres: 'QUAL', motif: "Carte nationale d'identité présentée", qui: 'anonymous' });
    assert.equal(sortie(qual, 'audit')!.valueReference!.reference, `AuditEvent/${a2!.id}`);
  });

  test('provisoire → validée (pièce) → qualifiée (INSi)', async () => {
    const { id } = await creer();
    assert.equal(sortie(await transition(id, 'identite-valider', { piece: 'PA', dateValidation: '2026-01-15' }), 'statut')!.valueCode, 'VALI');
    assert.equal(sortie(await transition(id, 'identite-recuperer-ins'), 'statut')!.valueCode, 'QUAL');
    const s = await stocke(id);
    const sous = s.extension![0]!.extension!;
    assert.deepEqual(sous.find((e) => e.url === 'validationMode')?.valueCoding?.code, 'PA');
    assert.equal(sous.find((e) => e.url === 'validationDate')?.valueDate, '2026-01-15');
    assert.equal(sous.find((e) => e.url === 'methodCollection')?.valueCoding?.code, 'INSI');
    const [a1, a2] = await audits(id);
    verifierAudit(a1!, id, { transition: 'identite-valider', avant: 'PROV', apres: 'VALI', motif: "Pièce d'identité contrôlée : PA" });
    verifierAudit(a2!, id, { transition: 'identite-recuperer-ins', avant: 'VALI', apres: 'QUAL' });
  });

  test('doubt sends a qualified identity back to provisoire without its INS; lifted, it can be retrieved again', async () => {
    const { id } = await creer();
    await transition(id, 'identite-recuperer-ins');
    await transition(id, 'identite-valider', { piece: 'CN' });
    const d = await transition(id, 'identite-douteuse', { motif: 'Incohérence entre la photo et le patient' }, null);
    assert.equal(sortie(d, 'statut')!.valueCode, 'PROV');
    const s = await stocke(id);
    assert.equal(ins(s), undefined);
    assert.deepEqual(s.extension![0]!.extension!.filter((e) => e.url === 'comment').map((e) => e.valueCodeableConcept?.coding?.[0]?.code), ['DOUT']);
    await transition(id, 'identite-lever-attribut', { attribut: 'DOUT', motif: 'Identité confirmée par la famille' });
    assert.equal(sortie(await transition(id, 'identite-recuperer-ins'), 'statut')!.valueCode, 'RECUP');
    const liste = await audits(id);
    assert.deepEqual(liste.map((a) => [a.subtype![0]!.code, detail(a, 'statutAvant'), detail(a, 'statutApres')]), [
      ['identite-recuperer-ins', 'PROV', 'RECUP'],
      ['identite-valider', 'RECUP', 'QUAL'],
      ['identite-douteuse', 'QUAL', 'PROV'],
      ['identite-lever-attribut', 'PROV', 'PROV'],
      ['identite-recuperer-ins', 'PROV', 'RECUP'],
    ]);
    verifierAudit(liste[2]!, id, { transition: 'identite-douteuse', avant: 'QUAL', apres: 'PROV', motif: 'Incohérence entre la photo', qui: 'anonymous' });
    assert.equal(detail(liste[2]!, 'attributs'), 'DOUT');
  });

  test('fictitious identity: provisoire with FICT, then lifted', async () => {
    const { id } = await creer();
    await transition(id, 'identite-fictive', { motif: 'Patient admis sous X' });
    await transition(id, 'identite-lever-attribut', { attribut: 'FICT', motif: 'Identité réelle déclarée' });
    const liste = await audits(id);
    verifierAudit(liste[0]!, id, { transition: 'identite-fictive', avant: 'PROV', apres: 'PROV', motif: 'Patient admis sous X' });
    verifierAudit(liste[1]!, id, { transition: 'identite-lever-attribut', avant: 'PROV', apres: 'PROV', motif: 'Identité réelle déclarée' });
  });

  test('vérification: confirmed, the status stays; no longer confirmed by INSi, a qualified identity falls to validée and loses its INS', async () => {
    const { id, i } = await creer();
    await transition(id, 'identite-recuperer-ins');
    await transition(id, 'identite-valider', { piece: 'CN' });
    const ok = await transition(id, 'identite-verifier-ins');
    assert.equal(sortie(ok, 'statut')!.valueCode, 'QUAL');
    assert.equal(sortie(ok, 'code')!.valueCode, '00');
    // The national register changed the birth name: the stored INS no longer goes with the local traits.
    await p.serveur.platform.db.query("UPDATE ins_reference_identity SET nom_naissance = 'AUTRE', nom_naissance_norm = 'AUTRE' WHERE nir = $1", [i.nir]);
    const ko = await transition(id, 'identite-verifier-ins');
    assert.equal(sortie(ko, 'statut')!.valueCode, 'VALI');
    assert.equal(sortie(ko, 'code')!.valueCode, '01');
    assert.equal(ins(await stocke(id)), undefined);
    const liste = await audits(id);
    verifierAudit(liste[2]!, id, { transition: 'identite-verifier-ins', avant: 'QUAL', apres: 'QUAL', motif: 'Vérification INSi : OK (code 00)' });
    verifierAudit(liste[3]!, id, { transition: 'identite-verifier-ins', avant: 'QUAL', apres: 'VALI', motif: 'Vérification INSi : Aucune identite trouvee (code 01)' });
  });
});

describe('forbidden transitions: refused with the reason, nothing written', () => {
  async function refusee(id: string, nom: string, valeurs: Record<string, string>, status: number, raison: RegExp, certificat: Certificat | null = p.auto): Promise<void> {
    const avant = await stocke(id);
    const nAudits = (await audits(id)).length;
    const r = await fhir(`Patient/${id}/$${nom}`, params(valeurs), certificat);
    assert.equal(r.status, status, `${nom}: ${r.texte}`);
    assert.equal((r.corps as OperationOutcome).resourceType, 'OperationOutcome');
    assert.match((r.corps as OperationOutcome).issue[0]!.diagnostics!, raison);
    assert.deepEqual(await stocke(id), avant, `${nom} changed the Patient`);
    assert.equal((await audits(id)).length, nAudits, `${nom} wrote an AuditEvent`);
  }

  test('from provisoire', async () => {
    const { id } = await creer();
    await refusee(id, 'identite-verifier-ins', {}, 409, /provisoire \(PROV\) : elle n'a pas d'INS récupéré à vérifier/);
    await refusee(id, 'identite-valider', { piece: 'PC' }, 422, /Pièce « PC » inconnue : un dispositif d'identification à haut niveau de confiance est attendu/);
    await refusee(id, 'identite-valider', {}, 400, /"piece" est obligatoire/);
    await refusee(id, 'identite-lever-attribut', { attribut: 'DOUT', motif: 'x' }, 409, /ne porte pas l'attribut identité douteuse/);
    await refusee(id, 'identite-douteuse', {}, 400, /"motif" is required/);
    await refusee(id, 'identite-recuperer-ins', {}, 401, /exige un certificat INSI-AUTO ou INSI-MANU/, null);
  });

  test('INSi finds no identity, or several: the identity stays provisoire', async () => {
    const { id } = await creer(population[suivante++], { birthDate: '1901-02-03' });
    await refusee(id, 'identite-recuperer-ins', {}, 422, /INSi : Aucune identite trouvee \(code 01\) : l'identité reste PROV/);
    const h = populationDemo().find((x) => x.homonymeDe)!;
    const { id: id2 } = await creer(h, { name: [{ use: 'official', family: h.nomNaissance, given: [h.prenoms[0]!] }] });
    await refusee(id2, 'identite-recuperer-ins', {}, 422, /Plusieurs identites trouvees \(code 02\)/);
  });

  test('already retrieved, validated or qualified', async () => {
    const { id } = await creer();
    await transition(id, 'identite-recuperer-ins');
    await refusee(id, 'identite-recuperer-ins', {}, 409, /déjà identité récupérée \(RECUP\) : son INS se vérifie/);
    await transition(id, 'identite-valider', { piece: 'CN' });
    await refusee(id, 'identite-valider', { piece: 'PA' }, 409, /déjà identité qualifiée \(QUAL\) : sa pièce d'identité a été contrôlée le/);
    await refusee(id, 'identite-recuperer-ins', {}, 409, /déjà identité qualifiée/);
    const { id: vali } = await creer();
    await transition(vali, 'identite-valider', { piece: 'CS' });
    await refusee(vali, 'identite-valider', { piece: 'CN' }, 409, /déjà identité validée \(VALI\)/);
  });

  test('doubtful or fictitious: no INSi, no validation, no second attribute', async () => {
    const { id } = await creer();
    await transition(id, 'identite-douteuse', { motif: 'Doute' });
    await refusee(id, 'identite-recuperer-ins', {}, 409, /Identité douteuse \(attribut DOUT\) : le téléservice INSi ne doit pas être appelé pour cette identité \(RNIV, EXI SI 09\)/);
    await refusee(id, 'identite-valider', { piece: 'CN' }, 409, /Identité douteuse \(attribut DOUT\) : l'identité reste provisoire tant que l'attribut n'est pas levé/);
    await refusee(id, 'identite-douteuse', { motif: 'encore' }, 409, /porte déjà l'attribut identité douteuse/);
    await refusee(id, 'identite-fictive', { motif: 'x' }, 409, /ne se cumulent pas : l'identité porte déjà DOUT/);
    const { id: fictive } = await creer();
    await transition(fictive, 'identite-fictive', { motif: 'Sous X' });
    await refusee(fictive, 'identite-recuperer-ins', {}, 409, /Identité fictive \(attribut FICT\)/);
    await refusee(fictive, 'identite-douteuse', { motif: 'x' }, 409, /ne se cumulent pas : l'identité porte déjà FICT/);
    await refusee(fictive, 'identite-lever-attribut', { attribut: 'XX', motif: 'x' }, 400, /"attribut" vaut DOUT .* ou FICT/);
  });
});

describe('plain writes cannot move the RNIV state', () => {
  test('a Patient is created provisional only', async () => {
    const i = population[suivante++]!;
    const qualifie: Patient = {
      resourceType: 'Patient',
      extension: [{ url: 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability', extension: [{ url: 'identityStatus', valueCoding: { system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status', code: 'QUAL' } }] }],
      identifier: [{ system: INS_TEST, value: i.nir }],
      name: [{ family: i.nomNaissance }],
    };
    const r = await fhir('Patient', qualifie, null);
    assert.equal(r.status, 422, r.texte);
    assert.match(r.texte, /Le statut d'identité QUAL ne change que par les opérations RNIV/);
  });

  test('status, INS and INSi traits of a retrieved or qualified identity: 409; PATCH edits the rest and keeps the INS', async () => {
    const { id, i } = await creer();
    await transition(id, 'identite-recuperer-ins');
    const lu = (await fhir(`Patient/${id}`, undefined, null)).corps as Patient;
    // Served without its INS: sending it back as read would drop the INS.
    const put = await fhir(`Patient/${id}`, lu, null, 'PUT');
    assert.equal(put.status, 409, put.texte);
    assert.match(put.texte, /utilisez PATCH/);
    const patch = await fhir(`Patient/${id}`, [{ op: 'add', path: '/telecom', value: [{ system: 'phone', value: '0102030405' }] }], null, 'PATCH');
    assert.equal(patch.status, 200, patch.texte);
    assert.equal(ins(await stocke(id))![0]!.value, i.nir);

    await transition(id, 'identite-valider', { piece: 'CN' });
    const qual = (await fhir(`Patient/${id}`, undefined, null)).corps as Patient;
    assert.equal((await fhir(`Patient/${id}`, { ...qual, active: true }, null, 'PUT')).status, 200);
    const traits = await fhir(`Patient/${id}`, { ...qual, birthDate: '1970-01-01' }, null, 'PUT');
    assert.equal(traits.status, 409, traits.texte);
    assert.match(traits.texte, /traits INS .* viennent de l'INSi/);
    const { extension: _statut, ...downgrade } = qual;
    const statutChange = await fhir(`Patient/${id}`, downgrade, null, 'PUT');
    assert.equal(statutChange.status, 409, statutChange.texte);
    assert.match(statutChange.texte, /actuellement QUAL\) ne change que par les opérations RNIV/);
  });
});

describe('the INS leaves the platform only with a qualified identity', () => {
  test('read, search, search by INS, _include and history hide it; a qualified identity shows it', async () => {
    const { id, i } = await creer(population[suivante++], { identifier: [{ system: 'urn:socle:ipp', value: 'IPP-1' }] });
    await transition(id, 'identite-recuperer-ins');
    const obs = await fhir('Observation', { resourceType: 'Observation', status: 'final', code: { text: 'poids' }, subject: { reference: `Patient/${id}` } }, null);
    assert.equal(obs.status, 201, obs.texte);

    const vues: [string, (r: Reponse) => Patient[]][] = [
      [`Patient/${id}`, (r) => [r.corps]],
      [`Patient?_id=${id}`, (r) => r.corps.entry.map((e: { resource: Patient }) => e.resource)],
      [`Patient?identifier=${encodeURIComponent(`${INS_TEST}|${i.nir}`)}`, (r) => r.corps.entry.map((e: { resource: Patient }) => e.resource)],
      [`Observation?_id=${obs.corps.id}&_include=Observation:subject`, (r) => r.corps.entry.filter((e: { resource: Patient }) => e.resource.resourceType === 'Patient').map((e: { resource: Patient }) => e.resource)],
      [`Patient/${id}/_history`, (r) => r.corps.entry.map((e: { resource: Patient }) => e.resource)],
    ];
    for (const [chemin, patients] of vues) {
      const r = await fhir(chemin, undefined, null);
      assert.equal(r.status, 200, r.texte);
      const liste = patients(r);
      assert.ok(liste.length > 0, `${chemin} found the patient`);
      for (const x of liste) {
        assert.equal(ins(x), undefined, `${chemin} shows the INS of a non-qualified identity`);
        assert.deepEqual(x.identifier, [{ system: 'urn:socle:ipp', value: 'IPP-1' }], `${chemin} keeps the other identifiers`);
      }
    }

    await transition(id, 'identite-valider', { piece: 'CN' });
    for (const [chemin, patients] of vues.slice(0, 4)) {
      const [x] = patients(await fhir(chemin, undefined, null));
      assert.equal(ins(x!)![0]!.value, i.nir, `${chemin} hides the INS of a qualified identity`);
    }
  });

  test('a record carrying an INS without any status is not qualified either', async () => {
    const i = population[suivante++]!;
    const r = await fhir('Patient', { resourceType: 'Patient', identifier: [{ system: INS_TEST, value: i.nir }], name: [{ family: i.nomNaissance }] }, null);
    assert.equal(r.status, 201);
    assert.equal(r.corps.identifier, undefined);
    assert.equal((await fhir(`Patient/${r.corps.id}`, undefined, null)).corps.identifier, undefined);
  });
});
