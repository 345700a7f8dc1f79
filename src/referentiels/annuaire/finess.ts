// The FINESS open-data extract `etalab-cs1100507-stock-*.csv`: ';'-separated, Latin-1, a first line
// `finess;etalab;…`, then `structureet` records (32 fields) and `geolocalisation` records (6 fields,
// Lambert-93 in metropolitan France). Fields may be quoted, with "" for a quote inside.
import { finessValide, siretValide } from './identifiants.ts';
import { dansLambert93, versWgs84, type PointGeographique } from './lambert93.ts';
import { LigneRejetee } from './rpps.ts';

export interface Etablissement {
  numero: number;
  nofinesset: string;
  nofinessej: string;
  rs: string;
  rslongue: string;
  complrs: string;
  compldistrib: string;
  numvoie: string;
  typvoie: string;
  voie: string;
  compvoie: string;
  lieuditbp: string;
  commune: string;
  departement: string;
  ligneacheminement: string;
  telephone: string;
  telecopie: string;
  categetab: string;
  libcategetab: string;
  categagretab: string;
  siret: string;
  codeape: string;
  codemft: string;
  codesph: string;
  dateouv: string;
  datemaj: string;
}

export interface Geolocalisation {
  nofinesset: string;
  /** Undefined when the coordinates are in a projection this importer does not convert (overseas). */
  position?: PointGeographique;
  source: string;
}

export type EnregistrementFiness = { type: 'structureet'; etablissement: Etablissement } | { type: 'geolocalisation'; geo: Geolocalisation };

/** Splits one ';' line, honouring quoted fields ("" is a quote inside). */
export function decouperCsv(texte: string): string[] {
  if (!texte.includes('"')) return texte.split(';');
  const champs: string[] = [];
  let i = 0;
  for (;;) {
    if (texte[i] === '"') {
      let valeur = '';
      i++;
      for (;;) {
        const fin = texte.indexOf('"', i);
        if (fin < 0) throw new LigneRejetee('guillemet non fermé');
        valeur += texte.slice(i, fin);
        if (texte[fin + 1] === '"') {
          valeur += '"';
          i = fin + 2;
        } else {
          i = fin + 1;
          break;
        }
      }
      champs.push(valeur);
      if (i >= texte.length) return champs;
      if (texte[i] !== ';') throw new LigneRejetee(`caractère « ${texte[i]} » après un champ entre guillemets`);
      i++;
    } else {
      const fin = texte.indexOf(';', i);
      if (fin < 0) {
        champs.push(texte.slice(i));
        return champs;
      }
      champs.push(texte.slice(i, fin));
      i = fin + 1;
    }
  }
}

export function verifierPremiereLigne(texte: string, fichier: string): void {
  if (!/^finess;etalab;/.test(texte)) throw new Error(`${fichier} : ce n'est pas un extrait FINESS etalab (première ligne « ${texte.slice(0, 40)} », attendu « finess;etalab;… »)`);
}

const DATE = /^(\d{4}-\d{2}-\d{2}|\d{2}\/\d{2}\/\d{4})$/;

/** ISO date from YYYY-MM-DD or the older dd/MM/yyyy; undefined when empty. */
export function dateIso(texte: string): string | undefined {
  if (!texte) return undefined;
  if (!DATE.test(texte)) throw new LigneRejetee(`date invalide : « ${texte} »`);
  const iso = texte.includes('/') ? texte.split('/').reverse().join('-') : texte;
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso) throw new LigneRejetee(`date invalide : « ${texte} »`);
  return iso;
}

export function lireEnregistrement(texte: string, numero: number): EnregistrementFiness | undefined {
  const c = decouperCsv(texte);
  if (c[0] === 'structureet') {
    // 32 fields; older files end on the trailing ';' in place of numuai.
    if (c.length !== 32) throw new LigneRejetee(`structureet : ${c.length} champs au lieu de 32`);
    const e: Etablissement = {
      numero, nofinesset: c[1]!, nofinessej: c[2]!, rs: c[3]!, rslongue: c[4]!, complrs: c[5]!, compldistrib: c[6]!, numvoie: c[7]!,
      typvoie: c[8]!, voie: c[9]!, compvoie: c[10]!, lieuditbp: c[11]!, commune: c[12]!, departement: c[13]!, ligneacheminement: c[15]!,
      telephone: c[16]!, telecopie: c[17]!, categetab: c[18]!, libcategetab: c[19]!, categagretab: c[20]!, siret: c[22]!, codeape: c[23]!,
      codemft: c[24]!, codesph: c[26]!, dateouv: c[28]!, datemaj: c[30]!,
    };
    if (!finessValide(e.nofinesset)) throw new LigneRejetee(`numéro FINESS d'établissement invalide : « ${e.nofinesset} »`);
    if (e.nofinessej && !finessValide(e.nofinessej)) throw new LigneRejetee(`numéro FINESS d'entité juridique invalide : « ${e.nofinessej} »`);
    if (e.siret && !siretValide(e.siret)) throw new LigneRejetee(`SIRET invalide : « ${e.siret} »`);
    if (!e.rs) throw new LigneRejetee('raison sociale vide');
    e.dateouv = dateIso(e.dateouv) ?? '';
    e.datemaj = dateIso(e.datemaj) ?? '';
    return { type: 'structureet', etablissement: e };
  }
  if (c[0] === 'geolocalisation') {
    if (c.length !== 6) throw new LigneRejetee(`geolocalisation : ${c.length} champs au lieu de 6`);
    const [, nofinesset, cx, cy, source] = c as [string, string, string, string, string];
    if (!finessValide(nofinesset)) throw new LigneRejetee(`numéro FINESS invalide : « ${nofinesset} »`);
    const x = Number(cx);
    const y = Number(cy);
    if (!cx || !cy || !Number.isFinite(x) || !Number.isFinite(y)) throw new LigneRejetee(`coordonnées invalides : « ${cx} », « ${cy} »`);
    // Overseas departments use local UTM projections (the source says which); only Lambert-93 is converted.
    const lambert = /LAMBERT_93/i.test(source) && dansLambert93(x, y);
    return { type: 'geolocalisation', geo: { nofinesset, source, position: lambert ? versWgs84(x, y) : undefined } };
  }
  // Other sections (none in cs1100507 today) are not ours to judge.
  return undefined;
}
