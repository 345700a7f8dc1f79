// From extract lines to the Annuaire's public-data (DP) resources. Resource ids derive from business
// keys, so that a Practitioner and its PractitionerRoles reference each other without a look-up and a
// re-import lands on the same resources.
import { createHash } from 'node:crypto';
import type { Address, CodeableConcept, ContactPoint, Organization, Practitioner, PractitionerQualification, PractitionerRole } from '@medplum/fhirtypes';
import type { Etablissement, Geolocalisation } from './finess.ts';
import { EXT, meta, nos, PROFILS, SYSTEMES } from './profils.ts';
import type { LigneActivite, LigneDiplome, LigneSavoirFaire } from './rpps.ts';
import { systemeSavoirFaire } from './nomenclatures.ts';
import { agenceRegionale, autoriteRpps, departementFiness } from './autorites.ts';
import { finessValide } from './identifiants.ts';

const coding = (table: string, code: string, display?: string) => ({ system: nos(table), code, ...(display ? { display } : {}) });
const typeIdentifiant = (code: string): CodeableConcept => ({ coding: [{ system: SYSTEMES.typeIdentifiant, code }] });
const typeOrganisation = (slice: string, c: { system: string; code: string; display?: string }): CodeableConcept => ({
  extension: [{ url: EXT.organizationTypes, valueCode: slice }],
  coding: [c],
});

/** Id of a resource from its business key: readable prefix, and a hash when the key could exceed the id syntax. */
export function idDepuisCle(prefixe: string, cle: string): string {
  return /^[A-Za-z0-9.-]{1,50}$/.test(cle) ? `${prefixe}-${cle}` : `${prefixe}-${createHash('sha256').update(cle).digest('hex').slice(0, 32)}`;
}

const estMssante = (email: string) => /@([a-z0-9-]+\.)*mssante\.fr$/i.test(email);

function boiteMssante(email: string, type: 'PER' | 'ORG'): ContactPoint {
  return {
    extension: [
      { url: EXT.emailType, valueCoding: coding('TRE_R256-TypeMessagerie', 'MSSANTE') },
      { url: EXT.mailboxMetadata, extension: [{ url: 'type', valueCodeableConcept: { coding: [coding('TRE_R257-TypeBAL', type)] } }] },
    ],
    system: 'email',
    value: email,
  };
}

/** One Practitioner per "Identification nationale PP", from all its activity lines and its two companion files. */
export function practitioner(lignes: LigneActivite[], savoirFaire: LigneSavoirFaire[], diplomes: LigneDiplome[]): Practitioner {
  const p = lignes[0]!;
  const rpps = p.typeId === '8';
  const qualification: PractitionerQualification[] = [];
  const vus = new Set<string>();
  const ajouter = (q: PractitionerQualification) => {
    const cle = JSON.stringify(q.code.coding);
    if (!vus.has(cle)) vus.add(cle), qualification.push(q);
  };
  for (const d of diplomes) {
    // TRE_R48 lists the French State diplomas (type DE); other types keep their label as text.
    const codings = [
      ...(d.typeDiplome === 'DE' && d.diplome ? [coding('TRE_R48-DiplomeEtatFrancais', d.diplome)] : []),
      ...(d.typeDiplome ? [coding('TRE_R14-TypeDiplome', d.typeDiplome)] : []),
    ];
    if (codings.length > 0) ajouter({ code: { coding: codings, ...(d.libelle ? { text: d.libelle } : {}) } });
  }
  for (const l of lignes) {
    ajouter({
      code: { coding: [coding('TRE_G15-ProfessionSante', l.profession, l.libelleProfession || undefined), ...(l.categorie ? [coding('TRE_R09-CategorieProfessionnelle', l.categorie)] : [])] },
    });
  }
  const savoirs = [...lignes.map((l) => ({ type: l.typeSavoirFaire, code: l.savoirFaire, libelle: l.libelleSavoirFaire })), ...savoirFaire.map((s) => ({ type: s.typeSavoirFaire, code: s.savoirFaire, libelle: s.libelle }))];
  for (const s of savoirs) {
    const systeme = s.code ? systemeSavoirFaire(s.code) : undefined;
    if (!systeme) continue;
    ajouter({
      code: { coding: [{ system: systeme, code: s.code, ...(s.libelle ? { display: s.libelle } : {}) }, ...(s.type ? [coding('TRE_R04-TypeSavoirFaire', s.type)] : [])] },
    });
  }
  const mss = [...new Set(lignes.map((l) => l.email).filter(estMssante))];
  return {
    resourceType: 'Practitioner',
    id: idDepuisCle('ps', p.idNat),
    // ADELI-only professionals cannot meet as-dp-practitioner (an RPPS identifier 1..1): FR Core only.
    meta: meta('Practitioner', 'RPPS', { autorite: autoriteRpps(p.autorite, 'professionnel', departement(p)), profils: rpps ? PROFILS.Practitioner : [PROFILS.Practitioner[0]] }),
    identifier: [
      { use: 'official', type: typeIdentifiant('IDNPS'), system: SYSTEMES.idNatPs, value: p.idNat },
      ...(rpps ? [{ use: 'official' as const, type: typeIdentifiant('RPPS'), system: SYSTEMES.rpps, value: p.id }] : []),
    ],
    active: true,
    name: [
      {
        use: 'usual',
        family: p.nom,
        ...(p.prenom ? { given: [p.prenom] } : {}),
        ...(p.civilite ? { prefix: [p.civilite] } : {}),
        ...(p.civiliteExercice ? { suffix: [p.civiliteExercice] } : {}),
      },
    ],
    ...(mss.length > 0 ? { telecom: mss.map((m) => boiteMssante(m, 'PER')) } : {}),
    ...(qualification.length > 0 ? { qualification } : {}),
  };
}

/** The structure of an activity line, as the RPPS describes it; its key is the technical id. */
export function cleStructureRpps(l: LigneActivite): string | undefined {
  return l.idStructure || (l.siret ? `C${l.siret}` : l.finessSite ? `F${l.finessSite}` : undefined);
}

/** The FINESS établissement number of an activity's site, when it has a valid one. */
export const finessSite = (l: LigneActivite): string | undefined => (l.finessSite && finessValide(l.finessSite) ? l.finessSite : undefined);

/**
 * The Organization of an activity line. One resource per structure, whichever file comes first: a site
 * with a FINESS établissement number is the FINESS-keyed Organization (eg-<FINESS>) that the FINESS import
 * writes too; the other structures are keyed by the RPPS technical id (st-<id>).
 */
export function idOrganisationRpps(l: LigneActivite): string | undefined {
  const finess = finessSite(l);
  if (finess) return idDepuisCle('eg', finess);
  const cle = cleStructureRpps(l);
  return cle ? idDepuisCle('st', cle) : undefined;
}

/** The department of an activity's structure: its column, else from the commune or postal code. */
function departement(l: LigneActivite): string {
  const code = l.codeCommune || l.codePostal;
  return l.departement || (code.startsWith('97') ? code.slice(0, 3) : code.slice(0, 2));
}

/** idSituationExercice: the practitioner plus what makes the situation (structure, profession, mode, role, activity). */
export function idSituation(l: LigneActivite): string {
  const empreinte = [l.profession, cleStructureRpps(l) ?? '', l.modeExercice, l.role, l.genreActivite, l.secteur, l.sectionPharmacien].join('|');
  return `${l.idNat}-${createHash('sha256').update(empreinte).digest('hex').slice(0, 12)}`;
}

export function practitionerRole(l: LigneActivite): PractitionerRole {
  const structure = idOrganisationRpps(l);
  const codes: CodeableConcept[] = [
    ...(l.genreActivite ? [{ coding: [coding('TRE_R22-GenreActivite', l.genreActivite)] }] : []),
    ...(l.modeExercice ? [{ coding: [coding('TRE_R23-ModeExercice', l.modeExercice)] }] : []),
    ...(l.role ? [{ coding: [coding(l.role.startsWith('FON') ? 'TRE_R21-Fonction' : 'TRE_R85-RolePriseCharge', l.role)] }] : []),
    ...(l.sectionPharmacien ? [{ coding: [coding('TRE_R06-SectionTableauCNOP', l.sectionPharmacien)] }] : []),
  ];
  const situation = idSituation(l);
  return {
    resourceType: 'PractitionerRole',
    id: idDepuisCle('se', situation),
    meta: meta('PractitionerRole', 'RPPS', { autorite: autoriteRpps(l.autorite, 'activite', departement(l)) }),
    identifier: [{ system: SYSTEMES.rpps, value: situation }],
    active: true,
    practitioner: { reference: `Practitioner/${idDepuisCle('ps', l.idNat)}` },
    ...(structure ? { organization: { reference: `Organization/${structure}` } } : {}),
    ...(codes.length > 0 ? { code: codes } : {}),
    ...(estMssante(l.email) ? { telecom: [boiteMssante(l.email, 'PER')] } : {}),
  };
}

function adresse(a: { numero: string; indice?: string; typeVoie: string; voie: string; complement?: string; lieuDit?: string; codePostal: string; ville: string; insee?: string; position?: { latitude: number; longitude: number } }): Address | undefined {
  const ligne = [[a.numero, a.indice, a.typeVoie, a.voie].filter(Boolean).join(' '), a.complement, a.lieuDit].filter((s): s is string => !!s);
  if (ligne.length === 0 && !a.codePostal && !a.ville) return undefined;
  const extension = [
    ...(a.insee ? [{ url: EXT.inseeCode, valueCoding: { system: nos('TRE_R13-Commune'), code: a.insee } }] : []),
    ...(a.position
      ? [{ url: EXT.geolocation, extension: [{ url: 'latitude', valueDecimal: arrondi(a.position.latitude) }, { url: 'longitude', valueDecimal: arrondi(a.position.longitude) }] }]
      : []),
  ];
  return {
    ...(extension.length > 0 ? { extension } : {}),
    use: 'work',
    type: 'both',
    ...(ligne.length > 0 ? { line: ligne } : {}),
    ...(a.ville ? { city: a.ville } : {}),
    ...(a.codePostal ? { postalCode: a.codePostal } : {}),
    country: 'FRA',
  };
}

const arrondi = (v: number) => Math.round(v * 1e6) / 1e6;

/** idNat_Struct from the technical id when the extract has no "ancien identifiant": 1 FINESS, 3 SIRET, 4 RPPS. */
function idNatStructure(cle: string): string {
  const prefixe = { F: '1', C: '3', R: '4' }[cle[0]!];
  return prefixe ? `${prefixe}${cle.slice(1)}` : `4${cle}`;
}

/** An RPPS structure (cabinet, officine, site of an establishment) from the structure columns. */
export function organisationRpps(l: LigneActivite): Organization {
  const cle = cleStructureRpps(l)!;
  const finess = finessSite(l);
  const ville = l.libelleCommune || l.bureauCedex.replace(/^\d{5}\s*/, '');
  const a = adresse({ numero: l.numeroVoie, indice: l.indiceRepetition, typeVoie: l.typeVoie, voie: l.voie, complement: l.complementPoint, codePostal: l.codePostal, ville, insee: l.codeCommune || undefined });
  return {
    resourceType: 'Organization',
    id: idOrganisationRpps(l)!,
    meta: meta('Organization', 'RPPS', { autorite: autoriteRpps(l.autorite, 'activite', departement(l)) }),
    identifier: [
      // A FINESS site is identified nationally by its FINESS number ("1" + FINESS), whichever file says so.
      { use: 'official', type: typeIdentifiant('IDNST'), system: SYSTEMES.idNatSt, value: finess ? `1${finess}` : l.ancienId || idNatStructure(cle) },
      ...(l.idStructure ? [{ use: 'official' as const, type: typeIdentifiant('RPPSRG'), system: SYSTEMES.rppsRang, value: l.idStructure }] : []),
      ...(finess ? [{ use: 'official' as const, type: typeIdentifiant('FINEG'), system: SYSTEMES.finess, value: finess }] : []),
      ...(l.siret ? [{ use: 'official' as const, type: typeIdentifiant('SIRET'), system: SYSTEMES.sirene, value: l.siret }] : []),
      ...(l.siren ? [{ use: 'official' as const, type: typeIdentifiant('SIREN'), system: SYSTEMES.sirene, value: l.siren }] : []),
    ],
    active: true,
    type: [
      typeOrganisation('organizationType', { system: SYSTEMES.typeOrganisation, code: 'GEOGRAPHICAL-ENTITY' }),
      ...(l.secteur ? [typeOrganisation('secteurActiviteRASS', coding('TRE_R02-SecteurActivite', l.secteur, l.libelleSecteur || undefined))] : []),
    ],
    name: l.raisonSociale || l.enseigne || cle,
    ...(l.enseigne && l.enseigne !== l.raisonSociale ? { alias: [l.enseigne] } : {}),
    ...telecoms(l.telephone, l.telecopie),
    ...(a ? { address: [a] } : {}),
  };
}

function telecoms(telephone: string, telecopie: string): Pick<Organization, 'telecom'> {
  const t: ContactPoint[] = [...(telephone ? [{ system: 'phone' as const, value: telephone }] : []), ...(telecopie ? [{ system: 'fax' as const, value: telecopie }] : [])];
  return t.length > 0 ? { telecom: t } : {};
}

/**
 * A FINESS établissement (EG), part of its entité juridique. Its registration authority is the ARS of its
 * region (FINESS also has social establishments registered by the DREETS, a code JDV_J83 does not list).
 */
export function organisationFiness(e: Etablissement, geo: Geolocalisation | undefined): Organization {
  const [codePostal = '', ...villeMots] = e.ligneacheminement.split(' ');
  const insee = /^\d{3}$/.test(e.commune) ? codeInsee(e.departement, e.commune) : undefined;
  const a = adresse({ numero: e.numvoie, indice: e.compvoie, typeVoie: e.typvoie, voie: e.voie, complement: e.compldistrib, lieuDit: e.lieuditbp, codePostal: /^\d{5}$/.test(codePostal) ? codePostal : '', ville: villeMots.join(' '), insee, position: geo?.position });
  return {
    resourceType: 'Organization',
    id: idDepuisCle('eg', e.nofinesset),
    meta: meta('Organization', 'FINESS', { dateMaj: e.datemaj || undefined, autorite: agenceRegionale(e.departement) }),
    ...(e.dateouv ? { extension: [{ url: EXT.organizationPeriod, valuePeriod: { start: e.dateouv } }] } : {}),
    identifier: [
      { use: 'official', type: typeIdentifiant('IDNST'), system: SYSTEMES.idNatSt, value: `1${e.nofinesset}` },
      { use: 'official', type: typeIdentifiant('FINEG'), system: SYSTEMES.finess, value: e.nofinesset },
      ...(e.siret ? [{ use: 'official' as const, type: typeIdentifiant('SIRET'), system: SYSTEMES.sirene, value: e.siret }] : []),
    ],
    active: true,
    type: [
      typeOrganisation('organizationType', { system: SYSTEMES.typeOrganisation, code: 'GEOGRAPHICAL-ENTITY' }),
      // The categorieEtablissementRASS slice has no as-ext-organization-types code of its own.
      ...(e.categetab ? [{ coding: [coding('TRE_R66-CategorieEtablissement', e.categetab, e.libcategetab || undefined)] }] : []),
      ...(e.codesph ? [typeOrganisation('sphParticipation', coding('TRE_R73-ESPIC', e.codesph))] : []),
    ],
    name: e.rslongue || e.rs,
    ...(e.rslongue && e.rs !== e.rslongue ? { alias: [e.rs] } : {}),
    ...telecoms(e.telephone, e.telecopie),
    ...(a ? { address: [a] } : {}),
    ...(e.nofinessej ? { partOf: { reference: `Organization/${idDepuisCle('ej', e.nofinessej)}` } } : {}),
  };
}

/** FINESS writes overseas departments 9A…9F and the commune on three digits: 9A + 105 is 97105. */
function codeInsee(departement: string, commune: string): string | undefined {
  if (/^9[A-F]$/.test(departement)) return `97${commune}`;
  return /^(\d{2}|2[AB])$/.test(departement) ? `${departement}${commune}` : undefined;
}

/** The entité juridique as cs1100507 knows it: its number only (its own record is in another extract). */
export function entiteJuridique(nofinessej: string): Organization {
  return {
    resourceType: 'Organization',
    id: idDepuisCle('ej', nofinessej),
    meta: meta('Organization', 'FINESS', { autorite: agenceRegionale(departementFiness(nofinessej)) }),
    identifier: [
      { use: 'official', type: typeIdentifiant('IDNST'), system: SYSTEMES.idNatSt, value: `1${nofinessej}` },
      { use: 'official', type: typeIdentifiant('FINEJ'), system: SYSTEMES.finess, value: nofinessej },
    ],
    active: true,
    type: [typeOrganisation('organizationType', { system: SYSTEMES.typeOrganisation, code: 'LEGAL-ENTITY' })],
    name: `Entité juridique FINESS ${nofinessej}`,
  };
}
