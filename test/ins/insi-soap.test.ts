// The INSi teleservice at /insi, called as a vendor's software would: the `soap` client library binds
// to the served WSDL and calls over mutual TLS with a platform-issued INSI-AUTO / INSI-MANU
// certificate. Every reply code, the carte Vitale and vérification operations, and the faults:
// malformed requests, invalid NIR, missing headers, and every kind of refused caller.
import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import { after, before, describe, test } from 'node:test';
import * as soap from 'soap';
import { ouvrirPki, type Certificat } from '../../src/pki/pki.ts';
import type { IdentiteSynthetique } from '../../src/referentiels/ins/population.ts';
import { demarrerPlateformeIns, https, populationDemo, STRUCTURE, type PlateformeIns } from './support.ts';

let p: PlateformeIns;
let population: IdentiteSynthetique[];
let client: soap.Client;

const CONTEXTE_BAM = '<ctxbam:ContexteBAM xmlns:ctxbam="urn:siram:bam:ctxbam" Version="01_02"><ctxbam:Id>b3549edd-4ae9-472a-b26f-fd2fb4ef397f</ctxbam:Id><ctxbam:Temps>2026-01-15T10:00:00Z</ctxbam:Temps><ctxbam:Emetteur>1750712184</ctxbam:Emetteur><ctxbam:COUVERTURE/></ctxbam:ContexteBAM>';
const CONTEXTE_LPS = '<ctxlps:ContexteLPS xmlns:ctxlps="urn:siram:lps:ctxlps" Nature="CTXLPS" Version="01_00"><ctxlps:Id>b3549edd-4ae9-472a-b26f-fd2fb4ef397f</ctxlps:Id><ctxlps:LPS><ctxlps:IDAM R="4">TEST-IDAM</ctxlps:IDAM><ctxlps:Version>1.0</ctxlps:Version><ctxlps:Nom>urn:lps:essai:1.0</ctxlps:Nom></ctxlps:LPS></ctxlps:ContexteLPS>';

/** A SOAP client bound to the served WSDL; with a certificate, it authenticates with it (mutual TLS). */
async function clientSoap(certificat?: Certificat, options: { soap12?: boolean } = {}): Promise<soap.Client> {
  const httpsAgent = new Agent({ ca: p.pki.ca });
  const c = await soap.createClientAsync(`${p.urlTls}/insi?wsdl`, { forceSoap12Headers: options.soap12 ?? true, wsdl_options: { httpsAgent } });
  if (certificat) c.setSecurity(new soap.ClientSSLSecurity(Buffer.from(certificat.key), Buffer.from(certificat.cert), Buffer.from(p.pki.ca)));
  // Without a certificate: TLS that trusts the platform CA, and nothing to present.
  else c.setSecurity({ addOptions: (o: { httpsAgent?: Agent }) => void (o.httpsAgent = httpsAgent) });
  c.addSoapHeader(CONTEXTE_BAM);
  c.addSoapHeader(CONTEXTE_LPS);
  return c;
}

interface Faute {
  status?: number;
  code: string;
  sousCode?: string;
  raison: string;
  erreur: string;
}

/** The SOAP 1.2 fault a call ended with, as the client parsed it. */
async function faute(appel: Promise<unknown>): Promise<Faute> {
  try {
    await appel;
  } catch (err) {
    const e = err as { root?: any; response?: { status?: number } };
    const f = e.root?.Envelope?.Body?.Fault;
    assert.ok(f, `not a SOAP fault: ${String(err)}`);
    return {
      status: e.response?.status,
      code: f.Code.Value,
      sousCode: f.Code.Subcode?.Value,
      raison: f.Reason.Text.$value ?? f.Reason.Text,
      erreur: f.Detail?.Erreur?.attributes?.code,
    };
  }
  assert.fail('the call succeeded, a SOAP fault was expected');
}

const traits = (i: IdentiteSynthetique, prenoms = i.prenoms) => ({ NomNaissance: i.nomNaissance, Prenom: prenoms, Sexe: i.sexe, DateNaissance: i.dateNaissance });

before(async () => {
  p = await demarrerPlateformeIns();
  population = populationDemo();
  client = await clientSoap(p.auto);
});
after(() => p?.close());

describe('WSDL', () => {
  test('GET /insi?wsdl describes the three operations and points at the TLS listener', async () => {
    const r = await https(`${p.urlTls}/insi?wsdl`, { ca: p.pki.ca });
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^text\/xml/);
    for (const o of ['rechercherInsAvecTraitsIdentite', 'rechercherInsAvecCarteVitale', 'verifierInsAvecTraitsIdentite']) {
      assert.match(r.texte, new RegExp(`soapAction="urn:ServiceIdentiteCertifiee:1.0.0:${o}"`));
    }
    assert.match(r.texte, new RegExp(`<soap12:address location="${p.urlTls}/insi"/>`));
    const ports = client.describe()['ICIR-v1']!['ICIRService']!;
    assert.deepEqual(Object.keys(ports).sort(), ['rechercherInsAvecCarteVitale', 'rechercherInsAvecTraitsIdentite', 'verifierInsAvecTraitsIdentite']);
  });
});

describe('rechercherInsAvecTraitsIdentite', () => {
  test('00 with the INS, its OID and the reference traits', async () => {
    const i = population[0]!;
    const [r] = await client.rechercherInsAvecTraitsIdentiteAsync(traits(i));
    assert.deepEqual(r.CR, { CodeCR: '00', LibelleCR: 'OK' });
    assert.deepEqual(r.INDIVIDU.INSACTIF, { IdIndividu: { NumIdentifiant: i.nir.slice(0, 13), Cle: i.nir.slice(13) }, OID: '1.2.250.1.213.1.4.10' });
    assert.deepEqual(r.INDIVIDU.TIQ, {
      NomNaissance: i.nomNaissance,
      Prenom: i.prenoms[0],
      ListePrenom: i.prenoms.join(' '),
      Sexe: i.sexe,
      DateNaissance: i.dateNaissance,
      LieuNaissance: i.lieuNaissance,
    });
  });

  test('accents and case do not matter', async () => {
    const i = population[1]!;
    const [r] = await client.rechercherInsAvecTraitsIdentiteAsync({ ...traits(i, [i.prenoms[0]!.toLowerCase()]), NomNaissance: i.nomNaissance.toLowerCase().replace(/e/u, 'ê') });
    assert.equal(r.CR.CodeCR, '00');
    assert.equal(r.INDIVIDU.INSACTIF.IdIndividu.Cle, i.nir.slice(13));
  });

  test('01 without INDIVIDU when no identity matches', async () => {
    const [r] = await client.rechercherInsAvecTraitsIdentiteAsync({ NomNaissance: 'INCONNU', Sexe: 'F', DateNaissance: '1950-01-01' });
    assert.deepEqual(r, { CR: { CodeCR: '01', LibelleCR: 'Aucune identite trouvee' } });
  });

  test('02 for homonyms, 00 once the birth place is given', async () => {
    const h = population.find((x) => x.homonymeDe && population.find((s) => s.nir === x.homonymeDe)!.lieuNaissance !== x.lieuNaissance)!;
    const [r] = await client.rechercherInsAvecTraitsIdentiteAsync(traits(h, [h.prenoms[0]!]));
    assert.deepEqual(r, { CR: { CodeCR: '02', LibelleCR: 'Plusieurs identites trouvees' } });
    const [r2] = await client.rechercherInsAvecTraitsIdentiteAsync({ ...traits(h, [h.prenoms[0]!]), LieuNaissance: h.lieuNaissance });
    assert.equal(r2.CR.CodeCR, '00');
    assert.equal(r2.INDIVIDU.INSACTIF.IdIndividu.NumIdentifiant, h.nir.slice(0, 13));
  });

  test('an INSI-MANU certificate has the same access', async () => {
    const manu = await clientSoap(await p.pki.emettreOrganisation('INSI-MANU', STRUCTURE));
    const [r] = await manu.rechercherInsAvecTraitsIdentiteAsync(traits(population[2]!));
    assert.equal(r.CR.CodeCR, '00');
  });

  test('malformed traits: a Sender fault with the reason', async () => {
    const f = await faute(client.rechercherInsAvecTraitsIdentiteAsync({ NomNaissance: 'MARTIN', Sexe: 'H', DateNaissance: '1980-01-01' }));
    assert.equal(f.status, 400);
    assert.equal(f.code, 'env:Sender');
    assert.equal(f.sousCode, 'siram:siram_100');
    assert.equal(f.erreur, 'socle_400');
    assert.match(f.raison, /Sexe doit valoir M ou F : « H » reçu/);
  });
});

describe('rechercherInsAvecCarteVitale', () => {
  test("00 with the holder's matricule, 01 when the card's birth date differs", async () => {
    const i = population[3]!;
    const carte = { MatriculeIndividu: { NumIdentifiant: i.nir.slice(0, 13), Cle: i.nir.slice(13) }, NomNaissance: i.nomNaissance, DateNaissance: i.dateNaissance, RangNaissance: '1' };
    const [r] = await client.rechercherInsAvecCarteVitaleAsync(carte);
    assert.equal(r.CR.CodeCR, '00');
    assert.equal(r.INDIVIDU.TIQ.NomNaissance, i.nomNaissance);
    const [r2] = await client.rechercherInsAvecCarteVitaleAsync({ ...carte, DateNaissance: '1901-01-01' });
    assert.equal(r2.CR.CodeCR, '01');
  });
});

describe('verifierInsAvecTraitsIdentite', () => {
  const demande = (i: IdentiteSynthetique, nir = i.nir) => ({
    MatriculeINS: { NumIdentifiant: nir.slice(0, 13), Cle: nir.slice(13) },
    OID: '1.2.250.1.213.1.4.10',
    ...traits(i),
    LieuNaissance: i.lieuNaissance,
  });

  test('00 when the INS goes with the traits, 01 when it does not', async () => {
    const [i, autre] = [population[4]!, population[5]!];
    const [r] = await client.verifierInsAvecTraitsIdentiteAsync(demande(i));
    assert.equal(r.CR.CodeCR, '00');
    assert.equal(r.INDIVIDU.INSACTIF.IdIndividu.NumIdentifiant, i.nir.slice(0, 13));
    const [r2] = await client.verifierInsAvecTraitsIdentiteAsync(demande(i, autre.nir));
    assert.deepEqual(r2, { CR: { CodeCR: '01', LibelleCR: 'Aucune identite trouvee' } });
  });

  test('an invalid NIR is a Sender fault that says why', async () => {
    const i = population[4]!;
    const f = await faute(client.verifierInsAvecTraitsIdentiteAsync(demande(i, `${i.nir.slice(0, 13)}00`)));
    assert.equal(f.code, 'env:Sender');
    assert.match(f.raison, new RegExp(`MatriculeINS invalide : La clé 00 est invalide pour le NIR .* clé attendue ${i.nir.slice(13)}`));
    const f2 = await faute(client.verifierInsAvecTraitsIdentiteAsync({ ...demande(i), MatriculeINS: { NumIdentifiant: i.nir.slice(0, 12) } }));
    assert.match(f2.raison, /MatriculeINS invalide : Le NIR doit comporter 15 caractères/);
  });
});

describe('malformed requests', () => {
  const poster = (corps: string, contentType = 'application/soap+xml; charset=utf-8') =>
    https(`${p.urlTls}/insi`, { corps, contentType, certificat: p.auto, ca: p.pki.ca });
  const enveloppe = (entete: string, corps: string) =>
    `<?xml version="1.0"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Header>${entete}</e:Header><e:Body>${corps}</e:Body></e:Envelope>`;
  const recherche = '<RECSANSVITALE xmlns="http://www.cnamts.fr/INSiRecSans"><NomNaissance>MARTIN</NomNaissance><Sexe>F</Sexe><DateNaissance>1980-01-01</DateNaissance></RECSANSVITALE>';

  const cas: [string, string, string | undefined, RegExp, string][] = [
    ['not XML', 'bonjour', undefined, /XML invalide/, 'env:Sender'],
    ['a DTD', `<!DOCTYPE x [<!ENTITY a "b">]>${enveloppe(CONTEXTE_BAM + CONTEXTE_LPS, recherche)}`, undefined, /DTD/, 'env:Sender'],
    ['not an envelope', recherche, undefined, /Enveloppe SOAP 1.2 attendue/, 'env:Sender'],
    ['an unknown request', enveloppe(CONTEXTE_BAM + CONTEXTE_LPS, '<RECHERCHE xmlns="urn:x"/>'), undefined, /Requête \{urn:x\}RECHERCHE inconnue/, 'env:Sender'],
    ['no ContexteLPS', enveloppe(CONTEXTE_BAM, recherche), undefined, /Numéro d'autorisation du logiciel inconnu/, 'env:Sender'],
    ['no ContexteBAM', enveloppe(CONTEXTE_LPS, recherche), undefined, /ContexteBAM absent/, 'env:Sender'],
    ['a header it must understand but does not', enveloppe(`${CONTEXTE_BAM}${CONTEXTE_LPS}<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:e="http://www.w3.org/2003/05/soap-envelope" e:mustUnderstand="true"/>`, recherche), undefined, /non compris.*CPx/, 'env:MustUnderstand'],
    ['an action that is not the request', enveloppe(CONTEXTE_BAM + CONTEXTE_LPS, recherche), 'application/soap+xml; action="urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecCarteVitale"', /ne correspond pas/, 'env:Sender'],
    ['a JSON body', '{}', 'application/json', /Content-Type « application\/json » refusé/, 'env:Sender'],
  ];
  for (const [quoi, corps, contentType, raison, code] of cas) {
    test(`${quoi}: SOAP 1.2 fault ${code}`, async () => {
      const r = await poster(corps, contentType);
      assert.equal(r.status, 400, r.texte);
      assert.match(r.contentType, /^application\/soap\+xml/);
      assert.match(r.texte, new RegExp(`<env:Value>${code}</env:Value>`));
      assert.match(r.texte, raison);
    });
  }

  test('a SOAP 1.1 client gets a VersionMismatch fault', async () => {
    const soap11 = await clientSoap(p.auto, { soap12: false });
    const r = await soap11.rechercherInsAvecTraitsIdentiteAsync(traits(population[0]!)).catch((err: { body?: string; response?: { status?: number } }) => err);
    assert.equal(r.response?.status, 400);
    assert.match(String(r.body), /env:VersionMismatch[\s\S]*SOAP 1.1 reçue/);
  });
});

describe('access', () => {
  const refus = async (c: soap.Client) => faute(c.rechercherInsAvecTraitsIdentiteAsync(traits(population[0]!)));

  test('no client certificate: refused', async () => {
    const f = await refus(await clientSoap());
    assert.equal(f.erreur, 'socle_401');
    assert.match(f.raison, /Aucun certificat client présenté/);
  });

  test('a certificate from another authority: refused', async () => {
    const etrangere = await ouvrirPki();
    const f = await refus(await clientSoap(await etrangere.emettreOrganisation('INSI-AUTO', STRUCTURE)));
    assert.equal(f.erreur, 'socle_401');
    assert.match(f.raison, /Certificat client refusé/);
  });

  test('a platform certificate without an INSi profile: DESIR_560, insufficient access level', async () => {
    const f = await refus(await clientSoap(await p.pki.emettreOrganisation('LOGICIEL-DPI', STRUCTURE)));
    assert.equal(f.erreur, 'desir_560');
    assert.match(f.raison, /Niveau d'accès insuffisant : le certificat « CN=LOGICIEL-DPI, OU=1750712184, O=Hôpital Saint-Antoine, ST=Paris \(75\), C=FR »/);
  });

  test('plain HTTP: refused, the fault says how to connect', async () => {
    const r = await fetch(`${p.serveur.baseUrl}/insi`, { method: 'POST', headers: { 'content-type': 'application/soap+xml' }, body: '<x/>' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /socle_401.*exige un certificat INSI-AUTO ou INSI-MANU.*SOCLE_TLS_PORT/s);
  });
});
