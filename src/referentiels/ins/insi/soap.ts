// SOAP 1.2 messages of the INSi teleservice: requests read from their envelope, replies and faults
// written, with the element names of the CNAM WSDL DESIR_ICIR_EXP 1.5.0 and its XSDs
// (specs/referentiels.md §5.4). The vérification operation is not in the public sources: its names
// are Socle's (namespace urn:socle:INSiVerif), built like the récupération ones.
import type { IdentiteReference } from '../reference.ts';
import type { TraitsInsi } from '../traits.ts';
import type { CarteVitale, ResultatInsi } from './service.ts';
import { echapper, el, enfant, enfants, lireXml, texte, XmlInvalide, type ElementXml } from './xml.ts';

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  recSans: 'http://www.cnamts.fr/INSiRecSans',
  recVit: 'http://www.cnamts.fr/INSiRecVit',
  resultat: 'http://www.cnamts.fr/INSiResultat',
  verif: 'urn:socle:INSiVerif',
  ctxLps: 'urn:siram:lps:ctxlps',
  ctxBam: 'urn:siram:bam:ctxbam',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  siram: 'urn:siram',
} as const;

export const OPERATIONS = {
  rechercherInsAvecTraitsIdentite: { ns: NS.recSans, element: 'RECSANSVITALE' },
  rechercherInsAvecCarteVitale: { ns: NS.recVit, element: 'RECVITALE' },
  verifierInsAvecTraitsIdentite: { ns: NS.verif, element: 'VERIFINS' },
} as const;

export type NomOperation = keyof typeof OPERATIONS;

export const action = (operation: NomOperation) => `urn:ServiceIdentiteCertifiee:1.0.0:${operation}`;

export type RequeteInsi =
  | { operation: 'rechercherInsAvecTraitsIdentite'; traits: TraitsInsi }
  | { operation: 'rechercherInsAvecCarteVitale'; carte: CarteVitale }
  | { operation: 'verifierInsAvecTraitsIdentite'; matricule: string; oid?: string; traits: TraitsInsi };

export interface MessageInsi {
  requete: RequeteInsi;
  /** Software authorisation number (IDAM) and name of the calling software, from ContexteLPS. */
  lps: { idam: string; nom?: string };
}

/**
 * A SOAP 1.2 fault. `erreur` is the code of the siram:Erreur detail: desir_550 / desir_560 / insi_102 as the
 * CNAM service answers them, socle_* for the cases the public sources do not show.
 */
export class FauteSoap extends Error {
  constructor(
    readonly code: 'Sender' | 'Receiver' | 'VersionMismatch' | 'MustUnderstand',
    readonly erreur: string,
    message: string,
  ) {
    super(message);
    this.name = 'FauteSoap';
  }

  /** SOAP 1.2 HTTP binding: the sender's faults are 400, the receiver's 500. */
  get statut(): number {
    return this.code === 'Receiver' ? 500 : 400;
  }
}

const invalide = (message: string) => new FauteSoap('Sender', 'socle_400', message);

// The headers this service reads; any other one marked mustUnderstand is refused, as SOAP 1.2 requires.
const ENTETES_COMPRISES = new Set([`${NS.ctxBam} ContexteBAM`, `${NS.ctxLps} ContexteLPS`, `${NS.wsa} Action`, `${NS.wsa} MessageID`, `${NS.wsa} To`]);

export function lireRequete(xml: string, actionHttp?: string): MessageInsi {
  let racine: ElementXml;
  try {
    racine = lireXml(xml);
  } catch (err) {
    if (err instanceof XmlInvalide) throw invalide(err.message);
    throw err;
  }
  if (racine.nom === 'Envelope' && racine.ns === NS.soap11) {
    throw new FauteSoap('VersionMismatch', 'socle_400', 'Enveloppe SOAP 1.1 reçue : le téléservice INSi attend SOAP 1.2 (http://www.w3.org/2003/05/soap-envelope)');
  }
  if (racine.nom !== 'Envelope' || racine.ns !== NS.soap) throw invalide(`Enveloppe SOAP 1.2 attendue, élément racine ${racine.nom} (${racine.ns || 'sans espace de noms'}) reçu`);

  const entete = enfant(racine, NS.soap, 'Header');
  for (const bloc of entete?.enfants ?? []) {
    const doit = bloc.attributs.get('mustUnderstand');
    if ((doit === 'true' || doit === '1') && !ENTETES_COMPRISES.has(`${bloc.ns} ${bloc.nom}`)) {
      const cps = bloc.ns === NS.wsse ? ' ; l’authentification par carte CPx (WS-Security) n’est pas prise en charge, seul le TLS mutuel l’est' : '';
      throw new FauteSoap('MustUnderstand', 'socle_400', `En-tête {${bloc.ns}}${bloc.nom} non compris${cps}`);
    }
  }
  const lps = enfant(enfant(entete, NS.ctxLps, 'ContexteLPS'), NS.ctxLps, 'LPS');
  const idam = texte(lps, NS.ctxLps, 'IDAM');
  if (!enfant(entete, NS.ctxBam, 'ContexteBAM')) throw invalide("En-tête ctxbam:ContexteBAM absent (Id, Temps, Emetteur, COUVERTURE)");
  if (!idam) throw new FauteSoap('Sender', 'desir_550', "Numéro d'autorisation du logiciel inconnu : en-tête ctxlps:ContexteLPS/LPS/IDAM absent ou vide");

  const corps = enfant(racine, NS.soap, 'Body');
  const contenu = corps?.enfants[0];
  if (!contenu || corps.enfants.length > 1) throw invalide('Le corps SOAP doit contenir exactement un élément de requête');
  const operation = (Object.keys(OPERATIONS) as NomOperation[]).find((o) => OPERATIONS[o].ns === contenu.ns && OPERATIONS[o].element === contenu.nom);
  if (!operation) {
    const connues = Object.values(OPERATIONS).map((o) => `{${o.ns}}${o.element}`).join(', ');
    throw invalide(`Requête {${contenu.ns}}${contenu.nom} inconnue : ${connues} attendue`);
  }
  const actionSoap = texte(entete, NS.wsa, 'Action') ?? actionHttp;
  if (actionSoap && actionSoap !== action(operation)) throw invalide(`L'action ${actionSoap} ne correspond pas à la requête ${contenu.nom} (${action(operation)})`);

  return {
    requete: requete(operation, contenu),
    lps: { idam, nom: texte(lps, NS.ctxLps, 'Nom') },
  };
}

function requete(operation: NomOperation, e: ElementXml): RequeteInsi {
  const ns = e.ns;
  const traits = (): TraitsInsi => ({
    nomNaissance: texte(e, ns, 'NomNaissance') ?? '',
    prenoms: enfants(e, ns, 'Prenom').map((p) => p.texte.trim()),
    sexe: texte(e, ns, 'Sexe') ?? '',
    dateNaissance: texte(e, ns, 'DateNaissance') ?? '',
    lieuNaissance: texte(e, ns, 'LieuNaissance'),
  });
  const matricule = (nom: string) => {
    const m = enfant(e, ns, nom);
    return m && `${texte(m, ns, 'NumIdentifiant') ?? ''}${texte(m, ns, 'Cle') ?? ''}`;
  };
  switch (operation) {
    case 'rechercherInsAvecTraitsIdentite':
      return { operation, traits: traits() };
    case 'rechercherInsAvecCarteVitale':
      return {
        operation,
        carte: {
          matriculeIndividu: matricule('MatriculeIndividu'),
          matriculeOuvrantDroit: matricule('MatriculeOD'),
          nomNaissance: texte(e, ns, 'NomNaissance'),
          dateNaissance: texte(e, ns, 'DateNaissance'),
          rangNaissance: texte(e, ns, 'RangNaissance'),
        },
      };
    case 'verifierInsAvecTraitsIdentite':
      return { operation, matricule: matricule('MatriculeINS') ?? '', oid: texte(e, ns, 'OID'), traits: traits() };
  }
}

const enveloppe = (corps: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="${NS.soap}"><env:Body>${corps}</env:Body></env:Envelope>`;

export function xmlResultat(r: ResultatInsi): string {
  const cr = `<CR>${el('CodeCR', r.code)}${el('LibelleCR', r.libelle)}</CR>`;
  return enveloppe(`<RESULTAT xmlns="${NS.resultat}">${cr}${r.identite ? individu(r.identite) : ''}</RESULTAT>`);
}

function individu(i: IdentiteReference): string {
  const ins = `<INSACTIF><IdIndividu>${el('NumIdentifiant', i.nir.slice(0, 13))}${el('Cle', i.nir.slice(13))}</IdIndividu>${el('OID', i.oid)}</INSACTIF>`;
  const tiq =
    el('NomNaissance', i.nomNaissance) +
    el('Prenom', i.prenoms[0]) +
    el('ListePrenom', i.prenoms.join(' ')) +
    el('Sexe', i.sexe) +
    el('DateNaissance', i.dateNaissance) +
    el('LieuNaissance', i.lieuNaissance);
  return `<INDIVIDU>${ins}<TIQ>${tiq}</TIQ></INDIVIDU>`;
}

export function xmlFaute(f: FauteSoap, messageId?: string): string {
  const sousCode = f.code === 'Sender' ? `<env:Subcode><env:Value>siram:siram_100</env:Value></env:Subcode>` : '';
  const id = messageId ? ` messageID="${echapper(messageId)}"` : '';
  return enveloppe(
    `<env:Fault xmlns:siram="${NS.siram}"><env:Code><env:Value>env:${f.code}</env:Value>${sousCode}</env:Code>` +
      `<env:Reason><env:Text xml:lang="fr">${echapper(f.message)}</env:Text></env:Reason>` +
      `<env:Detail><siram:Erreur code="${echapper(f.erreur)}" severite="erreur"${id}>${echapper(f.message)}</siram:Erreur></env:Detail></env:Fault>`,
  );
}
