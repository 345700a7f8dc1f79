// Vendor conformance checker: runs against a vendor FHIR server the checks of the official SAS test kit
// (security, CapabilityStatement, aggregation INT_R01/INT_R04/SOS, V1 regulator accounts, V2 entry) and reports them.
import { join } from 'node:path';
import { VENDORED_IG_DIR } from '../../../config.ts';
import { Validator } from '../../../fhir/validation/index.ts';
import { PROFIL, SYSTEME } from '../editeur/profils.ts';
import { verifierAgregation, verifierCpts, requeteSlots, type Cibles, type Declares } from './agregation.ts';
import { appeler, type Identite } from './client.ts';
import { Journal, type Verification } from './journal.ts';
import { deType, fenetre, type Contexte } from './outils.ts';
import { verifierCapacite, verifierTls, verifierV2 } from './securite.ts';
import { verifierSos } from './sos.ts';
import { verifierV1 } from './v1.ts';

export type { Verification } from './journal.ts';

export interface OptionsConformite {
  base: string;
  /** Practitioners (RPPS, with or without the 8 prefix): one place, two places, then two more for the multi-practitioner search. */
  rpps?: string[];
  /** SOS Médecins associations (SIRET, with or without the 3 prefix). */
  sos?: string[];
  identite?: Identite; ca?: string;
  /** Slot types (PUBLIC, PRO, SNP) and consultation types (AMB, HH, VR) the solution declares. */
  declares?: Declares;
  /** Runs the V1 checks, which create regulator accounts on the server (default true). */
  v1?: boolean;
  now?: () => Date;
  validateur?: Validator;
}

export interface RapportConformite {
  base: string; date: string; dureeMs: number; succes: boolean; cibles: Cibles | undefined; sos: string[];
  resume: Record<'PASS' | 'FAIL' | 'WARN' | 'SKIP', number>; verifications: Verification[];
}

/** The package the official kit validates against. */
export const PAQUET_SAS_KIT = join(VENDORED_IG_DIR, 'ans.fhir.fr.sas-1.1.0.tgz');

const prefixerRpps = (x: string) => (/^\d{11}$/.test(x) ? `8${x}` : x);
const prefixerSiret = (x: string) => (/^\d{14}$/.test(x) ? `3${x}` : x);

/** Without --rpps: the participating practitioners the server lists, sorted by their number of places. */
async function decouvrirCibles(ctx: Contexte): Promise<Cibles | undefined> {
  const liste = await ctx.appeler('/Practitioner?_count=100');
  const ids: string[] = deType(liste.json, 'Practitioner')
    .filter((p) => (p.meta?.profile ?? []).includes(PROFIL.practitioner))
    .flatMap((p) => (p.identifier ?? []).filter((i: any) => i.system === SYSTEME.idnps).map((i: any) => i.value))
    .slice(0, 25);
  if (ids.length === 0) return undefined;
  const { debut, fin } = fenetre(ctx.now());
  const b = (await ctx.appeler(requeteSlots(ids, debut, fin, false))).json;
  const lieux = new Map<string, number>();
  const practitioners = new Map(deType(b, 'Practitioner').map((p) => [`Practitioner/${p.id}`, p.identifier?.find((i: any) => i.system === SYSTEME.idnps)?.value]));
  for (const sc of deType(b, 'Schedule')) {
    const idnps = practitioners.get(sc.actor?.find((a: any) => a.reference?.startsWith('Practitioner/'))?.reference);
    if (idnps) lieux.set(idnps, (lieux.get(idnps) ?? 0) + 1);
  }
  const un = [...lieux].filter(([, n]) => n === 1).map(([id]) => id);
  const deux = [...lieux].filter(([, n]) => n === 2).map(([id]) => id);
  if (un.length === 0) return undefined;
  const autres = [...lieux.keys()].filter((x) => x !== un[0] && x !== deux[0]);
  return { simple: un[0], multiLieux: deux[0], multiPs: autres.length >= 2 ? [autres[0], autres[1]] : undefined };
}

async function decouvrirSos(ctx: Contexte): Promise<string[]> {
  const r = await ctx.appeler('/Organization?_count=100').catch(() => undefined);
  return deType(r?.json, 'Organization')
    .filter((o) => (o.meta?.profile ?? []).includes(PROFIL.sosOrganization))
    .flatMap((o) => (o.identifier ?? []).filter((i: any) => i.system === SYSTEME.idnst).map((i: any) => i.value))
    .slice(0, 10);
}

export async function verifierEditeur(o: OptionsConformite): Promise<RapportConformite> {
  const debut = Date.now();
  const base = o.base.replace(/\/+$/, '');
  const journal = new Journal();
  const ctx: Contexte = {
    base, journal, now: o.now ?? (() => new Date()),
    validateur: o.validateur ?? await Validator.create([PAQUET_SAS_KIT]),
    appeler: (chemin, options = {}) => appeler(`${base}${chemin}`, { identite: o.identite, ca: o.ca, ...options }),
  };
  let cibles: Cibles | undefined;
  let sos: string[] = [];
  await journal.verifier('Préparation', 'cibles', 'practitioners to search for', async () => {
    if (o.rpps?.length) {
      const [simple, multiLieux, a, b] = o.rpps.map(prefixerRpps);
      cibles = { simple, multiLieux, multiPs: a && b ? [a, b] : undefined };
    } else {
      cibles = await decouvrirCibles(ctx);
      if (!cibles) throw new Error('the server lists no practitioner with slots (GET /Practitioner): give --rpps');
    }
    sos = o.sos?.length ? o.sos.map(prefixerSiret) : await decouvrirSos(ctx);
    return `RPPS ${[cibles.simple, cibles.multiLieux, ...(cibles.multiPs ?? [])].filter(Boolean).join(', ')}${sos.length ? `; SOS ${sos.join(', ')}` : ''}`;
  });
  if (cibles) {
    const { debut: d, fin } = fenetre(ctx.now());
    await verifierTls(ctx, requeteSlots([cibles.simple], d, fin, false), o.identite, o.ca);
    await verifierCapacite(ctx);
    await verifierAgregation(ctx, cibles, o.declares);
    await verifierCpts(ctx, [cibles.simple, cibles.multiLieux, ...(cibles.multiPs ?? [])].filter((x): x is string => !!x));
    if (sos.length) await verifierSos(ctx, sos);
    else journal.sauter('Agrégation SOS Médecins', 'reponse', 'Schedule search by SIRET', 'no SOS Médecins association given (--sos) or listed (GET /Organization)');
    if (o.v1 !== false) await verifierV1(ctx);
    const b = (await ctx.appeler(requeteSlots([cibles.simple], d, fin, false)).catch(() => undefined))?.json;
    await verifierV2(ctx, b, o.identite, o.ca);
  }
  const resume = { PASS: 0, FAIL: 0, WARN: 0, SKIP: 0 };
  for (const v of journal.verifications) resume[v.statut]++;
  return {
    base, date: new Date(debut).toISOString(), dureeMs: Date.now() - debut, succes: journal.succes, cibles, sos, resume,
    verifications: journal.verifications,
  };
}

/** One line per check, grouped, with the reason under each failure. */
export function formaterRapport(r: RapportConformite): string {
  const lignes = [`Conformité SAS de ${r.base} (${r.date})`];
  let groupe = '';
  for (const v of r.verifications) {
    if (v.groupe !== groupe) { groupe = v.groupe; lignes.push('', groupe); }
    lignes.push(`  ${v.statut.padEnd(4)}  ${v.id.padEnd(24)} ${v.titre}${v.raison && v.statut === 'PASS' ? ` (${v.raison})` : ''}`);
    if (v.raison && v.statut !== 'PASS') lignes.push(`        → ${v.raison}`);
  }
  lignes.push('', `${r.resume.PASS} PASS, ${r.resume.FAIL} FAIL, ${r.resume.WARN} WARN, ${r.resume.SKIP} SKIP in ${(r.dureeMs / 1000).toFixed(1)} s: ${r.succes ? 'CONFORME' : 'NON CONFORME'}`);
  return lignes.join('\n');
}
