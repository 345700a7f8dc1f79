// The WSDL served at /insi?wsdl: the portType and SOAP 1.2 binding of the CNAM WSDL DESIR_ICIR_EXP
// 1.5.0 (same operation, element and action names), with the XSDs inlined so that a client binds from
// this one document, and Socle's vérification operation added. Headers (ContexteBAM, ContexteLPS,
// WS-Addressing) are described in the documentation rather than as header parts: clients add them.
import { echapper } from './xml.ts';
import { action, NS, OPERATIONS, type NomOperation } from './soap.ts';

const MATRICULE = `<xs:complexType name="Matricule"><xs:sequence>
        <xs:element name="NumIdentifiant" type="xs:string" minOccurs="0"/>
        <xs:element name="Cle" type="xs:string" minOccurs="0"/>
        <xs:element name="TypeMatricule" type="xs:string" minOccurs="0"/>
      </xs:sequence></xs:complexType>`;

const TRAITS_RECHERCHE = `<xs:element name="NomNaissance" type="xs:string" minOccurs="0"/>
        <xs:element name="Prenom" type="xs:string" minOccurs="0" maxOccurs="unbounded"/>
        <xs:element name="Sexe" type="xs:string" minOccurs="0"/>
        <xs:element name="DateNaissance" type="xs:string" minOccurs="0"/>
        <xs:element name="LieuNaissance" type="xs:string" minOccurs="0"/>`;

const SCHEMAS = `
    <xs:schema targetNamespace="${NS.recSans}" xmlns="${NS.recSans}" elementFormDefault="qualified">
      <xs:element name="RECSANSVITALE" type="TraitsDIdentite"/>
      <xs:complexType name="TraitsDIdentite"><xs:sequence>
        ${TRAITS_RECHERCHE}
      </xs:sequence></xs:complexType>
    </xs:schema>
    <xs:schema targetNamespace="${NS.recVit}" xmlns="${NS.recVit}" elementFormDefault="qualified">
      <xs:element name="RECVITALE" type="Beneficiaire"/>
      <xs:complexType name="Beneficiaire"><xs:sequence>
        <xs:element name="MatriculeIndividu" type="Matricule" minOccurs="0"/>
        <xs:element name="MatriculeOD" type="Matricule" minOccurs="0"/>
        <xs:element name="NomNaissance" type="xs:string" minOccurs="0"/>
        <xs:element name="DateNaissance" type="xs:string" minOccurs="0"/>
        <xs:element name="RangNaissance" type="xs:string" minOccurs="0"/>
      </xs:sequence></xs:complexType>
      ${MATRICULE}
    </xs:schema>
    <xs:schema targetNamespace="${NS.verif}" xmlns="${NS.verif}" elementFormDefault="qualified">
      <xs:element name="VERIFINS" type="Verification"/>
      <xs:complexType name="Verification"><xs:sequence>
        <xs:element name="MatriculeINS" type="Matricule"/>
        <xs:element name="OID" type="xs:string" minOccurs="0"/>
        ${TRAITS_RECHERCHE}
      </xs:sequence></xs:complexType>
      ${MATRICULE}
    </xs:schema>
    <xs:schema targetNamespace="${NS.resultat}" xmlns="${NS.resultat}" elementFormDefault="qualified">
      <xs:element name="RESULTAT" type="Resultat"/>
      <xs:complexType name="Resultat"><xs:sequence>
        <xs:element name="CR" type="CompteRendu"/>
        <xs:element name="INDIVIDU" type="Individu" minOccurs="0"/>
      </xs:sequence></xs:complexType>
      <xs:complexType name="CompteRendu"><xs:sequence>
        <xs:element name="CodeCR" type="xs:string"/>
        <xs:element name="LibelleCR" type="xs:string"/>
      </xs:sequence></xs:complexType>
      <xs:complexType name="Individu"><xs:sequence>
        <xs:element name="INSACTIF" type="IdentifiantNationalSante"/>
        <xs:element name="INSHISTO" type="IdentifiantNationalSante" minOccurs="0" maxOccurs="unbounded"/>
        <xs:element name="TIQ" type="TraitsDIdentite"/>
      </xs:sequence></xs:complexType>
      <xs:complexType name="IdentifiantNationalSante"><xs:sequence>
        <xs:element name="IdIndividu" type="Matricule"/>
        <xs:element name="OID" type="xs:string"/>
        <xs:element name="DateDeb" type="xs:date" minOccurs="0"/>
        <xs:element name="DateFin" type="xs:date" minOccurs="0"/>
      </xs:sequence></xs:complexType>
      <xs:complexType name="TraitsDIdentite"><xs:sequence>
        <xs:element name="NomNaissance" type="xs:string" minOccurs="0"/>
        <xs:element name="Prenom" type="xs:string" minOccurs="0"/>
        <xs:element name="ListePrenom" type="xs:string" minOccurs="0"/>
        <xs:element name="Sexe" type="xs:string" minOccurs="0"/>
        <xs:element name="DateNaissance" type="xs:string" minOccurs="0"/>
        <xs:element name="LieuNaissance" type="xs:string" minOccurs="0"/>
      </xs:sequence></xs:complexType>
      ${MATRICULE}
    </xs:schema>`;

const PREFIXES: Record<NomOperation, string> = {
  rechercherInsAvecTraitsIdentite: 'rs',
  rechercherInsAvecCarteVitale: 'rv',
  verifierInsAvecTraitsIdentite: 'vf',
};

const noms = Object.keys(OPERATIONS) as NomOperation[];

/** The WSDL, with the service address a client should call (the platform's TLS listener). */
export function wsdl(adresse: string): string {
  const messages = noms
    .map(
      (o) =>
        `<wsdl:message name="${o}"><wsdl:part name="${o}" element="${PREFIXES[o]}:${OPERATIONS[o].element}"/></wsdl:message>` +
        `<wsdl:message name="${o}Response"><wsdl:part name="${o}Response" element="res:RESULTAT"/></wsdl:message>`,
    )
    .join('\n  ');
  const portType = noms
    .map(
      (o) =>
        `<wsdl:operation name="${o}"><wsdl:input name="${o}" message="tns:${o}" wsaw:Action="${action(o)}"/>` +
        `<wsdl:output name="${o}Response" message="tns:${o}Response" wsaw:Action="${action(o)}Response"/></wsdl:operation>`,
    )
    .join('\n    ');
  const binding = noms
    .map(
      (o) =>
        `<wsdl:operation name="${o}"><soap12:operation soapAction="${action(o)}"/>` +
        `<wsdl:input name="${o}"><soap12:body use="literal"/></wsdl:input>` +
        `<wsdl:output name="${o}Response"><soap12:body use="literal"/></wsdl:output></wsdl:operation>`,
    )
    .join('\n    ');
  return `<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="ServiceIdentiteCertifiee-v1" targetNamespace="http://www.cnamts.fr/webservice"
  xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:tns="http://www.cnamts.fr/webservice"
  xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" xmlns:xs="http://www.w3.org/2001/XMLSchema"
  xmlns:wsaw="http://www.w3.org/2006/05/addressing/wsdl"
  xmlns:rs="${NS.recSans}" xmlns:rv="${NS.recVit}" xmlns:vf="${NS.verif}" xmlns:res="${NS.resultat}">
  <wsdl:documentation>Téléservice INSi de Socle (simulateur) : récupération de l'INS par traits d'identité ou par carte Vitale,
    vérification d'un matricule INS (opération propre à Socle). SOAP 1.2, TLS mutuel avec un certificat INSI-AUTO ou INSI-MANU
    émis par la plateforme. En-têtes obligatoires : ctxbam:ContexteBAM (${NS.ctxBam}) et ctxlps:ContexteLPS (${NS.ctxLps})
    avec LPS/IDAM ; wsa:Action et wsa:MessageID recommandés.</wsdl:documentation>
  <wsdl:types>${SCHEMAS}
  </wsdl:types>
  ${messages}
  <wsdl:portType name="ICIRService">
    ${portType}
  </wsdl:portType>
  <wsdl:binding name="ICIRServiceBinding" type="tns:ICIRService">
    <soap12:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    ${binding}
  </wsdl:binding>
  <wsdl:service name="ICIR-v1">
    <wsdl:port name="ICIRService" binding="tns:ICIRServiceBinding"><soap12:address location="${echapper(adresse)}"/></wsdl:port>
  </wsdl:service>
</wsdl:definitions>
`;
}
