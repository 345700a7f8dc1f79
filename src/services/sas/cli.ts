// `socle sas`: the reference vendor server (vendor-sim), the vendor conformance checker (check) and the
// rebuild of the care-offer index (reindex-offres).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Command } from '../../cli/index.ts';
import { FAUTES, type FauteSimulee } from './editeur/index.ts';

const USAGE = `Usage:
  socle sas vendor-sim [--port 8090] [--host 127.0.0.1] [--praticiens 25] [--seed s] [--latence MS]
                       [--fault none|hang|invalid|http-500|slow] [--tls] [--sas-rdv URL]
                       [--sso-issuer URL --sso-client ID --sso-secret S]
      Serveur éditeur de référence : agendas synthétiques (aujourd'hui + 2 jours) servis selon le guide SAS
      (GET /Slot INT_R01/INT_R04, GET /Schedule SOS Médecins), comptes régulateurs V1 (POST/PUT /Practitioner),
      page de réservation /reservation qui pousse les rendez-vous (V3) vers --sas-rdv (ex. https://hote/sas/fhir).
      --tls : HTTPS avec authentification mutuelle, certificats de la PKI de développement (SOCLE_PKI_DIR).
      --sso-* : délégation d'authentification (V2) : la page de réservation identifie le régulateur auprès de
      cet émetteur (ex. http://localhost:8080/auth/pro ; client enregistré avec la redirection <url>/sso/retour).
  socle sas check <url-de-base> [--rpps a,b,c,d] [--sos s1,s2] [--cert f --key f] [--ca f] [--sans-v1] [--json]
                  [--types-creneau PUBLIC,PRO,SNP] [--types-consultation AMB,HH,VR]
      Vérifie un serveur éditeur avec les contrôles du kit de test officiel SAS. --rpps : un PS à un lieu,
      un PS à deux lieux, puis deux autres PS (découverts par GET /Practitioner sinon). --types-* : types
      que la solution déclare proposer, comparés à ceux renvoyés. --sans-v1 : ne crée pas de comptes
      régulateurs. Code de sortie 0 si tout passe, 1 sinon.
  socle sas reindex-offres
      Recalcule l'index des offres de soins de la recherche (table sas_offre) à partir des PractitionerRole
      et HealthcareService stockés, par lots (reprise là où il s'est arrêté s'il est interrompu).`;


async function vendorSim(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: {
    port: { type: 'string', default: '8090' }, host: { type: 'string', default: '127.0.0.1' },
    praticiens: { type: 'string', default: '25' }, seed: { type: 'string' }, latence: { type: 'string' },
    fault: { type: 'string', default: 'none' }, tls: { type: 'boolean', default: false }, 'sas-rdv': { type: 'string' },
    'sso-issuer': { type: 'string' }, 'sso-client': { type: 'string' }, 'sso-secret': { type: 'string' },
  } });
  const ssoValeurs = [values['sso-issuer'], values['sso-client'], values['sso-secret']];
  if (ssoValeurs.some(Boolean) && !ssoValeurs.every(Boolean)) throw new Error('--sso-issuer, --sso-client and --sso-secret go together');
  const sso = values['sso-issuer'] ? { issuer: values['sso-issuer'], clientId: values['sso-client']!, clientSecret: values['sso-secret']! } : undefined;
  const fault = values.fault as FauteSimulee;
  if (!FAUTES.includes(fault)) throw new Error(`--fault must be one of ${FAUTES.join(', ')}`);
  const nombre = (nom: string, v: string | undefined) => {
    const n = Number(v);
    if (v !== undefined && (!Number.isInteger(n) || n < 0)) throw new Error(`--${nom} expects a whole number, got "${v}"`);
    return v === undefined ? undefined : n;
  };
  const { startVendorSim } = await import('./editeur/index.ts');
  let tls;
  let sasClient;
  if (values.tls || values['sas-rdv']?.startsWith('https:')) {
    const { loadConfig } = await import('../../config.ts');
    const { ouvrirPki } = await import('../../pki/pki.ts');
    const pki = await ouvrirPki(loadConfig().pkiDir);
    if (values.tls) tls = { ...(await pki.emettreServeur(['localhost', values.host!])), ca: pki.ca };
    if (values['sas-rdv']?.startsWith('https:')) {
      sasClient = { ...(await pki.emettreOrganisation('EDITEUR-SIMULE', { identifiant: '3' + '1'.repeat(14), nom: 'EDITEUR SIMULE' })), ca: pki.ca };
    }
  }
  const sim = await startVendorSim({
    port: nombre('port', values.port), host: values.host, seed: values.seed, praticiens: nombre('praticiens', values.praticiens),
    latencyMs: nombre('latence', values.latence), fault, tls, sasAppointmentUrl: values['sas-rdv'], sasClient, sso,
  });
  console.log(`Simulateur éditeur SAS sur ${sim.url} (faute : ${fault}${tls ? ', TLS mutuel' : ''})`);
  console.log(`  PS (RPPS) : ${sim.praticiens.map((p) => p.rpps).join(', ')}`);
  console.log(`  CPTS (SIRET) : ${sim.cpts.map((c) => c.siret).join(', ')} ; SOS Médecins (SIRET) : ${sim.sos.map((s) => s.siret).join(', ')}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await sim.close();
  return 0;
}

async function check(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {
    rpps: { type: 'string' }, sos: { type: 'string' }, 'types-creneau': { type: 'string' }, 'types-consultation': { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, ca: { type: 'string' },
    'sans-v1': { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
  } });
  const base = positionals[0];
  if (!base || positionals.length > 1 || !/^https?:\/\//.test(base)) {
    console.error(`one base URL (http:// or https://) expected\n\n${USAGE}`);
    return 2;
  }
  if (!!values.cert !== !!values.key) {
    console.error('--cert and --key go together');
    return 2;
  }
  const liste = (v?: string) => v?.split(',').map((x) => x.trim()).filter(Boolean);
  const { verifierEditeur, formaterRapport } = await import('./conformite/index.ts');
  const rapport = await verifierEditeur({
    base, rpps: liste(values.rpps), sos: liste(values.sos), v1: !values['sans-v1'],
    declares: { typesCreneau: liste(values['types-creneau']), typesConsultation: liste(values['types-consultation']) },
    identite: values.cert ? { cert: readFileSync(values.cert, 'utf8'), key: readFileSync(values.key!, 'utf8') } : undefined,
    ca: values.ca ? readFileSync(values.ca, 'utf8') : undefined,
  });
  console.log(values.json ? JSON.stringify(rapport, null, 2) : formaterRapport(rapport));
  return rapport.succes ? 0 : 1;
}

async function reindexOffres(args: string[]): Promise<number> {
  parseArgs({ args, strict: true, options: {} });
  const { loadConfig } = await import('../../config.ts');
  const { openDatabase } = await import('../../db/index.ts');
  const { ensureResourceTables } = await import('../../fhir/schema.ts');
  const { remplirOffres } = await import('./recherche/index-offres.ts');
  const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir });
  try {
    await ensureResourceTables(db);
    const debut = Date.now();
    const lus = await remplirOffres(db, { depuisLeDebut: true, progression: (type, n) => process.stderr.write(`\r${`${type} : ${n}`.padEnd(40)}`) });
    process.stderr.write('\n');
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sas_offre');
    console.log(`${lus} ressources lues, ${rows[0].n} offres indexées en ${((Date.now() - debut) / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    await db.close();
  }
}

const SOUS_COMMANDES: Record<string, (args: string[]) => Promise<number>> = { 'vendor-sim': vendorSim, check, 'reindex-offres': reindexOffres };

export const sasCommand: Command = {
  name: 'sas',
  summary: "SAS (service d'accès aux soins): reference vendor server, vendor conformance checker, care-offer index rebuild",
  usage: USAGE,
  async run(args) {
    const [sous, ...reste] = args;
    const executer = sous ? SOUS_COMMANDES[sous] : undefined;
    if (!executer) {
      console.error(USAGE);
      return 2;
    }
    try {
      return await executer(reste);
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        console.error(`${(err as Error).message}\n\n${USAGE}`);
        return 2;
      }
      throw err;
    }
  },
};
