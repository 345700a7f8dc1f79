// The SAS part of the quick start (SOCLE_DEMO): three simulated vendor solutions started in
// process, each serving the agendas of some of the demo doctors and registered with the
// aggregator, so that a regulator sees merged slots from several vendors; the demo professional
// habilitated as regulator; half of the demo doctors declared as SAS participants; the portal
// registered as a client of the professional issuer. With the HTTPS listener (SOCLE_TLS_PORT) the
// simulators push their appointments back over mutual TLS (V3) with certificates of the platform CA;
// without it, with a bearer token of a demo system client holding system/Appointment.write.
import { X509Certificate } from 'node:crypto';
import type { Practitioner } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { demoEntries } from '../../../demo/seed.ts';
import type { TlsPlateforme } from '../../../pki/tls.ts';
import type { Agregateur } from '../agregateur/index.ts';
import { Clients } from '../../../auth/clients.ts';
import { masterKey, Sealer } from '../../../auth/secrets.ts';
import { SCOPE_V3 } from '../agregateur/v3.ts';
import { startVendorSim, type VendorSim } from '../editeur/index.ts';
import { RPPS_SYSTEM } from '../recherche/offres.ts';
import { habiliterRegulateur } from './admin.ts';
import type { Portail } from './acces.ts';

const EDITEURS = [
  { id: 'demo-agenda-liberal', nom: 'Agenda Libéral (simulé)' },
  { id: 'demo-cabinet-connect', nom: 'Cabinet Connect (simulé)' },
  { id: 'demo-rdv-sante', nom: 'RDV Santé (simulé)' },
];

/** The demo doctors (profession 10), in the demo set's order. */
function medecinsDemo(): Practitioner[] {
  return demoEntries(0)
    .map((e) => e.resource as Practitioner)
    .filter((r) => r.resourceType === 'Practitioner' && r.qualification?.some((q) => q.code.coding?.some((c) => c.code === '10')));
}

/** Starts the demo once the platform is ready (demo data loaded, HTTPS port bound); stops the simulators when it closes. */
export function demoSas(app: FastifyInstance, p: Portail, agregateur: Agregateur, tls: TlsPlateforme | undefined): void {
  const sims: VendorSim[] = [];
  app.addHook('onReady', async () => demarrer(p, agregateur, tls, sims));
  app.addHook('onClose', async () => {
    await Promise.all(sims.map((s) => s.close()));
  });
}

// Demo data only: a fixed secret, like the demo relying party's.
const CLIENT_V3_DEMO = { id: 'sas-editeurs-demo', secret: 'sas-editeurs-demo-secret' };
const CLIENT_SSO_DEMO = { id: 'sas-editeurs-sso-demo', secret: 'sas-editeurs-sso-demo-secret' };
const clientsDemo = (p: Portail) => new Clients(p.core.db, new Sealer(masterKey(p.core.config, p.core.db)));

/** A token of the demo vendors' client (client_credentials); the base URL is read when a booking is pushed. */
async function jetonV3(p: Portail): Promise<string> {
  const res = await fetch(`${p.config.baseUrl}/auth/pro/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${CLIENT_V3_DEMO.id}:${CLIENT_V3_DEMO.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE_V3 }),
  });
  if (!res.ok) throw new Error(`demo V3 token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

const idnat = (r: Practitioner) => r.identifier!.find((i) => i.system === RPPS_SYSTEM)!.value!;

async function demarrer(p: Portail, agregateur: Agregateur, tls: TlsPlateforme | undefined, sims: VendorSim[]): Promise<void> {
  const medecins = medecinsDemo();
  // V2: the simulated vendors are relying parties of the professional issuer (single sign-on).
  await clientsDemo(p).upsert({ clientId: CLIENT_SSO_DEMO.id, secret: CLIENT_SSO_DEMO.secret, name: 'Éditeurs simulés (connexion des régulateurs)', issuers: ['pro'], redirectUris: ['http://127.0.0.1:*'], grantTypes: ['authorization_code'], scopes: ['openid', 'scope_all'], authMethod: 'client_secret_basic' });
  const sso = { issuer: `${p.config.baseUrl}/auth/pro`, clientId: CLIENT_SSO_DEMO.id, clientSecret: CLIENT_SSO_DEMO.secret };
  for (const [n, editeur] of EDITEURS.entries()) {
    // Each doctor has one vendor; every fourth one a second, whose slots merge on the same card.
    const siens = medecins.filter((_, i) => i % EDITEURS.length === n || (i % 4 === 0 && (i + 1) % EDITEURS.length === n));
    const praticiens = siens.map((r) => ({ rpps: idnat(r).slice(1), nom: r.name![0].family!.toUpperCase(), prenom: r.name![0].given![0], specialite: 'SM54' }));
    const cert = tls ? await tls.pki.emettreOrganisation(editeur.nom, { identifiant: `3${String(31000000000000 + n).padStart(14, '0')}`, nom: editeur.nom }) : undefined;
    const sim = await startVendorSim({
      seed: editeur.id,
      praticiens,
      sso,
      ...(tls && cert
        ? { sasAppointmentUrl: `https://localhost:${tls.port()}/sas/fhir`, sasClient: { ...cert, ca: tls.pki.ca } }
        : { sasAppointmentUrl: `${p.config.baseUrl}/sas/fhir`, sasClient: { bearer: () => jetonV3(p) } }),
    });
    sims.push(sim);
    await agregateur.editeurs.enregistrer({
      id: editeur.id,
      nom: editeur.nom,
      baseUrl: sim.url,
      type: 'R01',
      rpps: siens.map(idnat),
      ...(cert ? { certificatV3: new X509Certificate(cert.cert).subject.split('\n').reverse().join(', ') } : {}),
    });
  }
  if (!tls) await clientsDemo(p).upsert({ clientId: CLIENT_V3_DEMO.id, secret: CLIENT_V3_DEMO.secret, name: 'Éditeurs simulés (démo SAS)', issuers: ['pro'], grantTypes: ['client_credentials'], scopes: [SCOPE_V3], authMethod: 'client_secret_basic' });

  // The demo professional (the first demo practitioner, who logs in with the demo e-CPS) regulates.
  const premier = demoEntries(0).map((e) => e.resource as Practitioner).find((r) => r.resourceType === 'Practitioner')!;
  await habiliterRegulateur(p, idnat(premier), undefined, true);
  for (const [i, r] of medecins.entries()) {
    await p.core.db.query(`INSERT INTO sas_participation (idnat, participe, modifie_par) VALUES ($1, $2, 'demo') ON CONFLICT (idnat) DO NOTHING`, [idnat(r), i % 2 === 0]);
  }
  await p.sessions.enregistrerClient();
  p.log.info({ editeurs: sims.map((s) => s.url), regulateur: idnat(premier) }, 'SAS demo: simulated vendors started');
}
