// Slot aggregation checks (INT_R01, INT_R04): the kit's groups, run on the answers of the guide's query shape.
import { EXT_SERVICE_TYPE_R5, PROFIL, SYSTEME } from '../editeur/profils.ts';
import { MAX_IDENTIFIANTS } from '../editeur/recherche.ts';
import type { Reponse } from './client.ts';
import { exiger, liste, Saut } from './journal.ts';
import {
  aProfil, dateRequete, deType, fenetre, nomRes, reponseBundle, valider, verifierDates, verifierLienSelf, verifierMetaProfils,
  verifierTotal, type Contexte, type Res,
} from './outils.ts';

export interface Cibles { simple: string; multiLieux?: string; multiPs?: [string, string] }
/** What the vendor declares its solution offers: the kit compares them with the codes returned. */
export interface Declares { typesCreneau?: string[]; typesConsultation?: string[] }

interface Recherche { url: string; reponse: Reponse; debut: Date; fin: Date; ids: string[] }

const IDNPS = /^8[0-9]{11}$/;
const TELEPHONE = /^\+(33|262|590|596|594)[0-9]{9}$/;
const IDNST = [/^1[0-9]{9}$/, /^3[0-9]{14}$/, /^4[0-9]{14}$/, /^0[0-9]+$/];

export function requeteSlots(ids: string[], debut: Date, fin: Date, cpts: boolean): string {
  const acteurs = ids.map((id) => `${SYSTEME.idnps}%7C${id}`).join(',');
  return `/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor${cpts ? '&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization' : ''}` +
    `&start=ge${dateRequete(debut)}&start=le${dateRequete(fin)}&schedule.actor:Practitioner.identifier=${acteurs}&status=free&_count=1000`;
}

async function rechercher(ctx: Contexte, ids: string[], cpts = false): Promise<Recherche> {
  const { debut, fin } = fenetre(ctx.now());
  const chemin = requeteSlots(ids, debut, fin, cpts);
  return { url: `${ctx.base}${chemin}`, reponse: await ctx.appeler(chemin), debut, fin, ids };
}

/** Slot.schedule → Schedule; Schedule.actor → Practitioner and PractitionerRole; role → practitioner, #contained location. */
function verifierReferences(bundle: any): void {
  const present = new Set(deType(bundle, 'Schedule').concat(deType(bundle, 'Practitioner'), deType(bundle, 'PractitionerRole')).map(nomRes));
  const fautes: string[] = [];
  for (const s of deType(bundle, 'Slot')) {
    if (!present.has(s.schedule?.reference)) fautes.push(`${nomRes(s)} Slot.schedule "${s.schedule?.reference}" is not in the Bundle`);
  }
  for (const sc of deType(bundle, 'Schedule')) {
    const acteurs: string[] = (sc.actor ?? []).map((a: any) => a.reference);
    for (const type of ['Practitioner', 'PractitionerRole']) {
      const ref = acteurs.find((a) => a?.startsWith(`${type}/`));
      if (!ref) fautes.push(`${nomRes(sc)} Schedule.actor has no ${type} reference`);
      else if (!present.has(ref)) fautes.push(`${nomRes(sc)} Schedule.actor "${ref}" is not in the Bundle`);
    }
  }
  for (const r of deType(bundle, 'PractitionerRole')) {
    if (!present.has(r.practitioner?.reference)) fautes.push(`${nomRes(r)} PractitionerRole.practitioner "${r.practitioner?.reference}" is not in the Bundle`);
    const lieu = r.location?.[0]?.reference;
    const contenus = (r.contained ?? []).filter((c: Res) => c.resourceType === 'Location').map((c: Res) => `#${c.id}`);
    if (!lieu || !contenus.includes(lieu)) fautes.push(`${nomRes(r)} PractitionerRole.location "${lieu}" is not a contained Location (${contenus.join(', ') || 'none contained'})`);
  }
  exiger(fautes.length === 0, liste(fautes));
}

function compter(bundle: any) {
  const roles = deType(bundle, 'PractitionerRole');
  return {
    practitioner: deType(bundle, 'Practitioner').filter((r) => aProfil(r, PROFIL.practitioner)).length,
    role: roles.filter((r) => aProfil(r, PROFIL.practitionerRole)).length,
    schedule: deType(bundle, 'Schedule').filter((r) => aProfil(r, PROFIL.schedule)).length,
    location: roles.flatMap((r) => r.contained ?? []).filter((c: Res) => c.resourceType === 'Location').length,
    slot: deType(bundle, 'Slot').length,
  };
}

/** The checks of one answer that hold for every scenario. */
async function verifierReponse(ctx: Contexte, g: string, r: Recherche, profilBundle: string): Promise<any> {
  let bundle: any;
  const ok = await ctx.journal.verifier(g, 'reponse', 'HTTP 200 with a searchset Bundle', () => {
    bundle = reponseBundle(r.reponse);
    exiger(bundle.entry?.length > 0, `the Bundle is empty: no slot for ${r.ids.join(', ')} between ${r.debut.toISOString()} and ${r.fin.toISOString()}`);
  });
  if (!ok) return undefined;
  const v = (id: string, titre: string, fn: () => unknown, opt = false) => ctx.journal.verifier(g, id, titre, fn, opt);
  await v('content-type', 'Content-Type is application/fhir+json', () => {
    const ct = String(r.reponse.entetes['content-type'] ?? '');
    exiger(/application\/(fhir\+json|json\+fhir)/.test(ct), `Content-Type is "${ct}"`);
  }, true);
  await v('performance', 'answer within 1 s', () => {
    exiger(r.reponse.ms < 1000, `answered in ${r.reponse.ms} ms (limit 1000 ms)`);
    return `${r.reponse.ms} ms`;
  });
  await v('meta-profile', 'every resource claims its SAS profile in meta.profile', () => verifierMetaProfils(bundle));
  await v('validation', `Bundle and resources valid against the SAS 1.1.0 profiles`, () => valider(ctx.validateur, bundle, profilBundle));
  await v('total', 'Bundle.total equals the number of Slots', () => verifierTotal(bundle));
  await v('lien-self', 'Bundle.link[self] is the request', () => verifierLienSelf(bundle, r.url));
  await v('dates', 'Slot dates: format with ms and offset, within the window, start < end', () => verifierDates(bundle, r.debut, r.fin));
  await v('slots', 'Slots: status free, booking URL in comment, appointmentType ROUTINE or WALKIN', () => {
    const fautes: string[] = [];
    for (const s of deType(bundle, 'Slot')) {
      if (s.status !== 'free') fautes.push(`${nomRes(s)} Slot.status is "${s.status}" (only free slots may be sent)`);
      if (typeof s.comment !== 'string' || !s.comment.trim()) fautes.push(`${nomRes(s)} Slot.comment (booking URL) is missing`);
      const code = s.appointmentType?.coding?.[0]?.code;
      if (!['ROUTINE', 'WALKIN'].includes(code)) fautes.push(`${nomRes(s)} Slot.appointmentType is "${code}" (expected ROUTINE or WALKIN)`);
    }
    exiger(fautes.length === 0, liste(fautes));
  });
  await v('rpps', 'Practitioner identifiers are the IDNPS asked for (8 + RPPS)', () => {
    const rendus = deType(bundle, 'Practitioner').flatMap((p) => (p.identifier ?? []).filter((i: any) => i.system === SYSTEME.idnps).map((i: any) => i.value));
    const fautes = rendus.filter((x) => !IDNPS.test(x)).map((x) => `Practitioner.identifier.value "${x}" does not match ^8[0-9]{11}$`);
    fautes.push(...rendus.filter((x) => !r.ids.includes(x)).map((x) => `Practitioner ${x} was not asked for`));
    fautes.push(...r.ids.filter((x) => !rendus.includes(x)).map((x) => `no Practitioner with identifier ${SYSTEME.idnps}|${x}`));
    exiger(fautes.length === 0, liste(fautes));
  });
  await v('references', 'references between Slot, Schedule, Practitioner, PractitionerRole and contained Location', () => verifierReferences(bundle));
  await v('lieu', 'Location: address line, city and 5-digit postal code', () => {
    const fautes: string[] = [];
    for (const role of deType(bundle, 'PractitionerRole')) {
      for (const l of (role.contained ?? []).filter((c: Res) => c.resourceType === 'Location')) {
        const a = l.address ?? {};
        if (!a.line?.[0]) fautes.push(`${nomRes(role)} contained Location/${l.id} address.line is missing`);
        if (!a.city) fautes.push(`${nomRes(role)} contained Location/${l.id} address.city is missing`);
        if (!/^[0-9]{5}$/.test(a.postalCode ?? '')) fautes.push(`${nomRes(role)} contained Location/${l.id} address.postalCode "${a.postalCode ?? ''}" is not 5 digits`);
      }
    }
    exiger(fautes.length === 0, liste(fautes));
  });
  return bundle;
}

export async function verifierAgregation(ctx: Contexte, cibles: Cibles, declares: Declares = {}): Promise<void> {
  const g = 'Agrégation PS (INT_R01)';
  const r = await rechercher(ctx, [cibles.simple]);
  const bundle = await verifierReponse(ctx, g, r, PROFIL.bundle);
  const reponses = [bundle];
  const v = (id: string, titre: string, fn: () => unknown, opt = false) => ctx.journal.verifier(g, id, titre, fn, opt);
  if (bundle) {
    await v('cardinalite', `one practitioner, one place: 1 Practitioner, 1 PractitionerRole, 1 Schedule, 1 Location (${cibles.simple})`, () => {
      const n = compter(bundle);
      exiger(n.practitioner === 1 && n.role === 1 && n.schedule === 1 && n.location === 1,
        `got ${n.practitioner} Practitioner, ${n.role} PractitionerRole, ${n.schedule} Schedule, ${n.location} contained Location`);
    });
    await v('types', 'slot types (TRE_R314 PUBLIC/PRO/SNP) and consultation types (AMB/HH/VR)', () => {
      const fautes: string[] = [];
      for (const s of deType(bundle, 'Slot')) {
        const types = (s.meta?.security ?? []).filter((c: any) => c.system === SYSTEME.typeCreneau).map((c: any) => c.code);
        if (types.length === 0) fautes.push(`${nomRes(s)} Slot.meta.security has no slot type`);
        for (const t of types) if (!['PUBLIC', 'PRO', 'SNP'].includes(t)) fautes.push(`${nomRes(s)} Slot.meta.security code ${t} is not PUBLIC, PRO or SNP`);
        const consult = (s.serviceType ?? []).flatMap((st: any) => st.coding ?? []).filter((c: any) => c.system === SYSTEME.actCode);
        for (const c of consult) if (!['AMB', 'HH', 'VR'].includes(c.code)) fautes.push(`${nomRes(s)} Slot.serviceType ${c.code} is not AMB, HH or VR`);
      }
      exiger(fautes.length === 0, liste(fautes));
    });
    const roles = deType(bundle, 'PractitionerRole');
    const praticiens = deType(bundle, 'Practitioner');
    await v('nom', 'Practitioner.name.family (optional)', () => exiger(praticiens.every((p) => p.name?.[0]?.family), 'Practitioner.name.family is missing'), true);
    await v('prenom', 'Practitioner.name.given (optional)', () => exiger(praticiens.every((p) => p.name?.[0]?.given?.[0]), 'Practitioner.name.given is missing'), true);
    await v('telephone', 'PractitionerRole.telecom phone +33XXXXXXXXX (optional)', () => {
      const tels = roles.flatMap((x) => (x.telecom ?? []).filter((t: any) => t.system === 'phone').map((t: any) => t.value));
      exiger(tels.length > 0, 'PractitionerRole.telecom has no phone');
      const faux = tels.filter((t) => !TELEPHONE.test(t));
      exiger(faux.length === 0, `phone numbers not in +33XXXXXXXXX form: ${faux.join(', ')}`);
    }, true);
    await v('idnst', 'PractitionerRole.organization.identifier IDNST (optional)', () => {
      const ids = roles.map((x) => x.organization?.identifier?.value);
      exiger(ids.every(Boolean), 'PractitionerRole.organization.identifier.value is missing');
      const faux = ids.filter((x) => !IDNST.some((re) => re.test(x)));
      exiger(faux.length === 0, `IDNST values not 1+FINESS, 3+SIRET or 4+RPPS rang: ${faux.join(', ')}`);
    }, true);
  }

  if (cibles.multiLieux) {
    const gm = 'Agrégation PS multi-lieux';
    const rm = await rechercher(ctx, [cibles.multiLieux]);
    const bm = await verifierReponse(ctx, gm, rm, PROFIL.bundle);
    reponses.push(bm);
    if (bm) {
      await ctx.journal.verifier(gm, 'cardinalite', `one practitioner, two places: 1 Practitioner, 2 PractitionerRole, 2 Schedule (${cibles.multiLieux})`, () => {
        const n = compter(bm);
        exiger(n.practitioner === 1 && n.role === 2 && n.schedule === 2, `got ${n.practitioner} Practitioner, ${n.role} PractitionerRole, ${n.schedule} Schedule`);
      });
    }
  } else ctx.journal.sauter('Agrégation PS multi-lieux', 'cardinalite', 'one practitioner, two places', 'no practitioner with two places given (--rpps second value)');

  if (cibles.multiPs) {
    const gp = 'Agrégation plusieurs PS';
    const rp = await rechercher(ctx, cibles.multiPs);
    const bp = await verifierReponse(ctx, gp, rp, PROFIL.bundle);
    reponses.push(bp);
    if (bp) {
      await ctx.journal.verifier(gp, 'cardinalite', `two practitioners in one search: ≥ 2 Practitioner, PractitionerRole, Schedule (${cibles.multiPs.join(', ')})`, () => {
        const n = compter(bp);
        exiger(n.practitioner >= 2 && n.role >= 2 && n.schedule >= 2, `got ${n.practitioner} Practitioner, ${n.role} PractitionerRole, ${n.schedule} Schedule`);
      });
    }
  } else ctx.journal.sauter('Agrégation plusieurs PS', 'cardinalite', 'two practitioners in one search', 'two more practitioners needed (--rpps third and fourth values)');

  await verifierDeclares(ctx, reponses.filter(Boolean), declares);

  const gl = 'Agrégation cas limites';
  await ctx.journal.verifier(gl, 'ps-inconnu', 'unknown practitioner: 200, empty Bundle, total 0, self link', async () => {
    const inconnu = await rechercher(ctx, ['800000000000']);
    const b = reponseBundle(inconnu.reponse);
    exiger(b.total === 0 && (b.entry ?? []).length === 0, `expected total 0 and no entry, got total ${b.total} and ${(b.entry ?? []).length} entries`);
    verifierLienSelf(b, inconnu.url);
  });
  await ctx.journal.verifier(gl, 'lot-max', `more than ${MAX_IDENTIFIANTS} practitioners in one search is refused with an OperationOutcome`, async () => {
    const trop = Array.from({ length: MAX_IDENTIFIANTS + 1 }, (_, i) => `8${String(10000000000 + i)}`);
    const rep = (await rechercher(ctx, trop)).reponse;
    exiger(rep.statut >= 400 && rep.statut < 500, `HTTP ${rep.statut} (expected 4xx)`);
    exiger(rep.json?.resourceType === 'OperationOutcome', 'the error body is not an OperationOutcome');
  }, true);
}

/** Slot types and consultation types returned (over the practitioners searched) are exactly those declared. */
async function verifierDeclares(ctx: Contexte, bundles: any[], declares: Declares): Promise<void> {
  const g = 'Agrégation options déclarées';
  const slots = bundles.flatMap((b) => deType(b, 'Slot'));
  const comparer = (nom: string, declare: string[] | undefined, rendus: string[], option: string) => ctx.journal.verifier(g, nom, `${nom} returned are those declared`, () => {
    if (!declare) throw new Saut(`nothing declared (${option})`);
    const attendu = new Set(declare.map((x) => x.toUpperCase()));
    const vus = new Set(rendus);
    const manquants = [...attendu].filter((x) => !vus.has(x));
    const enTrop = [...vus].filter((x) => !attendu.has(x));
    exiger(manquants.length === 0 && enTrop.length === 0,
      [manquants.length ? `declared but never returned: ${manquants.join(', ')}` : '', enTrop.length ? `returned but not declared: ${enTrop.join(', ')}` : ''].filter(Boolean).join('; '));
  });
  await comparer('types-creneau', declares.typesCreneau, slots.flatMap((s) => (s.meta?.security ?? []).map((c: any) => c.code)), '--types-creneau');
  await comparer('types-consultation', declares.typesConsultation,
    slots.flatMap((s) => (s.serviceType ?? []).flatMap((st: any) => st.coding ?? []).filter((c: any) => c.system === SYSTEME.actCode).map((c: any) => c.code)), '--types-consultation');
}

/** INT_R04: CPTS slots, their HealthcareService (R5 serviceType extension) and CPTS Organization. */
export async function verifierCpts(ctx: Contexte, ids: string[]): Promise<void> {
  const g = 'Agrégation CPTS (INT_R04)';
  const r = await rechercher(ctx, ids, true);
  let bundle: any;
  await ctx.journal.verifier(g, 'reponse', 'HTTP 200 with a searchset Bundle including CPTS slots', () => {
    bundle = reponseBundle(r.reponse);
    if (!deType(bundle, 'Slot').some((s) => aProfil(s, PROFIL.cptsSlot))) throw new Saut('no CPTS slot (sas-cpts-slot-aggregator) for these practitioners');
  });
  if (!bundle || !deType(bundle, 'Slot').some((s) => aProfil(s, PROFIL.cptsSlot))) return;
  const v = (id: string, titre: string, fn: () => unknown, opt = false) => ctx.journal.verifier(g, id, titre, fn, opt);
  await v('meta-profile', 'every resource claims its SAS profile in meta.profile', () => verifierMetaProfils(bundle));
  await v('validation', 'Bundle valid against sas-cpts-bundle-aggregator, resources against their profiles', () => valider(ctx.validateur, bundle, PROFIL.cptsBundle));
  await v('total', 'Bundle.total equals the number of Slots', () => verifierTotal(bundle));
  await v('lien-self', 'Bundle.link[self] is the request', () => verifierLienSelf(bundle, r.url));
  await v('dates', 'Slot dates: format with ms and offset, within the window, start < end', () => verifierDates(bundle, r.debut, r.fin));
  const services = deType(bundle, 'HealthcareService');
  const organisations = deType(bundle, 'Organization');
  await v('cardinalite', 'as many HealthcareService as CPTS Organization, at least one', () => {
    exiger(services.length > 0 && services.length === organisations.length, `${services.length} HealthcareService and ${organisations.length} Organization`);
  });
  await v('finess', 'CPTS Organization identifier is IDNST 1 + FINESS', () => {
    const faux = organisations.filter((o) => !(o.identifier ?? []).some((i: any) => i.system === SYSTEME.idnst && /^1[0-9]{9}$/.test(i.value ?? '')));
    exiger(faux.length === 0, `${faux.map(nomRes).join(', ')}: Organization.identifier is not ${SYSTEME.idnst}|1XXXXXXXXX`);
  });
  await v('references', 'Slot.serviceType extension → HealthcareService, providedBy → Organization, all in the Bundle', () => {
    const present = new Set([...services, ...organisations].map(nomRes));
    const fautes: string[] = [];
    for (const s of deType(bundle, 'Slot').filter((x) => aProfil(x, PROFIL.cptsSlot))) {
      const refs = (s.serviceType ?? []).flatMap((st: any) => (st.extension ?? []).filter((e: any) => e.url === EXT_SERVICE_TYPE_R5).map((e: any) => e.valueReference?.reference));
      const cpts = (s.meta?.security ?? []).some((c: any) => c.code === 'CPTS');
      if (cpts && refs.length === 0) fautes.push(`${nomRes(s)} has slot type CPTS but no serviceType with the ${EXT_SERVICE_TYPE_R5} extension`);
      for (const ref of refs) if (!present.has(ref)) fautes.push(`${nomRes(s)} Slot.serviceType extension "${ref}" is not in the Bundle`);
    }
    for (const h of services) if (!present.has(h.providedBy?.reference)) fautes.push(`${nomRes(h)} HealthcareService.providedBy "${h.providedBy?.reference}" is not in the Bundle`);
    exiger(fautes.length === 0, liste(fautes));
  });
  const slotsCpts = deType(bundle, 'Slot').filter((x) => aProfil(x, PROFIL.cptsSlot));
  await v('type-cpts', 'CPTS slots are typed CPTS in meta.security', () => {
    const autres = slotsCpts.filter((s) => (s.meta?.security ?? []).some((c: any) => c.code !== 'CPTS'));
    exiger(autres.length === 0, liste(autres.map((s) => `${nomRes(s)} Slot.meta.security has ${s.meta.security.map((c: any) => c.code).join(', ')} (the kit expects CPTS only)`)));
  });
  await v('service-type', 'CPTS slots carry serviceType TRE_R66 604 (CPTS)', () => {
    const sans = slotsCpts.filter((s) => !(s.serviceType ?? []).some((st: any) => st.coding?.some((c: any) => c.system === SYSTEME.categorieEtablissement && c.code === '604')));
    exiger(sans.length === 0, liste(sans.map((s) => `${nomRes(s)} Slot.serviceType has no ${SYSTEME.categorieEtablissement}|604 coding`)));
  });
  await v('multi-cpts', 'a slot shared by two CPTS references both HealthcareServices (optional)', () => {
    const partage = deType(bundle, 'Slot').some((s) => (s.serviceType ?? []).filter((st: any) => st.extension?.some((e: any) => e.url === EXT_SERVICE_TYPE_R5)).length >= 2);
    exiger(partage, 'no slot refers to two CPTS');
  }, true);
}
