// V1 (INT_R02) checks: regulator account creation, update, deactivation and reattribution, as the kit runs them.
import { randomInt, randomUUID } from 'node:crypto';
import { PROFIL, SYSTEME } from '../editeur/profils.ts';
import type { Reponse } from './client.ts';
import { exiger } from './journal.ts';
import type { Contexte } from './outils.ts';

interface Regul { id: string; systeme: string; email: string; prenom: string; nom: string; actif?: boolean }

/** A FrPractitionerRegul body; the client `id` is sent as the kit does, and must be ignored on create. */
export function corpsRegulateur(r: Regul): Record<string, unknown> {
  return {
    resourceType: 'Practitioner', id: 'example-regulator-1',
    meta: { source: SYSTEME.sas, profile: [PROFIL.regulateur] },
    identifier: [{ type: { coding: [{ system: SYSTEME.v20203, code: r.systeme === SYSTEME.idnps ? 'IDNPS' : 'INTRN' }] }, system: r.systeme, value: r.id }],
    active: r.actif ?? true, name: [{ family: r.nom, given: [r.prenom] }], telecom: [{ system: 'email', value: r.email }],
  };
}

/** The kit's bad bodies: each must be refused. */
function corpsInvalides(): Record<string, Record<string, any>> {
  const base = () => corpsRegulateur({ id: randomUUID(), systeme: SYSTEME.sas, email: `${randomUUID()}@exemple.fr`, prenom: 'Claire', nom: 'Dubois' }) as Record<string, any>;
  const sans = (champ: string) => { const b = base(); delete b[champ]; return b; };
  const avec = (f: (b: Record<string, any>) => void) => { const b = base(); f(b); return b; };
  return {
    'without identifier': sans('identifier'), 'without name': sans('name'), 'without telecom': sans('telecom'), 'without active': sans('active'),
    'empty name.family': avec((b) => { b.name[0].family = ''; }),
    'empty e-mail': avec((b) => { b.telecom[0].value = ''; }),
    'telecom.system phone': avec((b) => { b.telecom[0].system = 'phone'; }),
    'INTRN type with the national system': avec((b) => { b.identifier[0].system = SYSTEME.idnps; b.identifier[0].type.coding[0].code = 'INTRN'; }),
    'IDNPS type with the SAS system': avec((b) => { b.identifier[0].type.coding[0].code = 'IDNPS'; }),
  };
}

const succes = (r: Reponse) => r.statut >= 200 && r.statut < 400;
const echecAttendu = (r: Reponse) => r.statut >= 400 && r.statut < 600;
const detail = (r: Reponse) => (r.json?.resourceType === 'OperationOutcome' ? `: ${r.json.issue?.map((i: any) => i.diagnostics).join('; ')}` : '');

export async function verifierV1(ctx: Contexte): Promise<void> {
  const g = 'Flux V1 comptes régulateurs';
  const v = (id: string, titre: string, fn: () => unknown) => ctx.journal.verifier(g, id, titre, fn);
  // Fresh identifiers each run, shaped like CPx ids (3 + structure id / local id), so the checks can be re-run.
  const idNat = `3${randomInt(100000000, 999999999)}/${randomInt(10000000, 99999999)}`;
  const idNatModif = `3${randomInt(100000000, 999999999)}/${randomInt(10000000, 99999999)}`;
  const uuid = randomUUID();
  const regul: Regul = { id: idNat, systeme: SYSTEME.idnps, email: 'regulateur.conformite@exemple.fr', prenom: 'Sébastien', nom: 'Loridon' };
  const post = (corps: unknown) => ctx.appeler('/Practitioner', { methode: 'POST', corps });
  const put = (systeme: string, valeur: string, corps: unknown) =>
    ctx.appeler(`/Practitioner?identifier=${encodeURIComponent(`${systeme}|${valeur}`)}`, { methode: 'PUT', corps });
  const attendre = (r: Reponse, ok: (r: Reponse) => boolean, attendu: string) => exiger(ok(r), `HTTP ${r.statut} (expected ${attendu})${detail(r)}`);

  await v('creation-idnps', 'POST Practitioner with a national id (IDNPS) → 201 Created', async () => {
    const r = await post(corpsRegulateur(regul));
    attendre(r, (x) => x.statut === 201, '201');
    exiger(r.entetes.location, '201 without a Location header');
  });
  await v('creation-uuid', 'POST Practitioner with a SAS technical id (INTRN, UUID) → 201 Created', async () => {
    attendre(await post(corpsRegulateur({ ...regul, id: uuid, systeme: SYSTEME.sas, email: `${uuid}${regul.email}` })), (x) => x.statut === 201, '201');
  });
  await v('creation-doublon', 'POST the same account twice → second refused (4xx/5xx)', async () => {
    const id = randomUUID();
    const corps = corpsRegulateur({ ...regul, id, systeme: SYSTEME.sas, email: `${id}${regul.email}` });
    attendre(await post(corps), (x) => x.statut === 201, '201 for the first POST');
    attendre(await post(corps), echecAttendu, '4xx or 5xx for the duplicate');
  });
  const invalides = Object.entries(corpsInvalides());
  await v('creation-invalide', 'POST with a missing or invalid mandatory field → refused (4xx/5xx)', async () => {
    const acceptes: string[] = [];
    for (const [nom, corps] of invalides) { const r = await post(corps); if (!echecAttendu(r)) acceptes.push(`${nom} → HTTP ${r.statut}`); }
    exiger(acceptes.length === 0, `accepted: ${acceptes.join('; ')}`);
  });
  await v('deshabilitation', 'PUT ?identifier= with active=false (habilitation removed) → 2xx/3xx', async () => {
    attendre(await put(SYSTEME.idnps, idNat, corpsRegulateur({ ...regul, actif: false })), succes, '2xx or 3xx');
  });
  await v('habilitation', 'PUT ?identifier= with active=true (habilitation given back) → 2xx/3xx', async () => {
    attendre(await put(SYSTEME.idnps, idNat, corpsRegulateur(regul)), succes, '2xx or 3xx');
  });
  await v('modification-email', 'PUT ?identifier= changing the e-mail → 2xx/3xx', async () => {
    attendre(await put(SYSTEME.idnps, idNat, corpsRegulateur({ ...regul, email: 'regulateur.conformite.modif@exemple.fr' })), succes, '2xx or 3xx');
  });
  await v('modification-id', 'PUT ?identifier= changing the national id → 2xx/3xx', async () => {
    attendre(await put(SYSTEME.idnps, idNat, corpsRegulateur({ ...regul, id: idNatModif, email: 'regulateur.conformite.modif@exemple.fr' })), succes, '2xx or 3xx');
  });
  await v('modification-type-id', 'PUT ?identifier= switching the identifier type (INTRN ↔ IDNPS) → 2xx/3xx', async () => {
    attendre(await put(SYSTEME.idnps, uuid, corpsRegulateur({ ...regul, systeme: SYSTEME.sas, email: `${uuid}${regul.email}` })), succes, '2xx or 3xx');
  });
  await v('modification-nom', 'PUT ?identifier= changing family and given names → 2xx/3xx', async () => {
    const modif = { ...regul, id: idNatModif, email: 'regulateur.conformite.modif@exemple.fr' };
    attendre(await put(SYSTEME.idnps, idNatModif, corpsRegulateur({ ...modif, nom: 'Loridon-modif' })), succes, '2xx or 3xx for the family name');
    attendre(await put(SYSTEME.idnps, idNatModif, corpsRegulateur({ ...modif, nom: 'Loridon-modif', prenom: 'Sébastien-modif' })), succes, '2xx or 3xx for the given name');
  });
  await v('modification-invalide', 'PUT ?identifier= with a missing mandatory field → refused (4xx/5xx)', async () => {
    const acceptes: string[] = [];
    for (const [nom, corps] of invalides.slice(0, 4)) { const r = await put(SYSTEME.idnps, idNatModif, corps); if (!echecAttendu(r)) acceptes.push(`${nom} → HTTP ${r.statut}`); }
    for (const [nom, corps] of invalides.slice(0, 4)) { const r = await put(SYSTEME.sas, randomUUID(), corps); if (!echecAttendu(r)) acceptes.push(`${nom} (as create) → HTTP ${r.statut}`); }
    exiger(acceptes.length === 0, `accepted: ${acceptes.join('; ')}`);
  });
  await v('put-creation', 'PUT ?identifier= on an unknown account creates it → 200/201', async () => {
    const id = randomUUID();
    const r = await put(SYSTEME.sas, id, corpsRegulateur({ ...regul, id, systeme: SYSTEME.sas, email: `${id}${regul.email}` }));
    attendre(r, (x) => x.statut === 200 || x.statut === 201, '200 or 201');
  });
  await v('reattribution', 'a national id freed by a deactivation can be given to another account → 2xx/3xx', async () => {
    attendre(await put(SYSTEME.idnps, idNat, corpsRegulateur({ ...regul, actif: false })), succes, '2xx or 3xx for the deactivation');
    const autre = randomUUID();
    const nouveau = { ...regul, id: autre, systeme: SYSTEME.sas, email: `${autre}.${regul.email}`, prenom: `${autre}${regul.prenom}`, nom: `${autre}${regul.nom}` };
    attendre(await post(corpsRegulateur(nouveau)), (x) => x.statut === 201, '201 for the new account');
    attendre(await put(SYSTEME.sas, autre, corpsRegulateur({ ...nouveau, id: idNat, systeme: SYSTEME.idnps })), succes, '2xx or 3xx for the reattribution');
  });
}
