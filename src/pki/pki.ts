// Development PKI standing in for IGC-Santé: one certification authority, created on first start,
// that issues the platform's TLS server certificate and organisation certificates for mutual TLS
// (INSI-AUTO / INSI-MANU for the INSi teleservice). Keys are RSA 2048 / SHA-256 like IGC-Santé's, made
// at run time and kept only in the PKI folder (never in the repository).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHME = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const JOUR = 86_400_000;
const CA_NOM: x509.JsonName = [{ C: ['FR'] }, { O: ['Socle'] }, { OU: ['Développement - ne pas utiliser en production'] }, { CN: ['AC SOCLE TEST IGC-SANTE ELEMENTAIRE ORGANISATIONS'] }];
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

/** A certificate and its private key, both PEM. */
export interface Certificat {
  cert: string;
  key: string;
}

/** The holder of an organisation certificate: a structure, named as IGC-Santé names it. */
export interface Structure {
  /** Identifiant national de structure (1 + FINESS, 3 + SIRET…): the certificate's OU. */
  identifiant: string;
  /** Raison sociale: the O. */
  nom: string;
  /** Département, e.g. "Paris (75)": the ST. */
  departement?: string;
}

export interface Pki {
  /** The CA certificate (PEM): what a TLS peer must trust. */
  readonly ca: string;
  /** The folder the PKI lives in; undefined when it lives in memory (tests). */
  readonly dossier?: string;
  /** The platform's own server certificate, kept in the folder and reused while it covers these names. */
  certificatServeur(noms: string[]): Promise<Certificat>;
  /** A TLS server certificate for these host names and addresses. */
  emettreServeur(noms: string[], jours?: number): Promise<Certificat>;
  /**
   * An organisation certificate for client authentication. `cn` names the use: INSI-AUTO or INSI-MANU
   * for INSi (the CNAM service refuses any other CN), the software's name otherwise.
   */
  emettreOrganisation(cn: string, structure: Structure, jours?: number): Promise<Certificat>;
  /**
   * The authentication certificate of a CPS card (carte de professionnel de santé), for a person:
   * OU=CPS, CN=<idNat_PS>, SN and G the holder's names. Presented over mutual TLS, it logs the
   * professional in at /auth/pro and identifies them to the FHIR API.
   */
  emettreCarteCps(porteur: PorteurCps, jours?: number): Promise<Certificat>;
}

export interface PorteurCps {
  idNatPs: string;
  nom: string;
  prenom: string;
}

/** The organisational unit that marks a CPS card's certificate. */
export const OU_CARTE_CPS = 'CPS';

/** Opens the PKI of a folder, creating its CA on first use; without a folder, a fresh PKI in memory. */
export async function ouvrirPki(dossier?: string): Promise<Pki> {
  const lire = (nom: string) => {
    if (!dossier) return undefined;
    try {
      return readFileSync(join(dossier, nom), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  const ecrire = (nom: string, contenu: string, secret = false) => {
    if (dossier) writeFileSync(join(dossier, nom), contenu, { mode: secret ? 0o600 : 0o644 });
  };
  if (dossier) mkdirSync(dossier, { recursive: true, mode: 0o700 });

  let ca = await lireAutorite(lire('ca.pem'), lire('ca.key.pem'));
  if (!ca) {
    const cles = await generer();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: numeroDeSerie(),
      name: CA_NOM,
      notBefore: new Date(Date.now() - JOUR),
      notAfter: new Date(Date.now() + 3650 * JOUR),
      keys: cles,
      signingAlgorithm: ALGORITHME,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(cles.publicKey),
      ],
    });
    ca = { cert, cle: cles.privateKey };
    ecrire('ca.key.pem', await pemCle(cles.privateKey), true);
    ecrire('ca.pem', ligne(cert.toString('pem')));
  }
  const autorite = ca;

  async function emettre(sujet: x509.JsonName, jours: number, extensions: x509.Extension[]): Promise<Certificat> {
    const cles = await generer();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: numeroDeSerie(),
      subject: sujet,
      issuer: autorite.cert.subject,
      notBefore: new Date(Date.now() - JOUR),
      notAfter: new Date(Date.now() + jours * JOUR),
      signingAlgorithm: ALGORITHME,
      publicKey: cles.publicKey,
      signingKey: autorite.cle,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.AuthorityKeyIdentifierExtension.create(autorite.cert),
        await x509.SubjectKeyIdentifierExtension.create(cles.publicKey),
        ...extensions,
      ],
    });
    return { cert: ligne(cert.toString('pem')), key: await pemCle(cles.privateKey) };
  }

  function emettreServeur(noms: string[], jours = 825): Promise<Certificat> {
    if (noms.length === 0) throw new Error('Un certificat serveur nomme au moins un hôte');
    return emettre([{ C: ['FR'] }, { O: ['Socle'] }, { CN: [noms[0]!] }], jours, [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([SERVER_AUTH]),
      new x509.SubjectAlternativeNameExtension(noms.map((n) => ({ type: isIP(n) ? ('ip' as const) : ('dns' as const), value: n }))),
    ]);
  }

  return {
    ca: ligne(autorite.cert.toString('pem')),
    dossier,
    async certificatServeur(noms) {
      const existant = lire('serveur.pem');
      const cle = lire('serveur.key.pem');
      if (existant && cle && couvre(new x509.X509Certificate(existant), noms)) return { cert: existant, key: cle };
      const certificat = await emettreServeur(noms);
      ecrire('serveur.key.pem', certificat.key, true);
      ecrire('serveur.pem', certificat.cert);
      return certificat;
    },
    emettreServeur,
    emettreOrganisation(cn, structure, jours = 3 * 365) {
      const sujet: x509.JsonName = [
        { C: ['FR'] },
        ...(structure.departement ? [{ ST: [structure.departement] }] : []),
        { O: [structure.nom] },
        { OU: [structure.identifiant] },
        { CN: [cn] },
      ];
      return emettre(sujet, jours, [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), new x509.ExtendedKeyUsageExtension([CLIENT_AUTH])]);
    },
    emettreCarteCps(porteur, jours = 3 * 365) {
      if (!/^\d{10,12}$/u.test(porteur.idNatPs)) throw new Error(`Identifiant national de professionnel invalide : « ${porteur.idNatPs} » (idNat_PS, par exemple 810012345678)`);
      const sujet: x509.JsonName = [{ C: ['FR'] }, { O: ['Socle'] }, { OU: [OU_CARTE_CPS] }, { SN: [porteur.nom] }, { G: [porteur.prenom] }, { CN: [porteur.idNatPs] }];
      return emettre(sujet, jours, [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), new x509.ExtendedKeyUsageExtension([CLIENT_AUTH])]);
    },
  };
}

async function lireAutorite(cert: string | undefined, cle: string | undefined): Promise<{ cert: x509.X509Certificate; cle: CryptoKey } | undefined> {
  if (!cert || !cle) return undefined;
  return { cert: new x509.X509Certificate(cert), cle: await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decode(cle)[0]!, ALGORITHME, false, ['sign']) };
}

// Still valid for a month at least, and names every requested host.
function couvre(cert: x509.X509Certificate, noms: string[]): boolean {
  if (cert.notAfter.getTime() < Date.now() + 30 * JOUR) return false;
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const presents = new Set(san?.names.items.map((n) => n.value) ?? []);
  return noms.every((n) => presents.has(n));
}

const generer = () => webcrypto.subtle.generateKey(ALGORITHME, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;

async function pemCle(cle: CryptoKey): Promise<string> {
  return ligne(x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', cle), 'PRIVATE KEY'));
}

// PEM files end with a newline, so that they concatenate into valid bundles.
const ligne = (pem: string) => (pem.endsWith('\n') ? pem : `${pem}\n`);

// Positive 128-bit serial numbers (RFC 5280 §4.1.2.2).
function numeroDeSerie(): string {
  const octets = randomBytes(16);
  octets[0]! &= 0x7f;
  return octets.toString('hex');
}
