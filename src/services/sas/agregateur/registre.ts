// The registry of connected vendor solutions, in the database. A vendor's client certificate and key
// are sealed with the platform's master key and never leave the registry: the admin API shows the
// certificate's subject and expiry only.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { Sealer } from '../../../auth/secrets.ts';
import { sameDn } from '../../../auth/mtls.ts';
import type { Database } from '../../../db/index.ts';
import type { EditeurSas } from './index.ts';

/** A vendor as the admin API shows it: no key, no certificate, only what identifies the certificate. */
export type EditeurPublic = Omit<EditeurSas, 'clientCert'> & { certificatClient?: { sujet: string; expiration: string } };

export class EditeurInvalide extends Error {}

interface Ligne {
  id: string;
  nom: string;
  base_url: string;
  type: EditeurSas['type'];
  sealed_client_cert: string | null;
  client_cert_subject: string | null;
  client_cert_expiry: Date | string | null;
  concurrence: number;
  actif: boolean;
  certificat_v3: string | null;
  updated_at: Date | string;
}

const COLONNES = 'id, nom, base_url, type, sealed_client_cert, client_cert_subject, client_cert_expiry, concurrence, actif, certificat_v3, updated_at';

export class Registre {
  /** Unsealed certificates, by vendor id and version (updated_at), so that a call does not decrypt each time. */
  private readonly certificats = new Map<string, { version: string; cert?: EditeurSas['clientCert'] }>();

  constructor(
    private readonly db: Database,
    private readonly sealer: Sealer,
  ) {}

  async lister(): Promise<EditeurPublic[]> {
    const { rows } = await this.db.query<Ligne>(`SELECT ${COLONNES} FROM sas_editeur ORDER BY id`);
    const cibles = await this.cibles(rows.map((r) => r.id));
    return rows.map((r) => publique(r, cibles.get(r.id)));
  }

  async lire(id: string): Promise<EditeurPublic | undefined> {
    const { rows } = await this.db.query<Ligne>(`SELECT ${COLONNES} FROM sas_editeur WHERE id = $1`, [id]);
    if (rows.length === 0) return undefined;
    return publique(rows[0], (await this.cibles([id])).get(id));
  }

  /** Creates or replaces a vendor. Without clientCert an existing certificate is kept; clientCert null removes it. */
  async enregistrer(entree: EditeurSas | (Omit<EditeurSas, 'clientCert'> & { clientCert?: EditeurSas['clientCert'] | null })): Promise<EditeurPublic> {
    const e = verifier(entree);
    const cert = entree.clientCert ? { ...entree.clientCert } : entree.clientCert;
    const info = cert ? certificatValide(cert) : undefined;
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO sas_editeur (id, nom, base_url, type, concurrence, actif, certificat_v3) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET nom = $2, base_url = $3, type = $4, concurrence = $5, actif = $6, certificat_v3 = $7, updated_at = clock_timestamp()`,
        [e.id, e.nom, e.baseUrl, e.type, e.concurrence, e.actif, e.certificatV3 ?? null],
      );
      if (cert !== undefined) {
        await tx.query(`UPDATE sas_editeur SET sealed_client_cert = $2, client_cert_subject = $3, client_cert_expiry = $4 WHERE id = $1`, [
          e.id,
          cert ? this.sealer.seal(JSON.stringify(cert)) : null,
          info?.sujet ?? null,
          info?.expiration ?? null,
        ]);
      }
      await tx.query('DELETE FROM sas_editeur_cible WHERE editeur_id = $1', [e.id]);
      const valeurs = [...e.rpps.map((v) => ['idnps', v]), ...e.siret.map((v) => ['siret', v])];
      if (valeurs.length > 0) {
        await tx.query(
          `INSERT INTO sas_editeur_cible (editeur_id, genre, valeur) SELECT $1, g, v FROM unnest($2::text[], $3::text[]) AS t(g, v) ON CONFLICT DO NOTHING`,
          [e.id, valeurs.map((x) => x[0]), valeurs.map((x) => x[1])],
        );
      }
    });
    return (await this.lire(e.id))!;
  }

  async retirer(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query('DELETE FROM sas_editeur WHERE id = $1', [id]);
    this.certificats.delete(id);
    return rowCount > 0;
  }

  /** The active vendors serving these practitioners (idNat_PS) or associations (SIRET), each with the ones it serves. */
  async pour(genre: 'idnps' | 'siret', valeurs: string[]): Promise<{ editeur: EditeurSas; valeurs: string[] }[]> {
    if (valeurs.length === 0) return [];
    const { rows } = await this.db.query<Ligne & { valeur: string }>(
      `SELECT ${COLONNES.split(', ').map((c) => `e.${c}`).join(', ')}, c.valeur FROM sas_editeur_cible c JOIN sas_editeur e ON e.id = c.editeur_id
       WHERE c.genre = $1 AND c.valeur = ANY($2::text[]) AND e.actif ORDER BY e.id, c.valeur`,
      [genre, valeurs],
    );
    const parEditeur = new Map<string, { editeur: EditeurSas; valeurs: string[] }>();
    for (const r of rows) {
      let entree = parEditeur.get(r.id);
      if (!entree) parEditeur.set(r.id, (entree = { editeur: this.complet(r), valeurs: [] }));
      entree.valeurs.push(r.valeur);
    }
    return [...parEditeur.values()];
  }

  /** Every active vendor, with its certificate (V1 pushes go to all of them). */
  async actifs(): Promise<EditeurSas[]> {
    const { rows } = await this.db.query<Ligne>(`SELECT ${COLONNES} FROM sas_editeur WHERE actif ORDER BY id`);
    return rows.map((r) => this.complet(r));
  }

  /** The active vendor whose own client certificate has this subject (V3 callers). */
  async parCertificat(sujet: string): Promise<EditeurPublic | undefined> {
    const { rows } = await this.db.query<Ligne>(`SELECT ${COLONNES} FROM sas_editeur WHERE actif AND certificat_v3 IS NOT NULL`);
    const ligne = rows.find((r) => sameDn(r.certificat_v3!, sujet));
    return ligne ? publique(ligne, undefined) : undefined;
  }

  private complet(r: Ligne): EditeurSas {
    const version = String(r.updated_at instanceof Date ? r.updated_at.toISOString() : r.updated_at);
    let cache = this.certificats.get(r.id);
    if (!cache || cache.version !== version) {
      const ouvert = r.sealed_client_cert ? this.sealer.open(r.sealed_client_cert) : undefined;
      cache = { version, cert: ouvert ? JSON.parse(ouvert) : undefined };
      this.certificats.set(r.id, cache);
    }
    return { ...publique(r, undefined), ...(cache.cert ? { clientCert: cache.cert } : {}) };
  }

  private async cibles(ids: string[]): Promise<Map<string, { rpps: string[]; siret: string[] }>> {
    const out = new Map<string, { rpps: string[]; siret: string[] }>();
    if (ids.length === 0) return out;
    const { rows } = await this.db.query<{ editeur_id: string; genre: string; valeur: string }>(
      'SELECT editeur_id, genre, valeur FROM sas_editeur_cible WHERE editeur_id = ANY($1::text[]) ORDER BY valeur',
      [ids],
    );
    for (const r of rows) {
      let c = out.get(r.editeur_id);
      if (!c) out.set(r.editeur_id, (c = { rpps: [], siret: [] }));
      (r.genre === 'idnps' ? c.rpps : c.siret).push(r.valeur);
    }
    return out;
  }
}

function publique(r: Ligne, cibles: { rpps: string[]; siret: string[] } | undefined): EditeurPublic {
  const expiration = r.client_cert_expiry instanceof Date ? r.client_cert_expiry.toISOString() : r.client_cert_expiry;
  return {
    id: r.id,
    nom: r.nom,
    baseUrl: r.base_url,
    type: r.type,
    ...(cibles ? { rpps: cibles.rpps, siret: cibles.siret } : {}),
    concurrence: r.concurrence,
    actif: r.actif,
    ...(r.certificat_v3 ? { certificatV3: r.certificat_v3 } : {}),
    ...(r.client_cert_subject && expiration ? { certificatClient: { sujet: r.client_cert_subject, expiration: new Date(expiration).toISOString() } } : {}),
  };
}

/** idNat_PS as vendors index practitioners: 8 + RPPS (an 11-digit RPPS gets its prefix), or 0 + ADELI. */
export function idNatPs(valeur: string): string | undefined {
  const v = valeur.trim().replace(/^urn:oid:1\.2\.250\.1\.71\.4\.2\.1\|/u, '');
  if (/^\d{11}$/u.test(v)) return `8${v}`;
  if (/^8\d{11}$/u.test(v) || /^0\d{9}$/u.test(v)) return v;
  return undefined;
}

function verifier(e: Partial<Omit<EditeurSas, 'clientCert'>>): Required<Pick<EditeurSas, 'id' | 'nom' | 'baseUrl' | 'type' | 'rpps' | 'siret' | 'concurrence' | 'actif'>> & { certificatV3?: string } {
  if (!e || typeof e !== 'object') throw new EditeurInvalide('Un éditeur est un objet JSON');
  if (typeof e.id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/u.test(e.id)) throw new EditeurInvalide('id : 1 à 64 caractères parmi lettres, chiffres, « . », « _ », « - »');
  if (typeof e.nom !== 'string' || !e.nom.trim()) throw new EditeurInvalide('nom : obligatoire');
  if (!['R01', 'R04', 'SOS'].includes(e.type as string)) throw new EditeurInvalide('type : R01 (PS individuels), R04 (CPTS) ou SOS (SOS Médecins)');
  let url: URL;
  try {
    url = new URL(String(e.baseUrl));
  } catch {
    throw new EditeurInvalide(`baseUrl : URL invalide « ${e.baseUrl} »`);
  }
  // The guide demands TLS with mutual authentication; plain HTTP only reaches a simulator on this machine.
  const local = url.hostname === 'localhost' || (isIP(url.hostname.replace(/^\[|\]$/gu, '')) !== 0 && /^(127\.|\[::1\]$)/u.test(url.hostname));
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) throw new EditeurInvalide('baseUrl : https:// obligatoire (http:// seulement vers localhost)');
  const liste = (v: unknown, nom: string) => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new EditeurInvalide(`${nom} : liste de chaînes attendue`);
    return v as string[];
  };
  const rpps = liste(e.rpps, 'rpps').map((v) => idNatPs(v) ?? bad(`rpps : « ${v} » n'est ni un RPPS (11 chiffres), ni un idNat_PS (8 + RPPS, 0 + ADELI)`));
  const siret = liste(e.siret, 'siret').map((v) => (/^3?\d{14}$/u.test(v.trim()) ? v.trim().slice(-14) : bad(`siret : « ${v} » n'est pas un SIRET (14 chiffres)`)));
  const concurrence = e.concurrence ?? 4;
  if (!Number.isInteger(concurrence) || concurrence < 1 || concurrence > 64) throw new EditeurInvalide('concurrence : entier de 1 à 64');
  if (e.certificatV3 !== undefined && (typeof e.certificatV3 !== 'string' || !/CN=/iu.test(e.certificatV3))) throw new EditeurInvalide('certificatV3 : DN du certificat client de l\'éditeur, par exemple « CN=Agenda, OU=312345678901234, O=Editeur, C=FR »');
  return { id: e.id, nom: e.nom.trim(), baseUrl: url.toString().replace(/\/$/u, ''), type: e.type!, rpps: [...new Set(rpps)], siret: [...new Set(siret)], concurrence, actif: e.actif ?? true, certificatV3: e.certificatV3 };
}

function bad(message: string): never {
  throw new EditeurInvalide(message);
}

function certificatValide(c: { cert: string; key: string; ca?: string }): { sujet: string; expiration: string } {
  if (typeof c !== 'object' || typeof c.cert !== 'string' || typeof c.key !== 'string') throw new EditeurInvalide('clientCert : { cert, key, ca? } en PEM');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(c.cert);
  } catch {
    throw new EditeurInvalide('clientCert.cert : certificat PEM illisible');
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(c.key))) throw new EditeurInvalide('clientCert.key : la clé ne correspond pas au certificat');
  } catch (err) {
    if (err instanceof EditeurInvalide) throw err;
    throw new EditeurInvalide('clientCert.key : clé privée PEM illisible');
  }
  if (c.ca !== undefined) {
    try {
      new X509Certificate(c.ca);
    } catch {
      throw new EditeurInvalide('clientCert.ca : certificat PEM illisible');
    }
  }
  return { sujet: x509.subject.split('\n').reverse().join(', '), expiration: new Date(x509.validTo).toISOString() };
}
