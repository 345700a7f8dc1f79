// Reference vendor server ("solution éditeur") for the SAS: a FHIR server answering the guide's slot searches
// (INT_R01, INT_R04, SOS Médecins), V1 regulator accounts, and a booking page that pushes appointments back (V3).
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { construireAgenda, genererCpts, genererPraticiens, genererSos, type PraticienSimule } from './agenda.ts';
import { capacite } from './capacite.ts';
import { ErreurRequete, lireRequete, rechercherSchedulesSos, rechercherSlots, separerJeton, trouverCreneau, type Contexte } from './recherche.ts';
import { ressourcesParId, slot, slotSos, type Ressource } from './ressources.ts';
import { ErreurV1, Regulateurs, ressourceRegulateur } from './regulateurs.ts';
import { Reservations } from './reservation.ts';
import { Sso, type OptionsSso } from './sso.ts';
import type { ClientSas } from './envoi.ts';
import { degrader, issue, repondre } from './reponse.ts';

export type { PraticienSimule } from './agenda.ts';

export type FauteSimulee = 'none' | 'hang' | 'invalid' | 'http-500' | 'slow';
export const FAUTES: FauteSimulee[] = ['none', 'hang', 'invalid', 'http-500', 'slow'];

export interface VendorSimOptions {
  port?: number; host?: string;            // default 0 / 127.0.0.1
  seed?: string;                            // deterministic agendas
  praticiens?: number | PraticienSimule[];  // participating practitioners (number → generated)
  cpts?: { siret: string; nom: string }[];  // CPTS shape
  latencyMs?: number;                       // added before each answer
  fault?: FauteSimulee;
  tls?: { key: string; cert: string; ca: string; requestCert?: boolean }; // HTTPS + mutual TLS
  sasAppointmentUrl?: string;               // where bookings are pushed (V3), e.g. `${sas}/sas/fhir`
  sasClient?: ClientSas;
  now?: () => Date;
  /** SOS Médecins associations (Schedule search by SIRET); two are generated when absent. */
  sos?: { siret: string; nom: string }[];
  /** V2: the booking page identifies regulators through this issuer (client registered with redirect <url>/sso/retour). */
  sso?: OptionsSso;
}
export interface VendorSim {
  url: string; praticiens: PraticienSimule[]; close(): Promise<void>;
  /** The CPTS and SOS Médecins structures served (SIRET without prefix). */
  cpts: { siret: string; nom: string }[]; sos: { siret: string; nom: string }[];
}

/** Extra wait of the `slow` fault: over the kit's 1 s performance bar, under the SAS 7 s deadline. */
export const LENTEUR_MS = 2000;
const CORPS_MAX = 1 << 20;

function lireCorps(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let taille = 0;
    const morceaux: Buffer[] = [];
    req.on('data', (m: Buffer) => {
      taille += m.length;
      if (taille > CORPS_MAX) { reject(new ErreurRequete('body too large')); req.destroy(); } else morceaux.push(m);
    });
    req.on('end', () => resolve(Buffer.concat(morceaux).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startVendorSim(options: VendorSimOptions = {}): Promise<VendorSim> {
  const graine = options.seed ?? 'socle';
  const praticiens = Array.isArray(options.praticiens) ? options.praticiens : genererPraticiens(graine, options.praticiens ?? 25);
  const cpts = options.cpts ?? genererCpts(graine);
  const sos = options.sos ?? genererSos(graine);
  const agenda = construireAgenda(graine, praticiens, cpts, sos);
  const parId = ressourcesParId(agenda);
  const now = options.now ?? (() => new Date());
  const faute = options.fault ?? 'none';
  const regulateurs = new Regulateurs();
  const reserves = new Set<string>();
  let base = '';
  const sso = options.sso ? new Sso(options.sso, () => base) : undefined;
  const reservations = new Reservations({
    agenda, regulateurs, reserves, now, sasAppointmentUrl: options.sasAppointmentUrl, client: options.sasClient, sso,
  });

  async function fhir(req: http.IncomingMessage, res: http.ServerResponse, chemin: string, params: [string, string][]) {
    const methode = req.method ?? 'GET';
    const ctx: Contexte = {
      agenda, base, selfUrl: `${base}${req.url}`, now: now(), reserves, urlReservation: (id) => `${base}/reservation?slot=${id}`,
    };
    const segments = chemin.split('/').filter(Boolean);
    if (methode === 'GET' && chemin === '/metadata') return repondre(res, 200, capacite(base));
    if (methode === 'GET' && chemin === '/Slot') {
      const r = rechercherSlots(ctx, params);
      return repondre(res, 200, faute === 'invalid' ? degrader(r.bundle) : r.bundle);
    }
    if (methode === 'GET' && chemin === '/Schedule') {
      if (!params.some(([k]) => k === 'actor:Location.organization.identifier')) {
        throw new ErreurRequete('Schedule search needs actor:Location.organization.identifier (SOS Médecins shape)');
      }
      const r = rechercherSchedulesSos(ctx, params);
      return repondre(res, 200, faute === 'invalid' ? degrader(r.bundle) : r.bundle);
    }
    if (segments[0] === 'Practitioner' && segments.length === 1) {
      if (methode === 'POST') {
        const r = regulateurs.creer(JSON.parse(await lireCorps(req)));
        return repondre(res, 201, ressourceRegulateur(r), { Location: `${base}/Practitioner/${r.id}/_history/${r.versionId}` });
      }
      if (methode === 'PUT') {
        const cible = params.find(([k]) => k === 'identifier')?.[1];
        if (!cible) throw new ErreurRequete('conditional update needs ?identifier=system|value');
        const [systeme, valeur] = separerJeton(cible);
        const { regulateur, cree } = regulateurs.mettreAJour(systeme, valeur, JSON.parse(await lireCorps(req)));
        return repondre(res, cree ? 201 : 200, ressourceRegulateur(regulateur), { Location: `${base}/Practitioner/${regulateur.id}/_history/${regulateur.versionId}` });
      }
    }
    if (methode === 'GET' && (chemin === '/Practitioner' || chemin === '/Organization')) {
      return repondre(res, 200, rechercherParIdentifiant(ctx, segments[0], params));
    }
    if (methode === 'GET' && segments.length === 2) {
      const [type, id] = segments;
      const regulateur = type === 'Practitioner' ? regulateurs.lire(id) : undefined;
      if (regulateur) return repondre(res, 200, ressourceRegulateur(regulateur));
      if (type === 'Slot') {
        const t = trouverCreneau(agenda, id, ctx.now);
        if (t) {
          const r = t.praticien ? slot(t.creneau, ctx.urlReservation(id), t.praticien.specialite, true) : slotSos(t.creneau, ctx.urlReservation(id));
          if (reserves.has(id)) r.status = 'busy';
          return repondre(res, 200, r);
        }
      }
      const r = parId.get(`${type}/${id}`);
      if (r) return repondre(res, 200, r);
      return repondre(res, 404, issue('not-found', `${type}/${id} is not known`));
    }
    return repondre(res, 405, issue('not-supported', `${methode} ${chemin} is not supported by this server`));
  }

  /** GET /Practitioner or /Organization [?identifier=system|value]: agenda practitioners and V1 accounts, CPTS and SOS associations. */
  function rechercherParIdentifiant(ctx: Contexte, type: string, params: [string, string][]) {
    const cible = params.find(([k]) => k === 'identifier')?.[1];
    const [systeme, valeur] = cible ? separerJeton(cible) : ['', ''];
    const candidats = [...parId.values()].filter((r) => r.resourceType === type)
      .concat(type === 'Practitioner' ? regulateurs.lister().map((r) => ressourceRegulateur(r) as Ressource) : []);
    const trouves = candidats.filter((r) => !valeur || (r.identifier as { system: string; value: string }[]).some(
      (i) => i.value === valeur && (!systeme || i.system === systeme)));
    return {
      resourceType: 'Bundle', type: 'searchset', total: trouves.length, link: [{ relation: 'self', url: ctx.selfUrl }],
      entry: trouves.map((r) => ({ fullUrl: `${base}/${type}/${r.id}`, resource: r, search: { mode: 'match' } })),
    };
  }

  const ouverts = new Set<http.ServerResponse>();
  async function traiter(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = req.url ?? '/';
    const chemin = url.split('?')[0].replace(/\/+$/, '') || '/';
    const params = lireRequete(url);
    try {
      if (sso && chemin === '/sso/retour') return await sso.retour(req, res);
      if (chemin === '/reservation' || chemin.startsWith('/reservation/')) {
        return await reservations.traiter(req, res, chemin, params, req.method === 'POST' ? await lireCorps(req) : '');
      }
      if (faute === 'hang') { ouverts.add(res); res.on('close', () => ouverts.delete(res)); return; }
      const attente = (options.latencyMs ?? 0) + (faute === 'slow' ? LENTEUR_MS : 0);
      if (attente > 0) await new Promise((r) => setTimeout(r, attente));
      if (faute === 'http-500') return repondre(res, 500, issue('exception', 'simulated internal error (fault http-500)'));
      return await fhir(req, res, chemin, params);
    } catch (err) {
      if (err instanceof ErreurRequete || err instanceof SyntaxError) return repondre(res, 400, issue('invalid', (err as Error).message));
      if (err instanceof ErreurV1) {
        return repondre(res, err.statut, { resourceType: 'OperationOutcome',
          issue: err.problemes.map((p) => ({ severity: 'error', code: p.code, diagnostics: p.texte, expression: [p.expression] })) });
      }
      if (!res.headersSent) repondre(res, 500, issue('exception', (err as Error).message));
    }
  }

  const serveur = options.tls
    ? https.createServer({
      key: options.tls.key, cert: options.tls.cert, ca: options.tls.ca, minVersion: 'TLSv1.2',
      requestCert: options.tls.requestCert ?? true, rejectUnauthorized: options.tls.requestCert ?? true,
    }, traiter)
    : http.createServer(traiter);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    serveur.once('error', reject);
    serveur.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = serveur.address() as AddressInfo;
  base = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url: base, praticiens, cpts, sos,
    close: () => new Promise<void>((resolve) => {
      for (const r of ouverts) r.destroy();
      serveur.close(() => resolve());
      serveur.closeAllConnections();
    }),
  };
}
