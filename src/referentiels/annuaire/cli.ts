// `socle import rpps|finess` and `socle annuaire generate`.
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Command } from '../../cli/index.ts';
import type { Bilan } from './ecriture.ts';

const USAGE_IMPORT = `Usage:
  socle import rpps <fichier|dossier> [--savoir-faire FICHIER] [--diplomes FICHIER] [--batch N]
      Importe l'extraction RPPS (PS_LibreAcces_Personne_activite_*.txt ; un dossier : les trois fichiers
      PS_LibreAcces_* y sont pris par leur nom) en Practitioner, PractitionerRole et Organization.
  socle import finess <fichier> [--batch N]
      Importe l'extraction FINESS etalab-cs1100507-stock-*.csv en Organization (EG rattachées à leur EJ).

  Une structure à numéro FINESS est une seule Organization pour les deux imports, quel que soit l'ordre :
  les données FINESS priment, le RPPS y ajoute ses identifiants et son secteur d'activité.

  Idempotent (un fichier réimporté ne crée aucune version), delta (les lignes modifiées mettent à jour,
  ce qui a disparu devient active=false), reprenable (relancer la même commande après une interruption
  reprend après le dernier lot validé). Base : DATABASE_URL, ou la base embarquée (SOCLE_DATA_DIR) —
  arrêter le serveur qui l'utilise avant un import dans la base embarquée.`;

const USAGE_ANNUAIRE = `Usage:
  socle annuaire generate --out DOSSIER [--seed S] [--professionals N] [--structures M] [--departements 69,01]
      Écrit une extraction synthétique déterministe aux formats publics : PS_LibreAcces_Personne_activite
      (56 colonnes), PS_LibreAcces_SavoirFaire, PS_LibreAcces_Dipl_AutExerc et FINESS etalab-cs1100507
      (Latin-1, géolocalisation en Lambert-93). Défauts : 10000 professionnels, 1000 structures.
      Échelle nationale : --professionals 1200000 --structures 100000.`;

function lireOptions(args: string[], avecValeur: string[]): { options: Map<string, string>; positionnels: string[] } | string {
  const options = new Map<string, string>();
  const positionnels: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positionnels.push(a);
      continue;
    }
    const [nom, jointe] = a.split(/=(.*)/su, 2) as [string, string | undefined];
    if (!avecValeur.includes(nom)) return `Option inconnue « ${a} »`;
    const valeur = jointe ?? args[++i];
    if (valeur === undefined) return `L'option ${nom} attend une valeur`;
    options.set(nom, valeur);
  }
  return { options, positionnels };
}

function entier(valeur: string | undefined, defaut: number, nom: string): number {
  if (valeur === undefined) return defaut;
  const n = Number(valeur);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${nom} attend un entier positif : « ${valeur} »`);
  return n;
}

function resume(source: string, b: Bilan): string {
  const lignes = [
    `Import ${source} (run ${b.run}${b.reprisApres > 0 ? `, repris après la ligne ${b.reprisApres}` : ''}) : ${b.lignes} lignes en ${b.secondes.toFixed(1)} s (${b.lignesParSeconde} lignes/s)`,
    `  créées ${b.crees}, modifiées ${b.modifies}, inchangées ${b.inchanges}, désactivées ${b.desactives}, rejetées ${b.rejetes}`,
    ...b.premiersRejets.slice(0, 10).map((r) => `  rejet ${r.fichier}:${r.ligne} : ${r.motif}`),
  ];
  return lignes.join('\n');
}

export const importCommand: Command = {
  name: 'import',
  summary: 'Annuaire Santé: import an RPPS (PS_LibreAcces) or FINESS (etalab cs1100507) extract (import rpps|finess)',
  usage: USAGE_IMPORT,
  async run(args) {
    const [source, ...reste] = args;
    const lu = lireOptions(reste, ['--savoir-faire', '--diplomes', '--batch']);
    if (typeof lu === 'string' || (source !== 'rpps' && source !== 'finess') || lu.positionnels.length !== 1) {
      console.error(`${typeof lu === 'string' ? `${lu}\n\n` : ''}${USAGE_IMPORT}`);
      return 2;
    }
    const lot = lu.options.has('--batch') ? entier(lu.options.get('--batch'), 0, '--batch') : undefined;
    for (const f of [lu.positionnels[0]!, lu.options.get('--savoir-faire'), lu.options.get('--diplomes')]) {
      if (f && !existsSync(f)) {
        console.error(`socle import : fichier introuvable « ${f} »`);
        return 1;
      }
    }
    const chemin = lu.positionnels[0]!;
    const { fichiersRpps, importerRpps, verifierEntetesRpps } = await import('./import-rpps.ts');
    const { importerFiness, verifierEnteteFiness } = await import('./import-finess.ts');
    const rpps = source === 'rpps' ? fichiersRpps(chemin, lu.options.get('--savoir-faire'), lu.options.get('--diplomes')) : undefined;
    if (rpps) await verifierEntetesRpps(rpps);
    else await verifierEnteteFiness(chemin);
    const { loadConfig } = await import('../../config.ts');
    const { createPlatform } = await import('../../server.ts');
    const config = loadConfig(process.env, { logLevel: process.env.LOG_LEVEL ?? 'warn' });
    const platform = await createPlatform(config);
    try {
      const debut = performance.now();
      let dernier = 0;
      const surProgression = (lignes: number) => {
        if (performance.now() - dernier < 2000) return;
        dernier = performance.now();
        process.stderr.write(`\r${lignes} lignes (${Math.round(lignes / ((dernier - debut) / 1000))}/s)   `);
      };
      const bilan: Bilan = rpps ? await importerRpps(platform.fhir, rpps, { lot, surProgression }) : await importerFiness(platform.fhir, chemin, { lot, surProgression });
      if (dernier > 0) process.stderr.write('\n');
      console.log(resume(source, bilan));
      return 0;
    } finally {
      await platform.close();
    }
  },
};

export const annuaireCommand: Command = {
  name: 'annuaire',
  summary: 'Annuaire Santé: write synthetic RPPS and FINESS extracts in the public layouts (annuaire generate)',
  usage: USAGE_ANNUAIRE,
  async run(args) {
    const [sous, ...reste] = args;
    const lu = lireOptions(reste, ['--out', '--seed', '--professionals', '--structures', '--departements']);
    if (sous !== 'generate' || typeof lu === 'string' || !lu.options.get('--out') || lu.positionnels.length > 0) {
      console.error(`${typeof lu === 'string' ? `${lu}\n\n` : ''}${USAGE_ANNUAIRE}`);
      return 2;
    }
    const { genererExtraits } = await import('./generateur.ts');
    const debut = performance.now();
    const fichiers = await genererExtraits({
      dossier: lu.options.get('--out')!,
      graine: lu.options.get('--seed') ?? 'socle',
      professionnels: entier(lu.options.get('--professionals'), 10_000, '--professionals'),
      structures: entier(lu.options.get('--structures'), 1_000, '--structures'),
      departements: lu.options.get('--departements')?.split(',').map((d) => d.trim()),
    });
    const s = ((performance.now() - debut) / 1000).toFixed(1);
    console.log(`${Object.values(fichiers).join('\n')}\n(${s} s)`);
    return 0;
  },
};
