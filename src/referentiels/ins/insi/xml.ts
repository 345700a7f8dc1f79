// A small XML reader for SOAP messages: elements with resolved namespaces, attributes and text.
// Written here rather than taken from a library because SOAP needs namespace resolution (which the
// light parsers leave to the caller) and because refusing every DTD is the simplest defence against
// entity expansion and external entities: a SOAP 1.2 message must not carry one anyway.

export interface ElementXml {
  ns: string;
  nom: string;
  /** Attributes by local name (the INSi messages use no two attributes with one local name). */
  attributs: Map<string, string>;
  enfants: ElementXml[];
  /** Text directly inside the element, entities decoded. */
  texte: string;
}

export class XmlInvalide extends Error {}

const ENTITES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const NOM = /[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/y;
const PROFONDEUR_MAX = 64;

export function lireXml(source: string): ElementXml {
  let i = 0;
  const erreur = (message: string) => new XmlInvalide(`XML invalide (caractère ${i + 1}) : ${message}`);

  const passerEspaces = () => {
    while (i < source.length && /\s/u.test(source[i]!)) i++;
  };
  const lireNom = () => {
    NOM.lastIndex = i;
    const m = NOM.exec(source);
    if (!m) throw erreur('nom attendu');
    i += m[0].length;
    return m[0];
  };
  const decoder = (texte: string) =>
    texte.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);|&/gu, (tout, ref: string | undefined) => {
      if (!ref) throw erreur('« & » doit commencer une entité');
      if (ref[0] === '#') {
        const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
        if (code < 1 || code > 0x10ffff) throw erreur(`référence de caractère invalide ${tout}`);
        return String.fromCodePoint(code);
      }
      const e = ENTITES[ref];
      if (e === undefined) throw erreur(`entité inconnue ${tout}`);
      return e;
    });
  // Comments, processing instructions (the XML declaration included); a DTD is refused.
  const passerDivers = () => {
    for (;;) {
      passerEspaces();
      if (source.startsWith('<!--', i)) {
        const fin = source.indexOf('-->', i + 4);
        if (fin < 0) throw erreur('commentaire non fermé');
        i = fin + 3;
      } else if (source.startsWith('<?', i)) {
        const fin = source.indexOf('?>', i + 2);
        if (fin < 0) throw erreur('instruction non fermée');
        i = fin + 2;
      } else if (source.startsWith('<!DOCTYPE', i)) {
        throw erreur('les DTD (<!DOCTYPE>) ne sont pas acceptées');
      } else return;
    }
  };

  const lireElement = (portee: Map<string, string>, profondeur: number): ElementXml => {
    if (profondeur > PROFONDEUR_MAX) throw erreur(`plus de ${PROFONDEUR_MAX} niveaux d'éléments`);
    if (source[i] !== '<') throw erreur('élément attendu');
    i++;
    const qnom = lireNom();
    const bruts: [string, string][] = [];
    let vide = false;
    for (;;) {
      passerEspaces();
      if (source.startsWith('/>', i)) {
        i += 2;
        vide = true;
        break;
      }
      if (source[i] === '>') {
        i++;
        break;
      }
      const nom = lireNom();
      passerEspaces();
      if (source[i] !== '=') throw erreur(`« = » attendu après l'attribut ${nom}`);
      i++;
      passerEspaces();
      const guillemet = source[i];
      if (guillemet !== '"' && guillemet !== "'") throw erreur(`valeur entre guillemets attendue pour l'attribut ${nom}`);
      const fin = source.indexOf(guillemet, i + 1);
      if (fin < 0) throw erreur(`valeur non fermée pour l'attribut ${nom}`);
      const valeur = source.slice(i + 1, fin);
      if (valeur.includes('<')) throw erreur(`« < » dans la valeur de l'attribut ${nom}`);
      bruts.push([nom, decoder(valeur)]);
      i = fin + 1;
    }

    let espaces = portee;
    for (const [nom, valeur] of bruts) {
      if (nom === 'xmlns' || nom.startsWith('xmlns:')) {
        if (espaces === portee) espaces = new Map(portee);
        espaces.set(nom === 'xmlns' ? '' : nom.slice(6), valeur);
      }
    }
    const [prefixe, local] = qnom.includes(':') ? qnom.split(':') : ['', qnom];
    const ns = espaces.get(prefixe!);
    if (ns === undefined) throw erreur(`préfixe d'espace de noms non déclaré « ${prefixe} »`);
    const element: ElementXml = { ns, nom: local!, attributs: new Map(), enfants: [], texte: '' };
    for (const [nom, valeur] of bruts) {
      if (nom !== 'xmlns' && !nom.startsWith('xmlns:')) element.attributs.set(nom.includes(':') ? nom.split(':')[1]! : nom, valeur);
    }
    if (vide) return element;

    for (;;) {
      const suivant = source.indexOf('<', i);
      if (suivant < 0) throw erreur(`élément ${qnom} non fermé`);
      element.texte += decoder(source.slice(i, suivant));
      i = suivant;
      if (source.startsWith('</', i)) {
        i += 2;
        const fermant = lireNom();
        if (fermant !== qnom) throw erreur(`</${fermant}> ferme <${qnom}>`);
        passerEspaces();
        if (source[i] !== '>') throw erreur(`« > » attendu après </${fermant}`);
        i++;
        return element;
      }
      if (source.startsWith('<![CDATA[', i)) {
        const fin = source.indexOf(']]>', i);
        if (fin < 0) throw erreur('section CDATA non fermée');
        element.texte += source.slice(i + 9, fin);
        i = fin + 3;
      } else if (source.startsWith('<!--', i) || source.startsWith('<?', i)) {
        passerDivers();
      } else {
        element.enfants.push(lireElement(espaces, profondeur + 1));
      }
    }
  };

  passerDivers();
  if (i >= source.length) throw erreur('document vide');
  const racine = lireElement(new Map([['', ''], ['xml', 'http://www.w3.org/XML/1998/namespace']]), 0);
  passerDivers();
  if (i < source.length) throw erreur('contenu après l’élément racine');
  return racine;
}

/** The first child with this namespace and local name. */
export function enfant(e: ElementXml | undefined, ns: string, nom: string): ElementXml | undefined {
  return e?.enfants.find((c) => c.ns === ns && c.nom === nom);
}

export function enfants(e: ElementXml | undefined, ns: string, nom: string): ElementXml[] {
  return e?.enfants.filter((c) => c.ns === ns && c.nom === nom) ?? [];
}

/** Trimmed text of a child, undefined when the child is absent or empty. */
export function texte(e: ElementXml | undefined, ns: string, nom: string): string | undefined {
  return enfant(e, ns, nom)?.texte.trim() || undefined;
}

/** Escapes text and double-quoted attribute values. */
export function echapper(valeur: string): string {
  return valeur.replace(/[<>&"]/gu, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot' }[c]};`);
}

/** <nom>valeur</nom>, or nothing when the value is absent. */
export function el(nom: string, valeur: string | undefined): string {
  return valeur === undefined ? '' : `<${nom}>${echapper(valeur)}</${nom}>`;
}
