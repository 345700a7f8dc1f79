// Deterministic synthetic agendas: the same seed gives the same practitioners, places and slots, relative to "now".
import { createHash } from 'node:crypto';
import { instantParis, jourParis } from './temps.ts';
import type { TypeConsultation, TypeCreneau } from './profils.ts';

export interface PraticienSimule { rpps: string; nom: string; prenom: string; specialite?: string }

export interface Lieu {
  id: string; ligne: string; ville: string; codePostal: string; telephone: string; lat: number; lon: number;
}
export interface Cpts { siret: string; nom: string; id: string; finess: string; telephone: string }
export interface RoleAgenda { id: string; scheduleId: string; lieu: Lieu; idnst: string }
export interface PraticienAgenda extends PraticienSimule { id: string; idnps: string; roles: RoleAgenda[]; cpts: Cpts[] }
export interface LieuSos extends Lieu { nom: string; scheduleId: string }
export interface Sos { siret: string; nom: string; id: string; lieux: LieuSos[] }

export interface Creneau {
  id: string; scheduleId: string; debut: Date; fin: Date; types: TypeCreneau[]; consultations: TypeConsultation[];
  motifRdv: 'ROUTINE' | 'WALKIN'; motif?: string; cpts: Cpts[];
}

/** Pseudo-random integer in [0, n) drawn from the seed and a key. */
export function tirage(graine: string, cle: string, n: number): number {
  return createHash('sha256').update(`${graine}\u0000${cle}`).digest().readUInt32BE(0) % n;
}
const chiffres = (graine: string, cle: string, n: number) =>
  Array.from({ length: n }, (_, i) => tirage(graine, `${cle}#${i}`, 10)).join('');

/** Luhn check digit, as RPPS numbers carry. */
function cleLuhn(corps: string): string {
  let somme = 0;
  for (let i = 0; i < corps.length; i++) {
    let c = Number(corps[corps.length - 1 - i]);
    if (i % 2 === 0) { c *= 2; if (c > 9) c -= 9; }
    somme += c;
  }
  return String((10 - (somme % 10)) % 10);
}

const NOMS = ['MARTIN', 'BERNARD', 'THOMAS', 'PETIT', 'ROBERT', 'RICHARD', 'DURAND', 'DUBOIS', 'MOREAU', 'LAURENT',
  'SIMON', 'MICHEL', 'LEFEBVRE', 'LEROY', 'ROUX', 'DAVID', 'BERTRAND', 'MOREL', 'FOURNIER', 'GIRARD', 'BONNET', 'DUPONT',
  'LAMBERT', 'FONTAINE', 'ROUSSEAU', 'VINCENT', 'MULLER', 'LEFEVRE', 'FAURE', 'ANDRE', 'MERCIER', 'BLANC', 'GUERIN'];
const PRENOMS = ['Camille', 'Léa', 'Manon', 'Chloé', 'Sarah', 'Inès', 'Julie', 'Claire', 'Anne', 'Sophie', 'Hugo',
  'Lucas', 'Louis', 'Nathan', 'Thomas', 'Pierre', 'Julien', 'Nicolas', 'Antoine', 'Mathieu', 'Sébastien', 'Hélène'];
const COMMUNES: [string, string, number, number][] = [
  ['AGEN', '47000', 44.2033, 0.6163], ['BORDEAUX', '33000', 44.8378, -0.5792], ['RENNES', '35000', 48.1173, -1.6778],
  ['TOULOUSE', '31000', 43.6047, 1.4442], ['NANTES', '44000', 47.2184, -1.5536], ['LILLE', '59000', 50.6292, 3.0573],
  ['MONTPELLIER', '34000', 43.6108, 3.8767], ['STRASBOURG', '67000', 48.5734, 7.7521], ['DIJON', '21000', 47.322, 5.0415],
  ['TOURS', '37000', 47.3941, 0.6848]];
const VOIES = ['rue Victor Hugo', 'avenue Jean Jaurès', 'rue de la République', 'place du Marché', 'boulevard Pasteur',
  'rue des Écoles', 'allée des Tilleuls', 'rue Nationale'];
const MOTIFS = ['Consultation non programmée', 'Renouvellement', 'Fièvre', 'Douleur aiguë'];
const TYPES: TypeCreneau[][] = [['PUBLIC'], ['PRO'], ['SNP'], ['PUBLIC', 'PRO'], ['SNP', 'PRO']];
const CONSULTATIONS: TypeConsultation[][] = [['AMB'], ['AMB'], ['AMB', 'VR'], ['VR'], ['HH']];

function lieu(graine: string, cle: string): Lieu {
  const [ville, codePostal, lat, lon] = COMMUNES[tirage(graine, `${cle}:commune`, COMMUNES.length)];
  const jitter = (k: string) => (tirage(graine, `${cle}:${k}`, 2000) - 1000) / 50000;
  return {
    id: `lieu-${cle}`, ville, codePostal,
    ligne: `${1 + tirage(graine, `${cle}:num`, 120)} ${VOIES[tirage(graine, `${cle}:voie`, VOIES.length)]}`,
    telephone: `+33${1 + tirage(graine, `${cle}:tel`, 5)}${chiffres(graine, `${cle}:tel`, 8)}`,
    lat: +(lat + jitter('lat')).toFixed(5), lon: +(lon + jitter('lon')).toFixed(5),
  };
}

/** Structure id of a practice: FINESS (1+9), SIRET (3+14) or RPPS rang (4+14), as practices have. */
function idnst(graine: string, cle: string): string {
  const forme = tirage(graine, `${cle}:idnst`, 3);
  if (forme === 0) return `1${chiffres(graine, `${cle}:finess`, 9)}`;
  return `${forme === 1 ? 3 : 4}${chiffres(graine, `${cle}:siret`, 14)}`;
}

export function genererPraticiens(graine: string, n: number): PraticienSimule[] {
  const vus = new Set<string>();
  return Array.from({ length: n }, (_, i) => {
    let rpps: string;
    let essai = 0;
    do {
      const corps = `10${chiffres(graine, `rpps:${i}:${essai++}`, 8)}`;
      rpps = corps + cleLuhn(corps);
    } while (vus.has(rpps));
    vus.add(rpps);
    return {
      rpps, specialite: 'SM54',
      nom: NOMS[tirage(graine, `nom:${i}`, NOMS.length)], prenom: PRENOMS[tirage(graine, `prenom:${i}`, PRENOMS.length)],
    };
  });
}

export function genererCpts(graine: string, n = 2): { siret: string; nom: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    siret: chiffres(graine, `cpts:${i}`, 14), nom: `CPTS ${COMMUNES[(i * 3) % COMMUNES.length][0]} ${i + 1}`,
  }));
}

export function genererSos(graine: string, n = 2): { siret: string; nom: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    siret: chiffres(graine, `sos:${i}`, 14), nom: `SOS Médecins ${COMMUNES[(i * 7 + 2) % COMMUNES.length][0]}`,
  }));
}

/** Builds the agenda model: every third practitioner (index 1, 4, …) practises in two places (the kit's multi-place case). */
export function construireAgenda(graine: string, praticiens: PraticienSimule[], cptsIn: { siret: string; nom: string }[],
  sosIn: { siret: string; nom: string }[]) {
  const cpts: Cpts[] = cptsIn.map((c, i) => ({
    ...c, id: `cpts-${i + 1}`,
    // The CPTS profile requires a FINESS-based IDNST (1 + 9 digits).
    finess: `1${chiffres(graine, `finess-cpts:${c.siret}`, 9)}`,
    telephone: `+33${1 + tirage(graine, `tel-cpts:${c.siret}`, 5)}${chiffres(graine, `tel-cpts:${c.siret}`, 8)}`,
  }));
  const parRpps = new Map<string, PraticienAgenda>();
  praticiens.forEach((p, i) => {
    const roles: RoleAgenda[] = Array.from({ length: i % 3 === 1 ? 2 : 1 }, (_, k) => ({
      id: `role-${p.rpps}-${k + 1}`, scheduleId: `agenda-${p.rpps}-${k + 1}`,
      lieu: lieu(graine, `${p.rpps}-${k + 1}`), idnst: idnst(graine, `${p.rpps}-${k + 1}`),
    }));
    // Members of CPTS: one CPTS for most, two for every fourth practitioner (a slot shared by two CPTS).
    const membres = cpts.length === 0 ? [] : i % 4 === 0 && cpts.length > 1
      ? [cpts[i % cpts.length], cpts[(i + 1) % cpts.length]] : i % 2 === 0 ? [cpts[i % cpts.length]] : [];
    parRpps.set(p.rpps, { ...p, id: `ps-${p.rpps}`, idnps: `8${p.rpps}`, roles, cpts: membres });
  });
  const sos: Sos[] = sosIn.map((s, i) => ({
    ...s, id: `sos-${i + 1}`,
    lieux: [0, 1].map((k) => ({
      ...lieu(graine, `sos-${s.siret}-${k + 1}`), id: `pfg-${s.siret}-${k + 1}`, scheduleId: `agenda-sos-${s.siret}-${k + 1}`,
      nom: k === 0 ? `${s.nom} - point fixe de garde` : `${s.nom} - lieu fixe de consultation`,
    })),
  }));
  return { graine, praticiens: parRpps, cpts, sos, memo: new Map<string, Creneau[]>() };
}
export type Agenda = ReturnType<typeof construireAgenda>;

const ETAPE_MIN = 20;
const compact = (d: Date) => d.toISOString().slice(0, 16).replace(/[-:T]/g, '');

/** Candidate times of one day for one agenda: 08:00 to 19:40 every 20 minutes, split between places. */
function creneauxDuJour(graine: string, cle: string, jour: [number, number, number], part: [number, number]) {
  const sortie: { debut: Date; cle: string }[] = [];
  for (let minute = 8 * 60; minute < 20 * 60; minute += ETAPE_MIN) {
    const heure = Math.floor(minute / 60);
    if (heure < part[0] || heure >= part[1]) continue;
    const debut = instantParis(...jour, heure, minute % 60);
    const k = `${cle}:${compact(debut)}`;
    if (tirage(graine, k, 100) < 14) sortie.push({ debut, cle: k });
  }
  return sortie;
}

/** The slots of one agenda on one Paris day, computed once: they do not depend on the hour of the request. */
function journee(agenda: Agenda, cle: string, jour: [number, number, number], part: [number, number],
  fabriquer: (debut: Date, cleCreneau: string) => Creneau): Creneau[] {
  const memo = `${cle}|${jour.join('-')}`;
  let creneaux = agenda.memo.get(memo);
  if (!creneaux) {
    if (agenda.memo.size > 50_000) agenda.memo.clear(); // past days of a long-running simulator
    creneaux = creneauxDuJour(agenda.graine, cle, jour, part).map(({ debut, cle: k }) => fabriquer(debut, k));
    agenda.memo.set(memo, creneaux);
  }
  return creneaux;
}

/** Free slots of a practitioner from today to today + 2 (Paris days), starting at or after `now`. */
export function creneauxPraticien(agenda: Agenda, p: PraticienAgenda, now: Date): Creneau[] {
  const g = agenda.graine;
  const sortie: Creneau[] = [];
  for (let j = 0; j < 3; j++) {
    const jour = jourParis(now, j);
    p.roles.forEach((role, k) => {
      const part: [number, number] = p.roles.length === 1 ? [0, 24] : k === 0 ? [0, 14] : [14, 24];
      const creneaux = journee(agenda, role.id, jour, part, (debut, cle) => {
        // A slot opened to the practitioner's CPTS is typed CPTS only, as the official kit expects.
        const enCpts = p.cpts.length > 0 && tirage(g, `${cle}:cpts`, 10) < 4;
        return {
          id: `${role.id.slice(5)}-${compact(debut)}`, scheduleId: role.scheduleId, debut,
          fin: new Date(debut.getTime() + ETAPE_MIN * 60000), types: enCpts ? ['CPTS'] : [...TYPES[tirage(g, `${cle}:types`, TYPES.length)]],
          consultations: CONSULTATIONS[tirage(g, `${cle}:consult`, CONSULTATIONS.length)],
          motifRdv: tirage(g, `${cle}:walkin`, 100) < 15 ? 'WALKIN' : 'ROUTINE',
          motif: tirage(g, `${cle}:motif`, 3) === 0 ? MOTIFS[tirage(g, `${cle}:m`, MOTIFS.length)] : undefined,
          cpts: enCpts ? p.cpts : [],
        };
      });
      sortie.push(...creneaux.filter((c) => c.debut >= now));
    });
  }
  return sortie;
}

/** Free slots of an SOS Médecins fixed place: PUBLIC and/or SNP only, at the place or at home. */
export function creneauxSos(agenda: Agenda, lieuSos: LieuSos, now: Date): Creneau[] {
  const g = agenda.graine;
  const sortie: Creneau[] = [];
  for (let j = 0; j < 3; j++) {
    const creneaux = journee(agenda, lieuSos.id, jourParis(now, j), [0, 24], (debut, cle) => {
      const t = tirage(g, `${cle}:types`, 3);
      return {
        id: `${lieuSos.id}-${compact(debut)}`, scheduleId: lieuSos.scheduleId, debut,
        fin: new Date(debut.getTime() + ETAPE_MIN * 60000),
        types: t === 0 ? ['PUBLIC'] : t === 1 ? ['SNP'] : ['PUBLIC', 'SNP'],
        consultations: tirage(g, `${cle}:hh`, 4) === 0 ? ['HH'] : ['AMB'], motifRdv: 'ROUTINE', cpts: [],
      };
    });
    sortie.push(...creneaux.filter((c) => c.debut >= now));
  }
  return sortie;
}
