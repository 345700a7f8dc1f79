// `socle pki`: the development PKI from the command line, e.g. to give a client its INSi certificate.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../cli/index.ts';

const USAGE = `Usage:
  socle pki issue client [--cn INSI-AUTO|INSI-MANU|NOM] --structure ID --name "RAISON SOCIALE" [--departement "Paris (75)"]
                         [--days N] [--out DOSSIER]
      Certificat d'organisation (authentification client TLS) émis par l'autorité de la plateforme, sujet
      CN=<cn>, OU=<identifiant national de structure>, O=<raison sociale>, ST=<département>, C=FR comme un certificat
      IGC-Santé. --cn INSI-AUTO (défaut) ou INSI-MANU donne accès au téléservice INSi.
  socle pki issue cps --idnat IDNAT_PS --nom NOM --prenom PRENOM [--days N] [--out DOSSIER]
      Certificat d'authentification d'une carte CPS (OU=CPS, CN=<idNat_PS>) : présenté en TLS mutuel sur
      SOCLE_TLS_PORT, il connecte le professionnel à /auth/pro (« Se connecter avec une carte CPS ») et
      l'identifie auprès de l'API FHIR. Le professionnel doit figurer à l'Annuaire.
  socle pki issue server --hosts NOM[,NOM…] [--days N] [--out DOSSIER]
      Certificat de serveur TLS pour ces noms d'hôte ou adresses IP.
  socle pki ca
      Certificat de l'autorité (PEM), à installer comme autorité de confiance chez les clients.

  Sans --out, le certificat, sa clé privée et le certificat de l'autorité sont écrits en PEM sur la sortie standard ;
  avec --out, dans DOSSIER/<nom>.pem, DOSSIER/<nom>.key.pem (mode 600) et DOSSIER/ca.pem.
  L'autorité est celle de SOCLE_PKI_DIR (défaut data/run/pki), créée au premier usage.`;

export const pkiCommand: Command = {
  name: 'pki',
  summary: 'Development PKI standing in for IGC-Santé: issue client (INSI-AUTO/INSI-MANU), CPS card and server certificates',
  usage: USAGE,
  async run(args) {
    const [sous, genre, ...reste] = args;
    const { loadConfig } = await import('../config.ts');
    const { ouvrirPki } = await import('./pki.ts');
    if (sous === 'ca' && genre === undefined) {
      process.stdout.write((await ouvrirPki(loadConfig().pkiDir)).ca);
      return 0;
    }
    if (sous !== 'issue' || (genre !== 'client' && genre !== 'server' && genre !== 'cps')) {
      console.error(USAGE);
      return 2;
    }
    const options = lireOptions(reste);
    if (typeof options === 'string') {
      console.error(`${options}\n\n${USAGE}`);
      return 2;
    }
    const jours = Number(options.get('--days') ?? 3 * 365);
    if (!Number.isInteger(jours) || jours < 1) {
      console.error(`--days attend un nombre de jours : « ${options.get('--days')} »`);
      return 2;
    }
    const pki = await ouvrirPki(loadConfig().pkiDir);
    let nom: string;
    let certificat;
    if (genre === 'client') {
      const structure = options.get('--structure');
      const raisonSociale = options.get('--name');
      if (!structure || !raisonSociale) {
        console.error(`--structure et --name sont obligatoires pour un certificat client\n\n${USAGE}`);
        return 2;
      }
      nom = options.get('--cn') ?? 'INSI-AUTO';
      certificat = await pki.emettreOrganisation(nom, { identifiant: structure, nom: raisonSociale, departement: options.get('--departement') }, jours);
    } else if (genre === 'cps') {
      const [idNatPs, nomPorteur, prenom] = [options.get('--idnat'), options.get('--nom'), options.get('--prenom')];
      if (!idNatPs || !nomPorteur || !prenom) {
        console.error(`--idnat, --nom et --prenom sont obligatoires pour une carte CPS\n\n${USAGE}`);
        return 2;
      }
      nom = `cps-${idNatPs}`;
      certificat = await pki.emettreCarteCps({ idNatPs, nom: nomPorteur, prenom }, jours);
    } else {
      const hotes = (options.get('--hosts') ?? '').split(',').map((h) => h.trim()).filter(Boolean);
      if (hotes.length === 0) {
        console.error(`--hosts est obligatoire pour un certificat serveur\n\n${USAGE}`);
        return 2;
      }
      nom = hotes[0]!;
      certificat = await pki.emettreServeur(hotes, jours);
    }
    const dossier = options.get('--out');
    if (!dossier) {
      process.stdout.write(certificat.cert + certificat.key + pki.ca);
      return 0;
    }
    const fichier = nom.replace(/[^\w.-]+/gu, '_');
    mkdirSync(dossier, { recursive: true });
    writeFileSync(join(dossier, `${fichier}.pem`), certificat.cert);
    writeFileSync(join(dossier, `${fichier}.key.pem`), certificat.key, { mode: 0o600 });
    writeFileSync(join(dossier, 'ca.pem'), pki.ca);
    console.log(`${join(dossier, `${fichier}.pem`)}, ${join(dossier, `${fichier}.key.pem`)} et ${join(dossier, 'ca.pem')} écrits`);
    return 0;
  },
};

function lireOptions(args: string[]): Map<string, string> | string {
  const connues = ['--cn', '--structure', '--name', '--departement', '--days', '--out', '--hosts', '--idnat', '--nom', '--prenom'];
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const [nom, jointe] = args[i]!.split(/=(.*)/su, 2) as [string, string | undefined];
    if (!connues.includes(nom)) return `Option inconnue « ${args[i]} »`;
    const valeur = jointe ?? args[++i];
    if (valeur === undefined) return `L'option ${nom} attend une valeur`;
    options.set(nom, valeur);
  }
  return options;
}
