// `socle ins`: check a matricule INS, or write a synthetic population for the reference identity base.
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { InsError } from '../referentiels/ins/erreurs.ts';
import { formatNir, parseNir, type NirParts } from '../referentiels/ins/nir.ts';
import { genererPopulation, type IdentiteSynthetique } from '../referentiels/ins/population.ts';
import type { Command } from './index.ts';

const USAGE = `Usage:
  socle ins check <matricule> [--nia]
      Décode un NIR (ou un NIA avec --nia) de 15 caractères ; les espaces et points sont ignorés.
      Code de sortie 0 si valide, 1 si invalide (le motif précis est écrit sur la sortie d'erreur).
  socle ins generate [--count N] [--seed S] [--format ndjson|csv] [--homonymes PART] [--etranger PART]
                     [--communes FICHIER] [--stats]
      Écrit N identités synthétiques (défaut 10) sur la sortie standard, déterministes pour une graine S.
      --homonymes : part d'homonymes (défaut 0.02) ; --etranger : part de personnes nées à l'étranger (défaut 0.1) ;
      --communes : chemin de communes.csv ; --stats : débit sur la sortie d'erreur.
  socle ins load-reference [--count N] [--seed S] [--replace] [--batch N]
      Charge les N premières identités (défaut 5000) de la population de graine S (défaut socle-demo, celle des
      patients de démonstration) dans la base de référence de l'INSi (DATABASE_URL, ou la base embarquée).
      Reprend là où un chargement interrompu s'est arrêté ; un N plus grand étend la base. --replace remplace une
      base d'une autre graine ; --batch : identités par transaction (défaut 5000).`;

const COLONNES = ['nir', 'oid', 'nomNaissance', 'prenoms', 'sexe', 'dateNaissance', 'lieuNaissance', 'homonymeDe'] as const;

export const insCommand: Command = {
  name: 'ins',
  summary: 'INS: check a NIR/NIA (check), generate a synthetic identity population (generate), load the INSi reference base (load-reference)',
  usage: USAGE,
  async run(args) {
    const [sous, ...reste] = args;
    if (sous === 'check') return check(reste);
    if (sous === 'generate') return generate(reste);
    if (sous === 'load-reference') return chargerReferenceCli(reste);
    console.error(sous ? `socle ins : sous-commande inconnue « ${sous} »\n\n${USAGE}` : USAGE);
    return 2;
  },
};

function check(args: string[]): number {
  const nia = args.includes('--nia');
  // The matricule may arrive in groups ("1 84 12 …") when the shell splits it.
  const valeur = args.filter((a) => a !== '--nia').join('');
  if (!valeur) {
    console.error(USAGE);
    return 2;
  }
  let parts: NirParts;
  try {
    parts = parseNir(valeur, nia ? 'NIA' : 'NIR');
  } catch (err) {
    if (!(err instanceof InsError)) throw err;
    console.error(`${err.message} [${err.code}]`);
    return 1;
  }
  console.log(decrire(parts));
  return 0;
}

function decrire(p: NirParts): string {
  const sexe = `${p.codeSexe} (${p.sexe === 'M' ? 'masculin' : 'féminin'}${p.provisoire ? ', numéro provisoire' : ''})`;
  const mois = p.moisConnu ? p.mois : `${p.mois} (mois de naissance inconnu)`;
  const lieu = p.neEtranger
    ? `${p.lieuNaissance} (naissance à l'étranger : code pays INSEE)`
    : `${p.lieuNaissance} (département ${p.departement}, commune ${p.commune})`;
  return [
    `${p.type} ${formatNir(p.nir)} : valide`,
    `  sexe     ${sexe}`,
    `  année    ${p.annee}`,
    `  mois     ${mois}`,
    `  lieu     ${lieu}`,
    `  ordre    ${p.ordre}`,
    `  clé      ${p.cle}`,
  ].join('\n');
}

async function generate(args: string[]): Promise<number> {
  const options = lireOptions(args, ['--count', '--seed', '--format', '--homonymes', '--etranger', '--communes'], ['--stats']);
  if (typeof options === 'string') {
    console.error(`${options}\n\n${USAGE}`);
    return 2;
  }
  const format = options.get('--format') ?? 'ndjson';
  const nombre = Number(options.get('--count') ?? 10);
  if (format !== 'ndjson' && format !== 'csv') {
    console.error(`Format inconnu « ${format} » : ndjson ou csv`);
    return 2;
  }
  if (!Number.isInteger(nombre) || nombre < 0) {
    console.error(`--count attend un entier positif : « ${options.get('--count')} »`);
    return 2;
  }
  const partHomonymes = Number(options.get('--homonymes') ?? 0.02);
  const partNesEtranger = Number(options.get('--etranger') ?? 0.1);
  for (const [nom, part] of [['--homonymes', partHomonymes], ['--etranger', partNesEtranger]] as const) {
    if (!(part >= 0 && part < 1)) {
      console.error(`${nom} attend une part entre 0 et 1 (exclu) : « ${options.get(nom)} »`);
      return 2;
    }
  }
  const population = genererPopulation({
    nombre,
    graine: options.get('--seed') ?? 'socle',
    partHomonymes,
    partNesEtranger,
    communes: options.get('--communes'),
  });

  const debut = performance.now();
  const lignes = format === 'csv' ? enCsv(population) : enNdjson(population);
  await ecrire(lignes);
  if (options.has('--stats')) {
    const secondes = (performance.now() - debut) / 1000;
    console.error(`${nombre} identités en ${secondes.toFixed(2)} s (${Math.round(nombre / secondes)} identités/s)`);
  }
  return 0;
}

function* enNdjson(population: Iterable<IdentiteSynthetique>): Generator<string> {
  for (const identite of population) yield JSON.stringify(identite);
}

function* enCsv(population: Iterable<IdentiteSynthetique>): Generator<string> {
  yield COLONNES.join(',');
  for (const identite of population) {
    yield COLONNES.map((c) => {
      const v = identite[c];
      return champCsv(Array.isArray(v) ? v.join(' ') : (v ?? ''));
    }).join(',');
  }
}

function champCsv(v: string): string {
  return /[",\n]/u.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

// Writes in 64 KiB batches, honours back-pressure, and stops quietly when the reader goes away (`| head`).
async function ecrire(lignes: Iterable<string>): Promise<void> {
  const sortie = process.stdout;
  let erreur: NodeJS.ErrnoException | undefined;
  const surErreur = (err: NodeJS.ErrnoException) => {
    erreur = err;
  };
  // Stays attached: an EPIPE can arrive after the last write, and must not crash the process.
  sortie.on('error', surErreur);
  let tampon = '';
  for (const ligne of lignes) {
    tampon += ligne + '\n';
    if (tampon.length < 65536) continue;
    if (!sortie.write(tampon)) await once(sortie, 'drain').catch(() => undefined);
    tampon = '';
    if (erreur) break;
  }
  if (tampon && !erreur) sortie.write(tampon);
  if (erreur && erreur.code !== 'EPIPE') throw erreur;
}

async function chargerReferenceCli(args: string[]): Promise<number> {
  const options = lireOptions(args, ['--count', '--seed', '--batch'], ['--replace']);
  if (typeof options === 'string') {
    console.error(`${options}\n\n${USAGE}`);
    return 2;
  }
  const { POPULATION_DEMO, chargerReference } = await import('../referentiels/ins/reference.ts');
  const nombre = Number(options.get('--count') ?? POPULATION_DEMO.nombre);
  const taillePaquet = Number(options.get('--batch') ?? 5000);
  for (const [nom, n] of [['--count', nombre], ['--batch', taillePaquet]] as const) {
    if (!Number.isInteger(n) || n < (nom === '--batch' ? 1 : 0)) {
      console.error(`${nom} attend un entier positif : « ${options.get(nom)} »`);
      return 2;
    }
  }
  const { loadConfig } = await import('../config.ts');
  const { openDatabase } = await import('../db/index.ts');
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir });
  try {
    const debut = performance.now();
    let dernier = 0;
    const bilan = await chargerReference(db, {
      nombre,
      graine: options.get('--seed') ?? POPULATION_DEMO.graine,
      remplacer: options.has('--replace'),
      taillePaquet,
      surProgression(charges, total) {
        if (performance.now() - dernier < 1000 && charges < total) return;
        dernier = performance.now();
        const debit = Math.round(charges / ((dernier - debut) / 1000));
        process.stderr.write(`\r${charges} / ${total} identités (${debit}/s)   `);
      },
    });
    if (bilan.ajoutes > 0) process.stderr.write('\n');
    const secondes = (performance.now() - debut) / 1000;
    const reprise = bilan.deja > 0 ? `, ${bilan.deja} déjà présentes` : '';
    console.log(`Base de référence INS (graine « ${bilan.graine} ») : ${bilan.total} identités, ${bilan.ajoutes} ajoutées en ${secondes.toFixed(1)} s${reprise}`);
    return 0;
  } finally {
    await db.close();
  }
}

function lireOptions(args: string[], avecValeur: string[], drapeaux: string[]): Map<string, string> | string {
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const [nom, valeurJointe] = args[i]!.split(/=(.*)/su, 2) as [string, string | undefined];
    if (drapeaux.includes(nom) && valeurJointe === undefined) {
      options.set(nom, '');
    } else if (avecValeur.includes(nom)) {
      const valeur = valeurJointe ?? args[++i];
      if (valeur === undefined) return `L'option ${nom} attend une valeur`;
      options.set(nom, valeur);
    } else {
      return `Option inconnue « ${args[i]} »`;
    }
  }
  return options;
}
