// SOS Médecins checks: the Schedule search by association SIRET and its Slots, fixed places and Organization.
import { PROFIL, SYSTEME } from '../editeur/profils.ts';
import { exiger, liste } from './journal.ts';
import {
  dateRequete, deType, fenetre, nomRes, reponseBundle, valider, verifierDates, verifierLienSelf, verifierMetaProfils, verifierTotal,
  type Contexte,
} from './outils.ts';

export function requeteSos(sirets: string[], debut: Date, fin: Date): string {
  const orgs = sirets.map((s) => `${SYSTEME.idnst}%7C${s}`).join(',');
  return `/Schedule?_revinclude=Slot:schedule&_include=Schedule:actor:Location&_include:iterate=Location:organization` +
    `&_has:Slot:schedule:start=ge${dateRequete(debut)}&_has:Slot:schedule:start=le${dateRequete(fin)}&_has:Slot:schedule:status=free` +
    `&actor:Location.organization.identifier=${orgs}&_count=1000`;
}

/** `sirets` are IDNST values (3 + SIRET). */
export async function verifierSos(ctx: Contexte, sirets: string[]): Promise<void> {
  const g = 'Agrégation SOS Médecins';
  const { debut, fin } = fenetre(ctx.now());
  const chemin = requeteSos(sirets, debut, fin);
  const reponse = await ctx.appeler(chemin);
  let bundle: any;
  const ok = await ctx.journal.verifier(g, 'reponse', 'HTTP 200 with a searchset Bundle of Schedules and their free Slots', () => {
    bundle = reponseBundle(reponse);
    exiger(deType(bundle, 'Slot').length > 0, `no slot for ${sirets.join(', ')}`);
  });
  if (!ok) return;
  const v = (id: string, titre: string, fn: () => unknown) => ctx.journal.verifier(g, id, titre, fn);
  await v('performance', 'answer within 1 s', () => { exiger(reponse.ms < 1000, `answered in ${reponse.ms} ms (limit 1000 ms)`); return `${reponse.ms} ms`; });
  await v('meta-profile', 'every resource claims its SAS profile in meta.profile', () => verifierMetaProfils(bundle));
  await v('validation', 'Bundle valid against sas-sos-bundle-aggregator, resources against their profiles', () => valider(ctx.validateur, bundle, PROFIL.sosBundle));
  await v('total', 'Bundle.total equals the number of Slots', () => verifierTotal(bundle));
  await v('lien-self', 'Bundle.link[self] is the request', () => verifierLienSelf(bundle, `${ctx.base}${chemin}`));
  await v('dates', 'Slot dates: format with ms and offset, within the window, start < end', () => verifierDates(bundle, debut, fin));
  await v('types', 'SOS slots: types PUBLIC or SNP only, status free, booking URL in comment', () => {
    const fautes: string[] = [];
    for (const s of deType(bundle, 'Slot')) {
      for (const c of s.meta?.security ?? []) if (!['PUBLIC', 'SNP'].includes(c.code)) fautes.push(`${nomRes(s)} Slot.meta.security code ${c.code} is not PUBLIC or SNP`);
      if (s.status !== 'free') fautes.push(`${nomRes(s)} Slot.status is "${s.status}"`);
      if (s.appointmentType?.coding?.[0]?.code === 'ROUTINE' && !s.comment?.trim()) fautes.push(`${nomRes(s)} ROUTINE slot without booking URL in comment`);
    }
    exiger(fautes.length === 0, liste(fautes));
  });
  await v('references', 'Slot → Schedule → Location → Organization, all in the Bundle; Organization is 3 + SIRET asked for', () => {
    const present = new Set(['Schedule', 'Location', 'Organization'].flatMap((t) => deType(bundle, t)).map(nomRes));
    const fautes: string[] = [];
    for (const s of deType(bundle, 'Slot')) if (!present.has(s.schedule?.reference)) fautes.push(`${nomRes(s)} Slot.schedule "${s.schedule?.reference}" is not in the Bundle`);
    for (const sc of deType(bundle, 'Schedule')) {
      const ref = sc.actor?.[0]?.reference;
      if (!ref?.startsWith('Location/') || !present.has(ref)) fautes.push(`${nomRes(sc)} Schedule.actor "${ref}" is not a Location of the Bundle`);
    }
    for (const l of deType(bundle, 'Location')) {
      if (!present.has(l.managingOrganization?.reference)) fautes.push(`${nomRes(l)} Location.managingOrganization "${l.managingOrganization?.reference}" is not in the Bundle`);
      if (!/^[0-9]{5}$/.test(l.address?.postalCode ?? '')) fautes.push(`${nomRes(l)} Location.address.postalCode "${l.address?.postalCode ?? ''}" is not 5 digits`);
    }
    for (const o of deType(bundle, 'Organization')) {
      const id = (o.identifier ?? []).find((i: any) => i.system === SYSTEME.idnst)?.value;
      if (!/^3[0-9]{14}$/.test(id ?? '')) fautes.push(`${nomRes(o)} Organization.identifier "${id}" is not 3 + SIRET`);
      else if (!sirets.includes(id)) fautes.push(`${nomRes(o)} Organization ${id} was not asked for`);
    }
    exiger(fautes.length === 0, liste(fautes));
  });
}
