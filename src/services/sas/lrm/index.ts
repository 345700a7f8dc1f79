// LRM contextual search (INT_L01): the emergency call centre's software opens the portal with the
// patient's context in the URL — origin (the calling LRM, checked against an allow-list),
// médecin traitant, specialty (or "speciality"), INSEE code, city, street name and number — and
// the regulator lands on the pre-filled search, médecin traitant pinned first.
import { referentiel, type Specialite } from '../recherche/referentiel.ts';

export const RPPS_OID = 'urn:oid:1.2.250.1.71.4.2.1';
/** What the national platform searches when the LRM sends no specialty. */
const SPECIALITE_PAR_DEFAUT = 'R38:SM54';

export interface ParametresLrm {
  origin?: string;
  practitioner?: string;
  specialty?: string;
  speciality?: string;
  inseecode?: string;
  city?: string;
  streetname?: string;
  streetnumber?: string;
}

export interface RechercheLrm {
  origin: string;
  medecinTraitant?: { idnat?: string; nom?: string };
  specialite?: Specialite;
  /** Free-text specialty the nomenclature does not know (shown to the regulator). */
  specialiteTexte?: string;
  insee?: string;
  lieuTexte?: string;
  adresse?: string;
  avertissements: string[];
}

export class ErreurLrm extends Error {}

export const estLrm = (q: ParametresLrm) => q.origin !== undefined;

export function lireLrm(q: ParametresLrm, originesAutorisees: string[]): RechercheLrm {
  const origin = (q.origin ?? '').trim();
  if (!origin || !originesAutorisees.includes(origin)) {
    throw new ErreurLrm(`L'origine « ${origin} » n'est pas reconnue : la recherche contextualisée depuis ce logiciel de régulation n'est pas activée.`);
  }
  const r: RechercheLrm = { origin, avertissements: [] };

  const practitioner = q.practitioner?.trim();
  if (practitioner) {
    const m = /^urn:oid:1\.2\.250\.1\.71\.4\.2\.1\|(8\d{11})$/.exec(practitioner);
    if (m) r.medecinTraitant = { idnat: m[1] };
    else if (/urn|oid|:|\|/i.test(practitioner)) r.avertissements.push(`L'identifiant du médecin traitant « ${practitioner} » n'est pas au format ${RPPS_OID}|8XXXXXXXXXXX : il n'est pas mis en avant.`);
    else r.medecinTraitant = { nom: practitioner };
  }

  const specialty = (q.specialty ?? q.speciality)?.trim();
  if (specialty && /^urn:oid:\d+(\.\d+)+\|[A-Za-z0-9]+$/.test(specialty)) {
    r.specialite = referentiel().specialite(specialty);
    if (!r.specialite) r.avertissements.push(`La spécialité ${specialty} est inconnue de la nomenclature.`);
  } else if (specialty) {
    r.specialite = referentiel().specialite(specialty);
    if (!r.specialite) r.specialiteTexte = specialty;
  } else {
    r.specialite = referentiel().specialite(SPECIALITE_PAR_DEFAUT);
  }

  const streetnumber = q.streetnumber?.replace(/\D/g, '');
  const streetname = q.streetname?.trim();
  const commune = q.inseecode ? referentiel().commune({ insee: q.inseecode.trim() }) : undefined;
  if (q.inseecode && !commune) r.avertissements.push(`Le code INSEE ${q.inseecode} est inconnu.`);
  const city = commune?.nom ?? q.city?.trim();
  if (commune) r.insee = commune.insee;
  if (city) r.lieuTexte = commune ? `${commune.codesPostaux[0] ?? ''} ${commune.nom}`.trim() : city;
  else r.avertissements.push("L'adresse du patient ne comporte pas de commune : saisissez le lieu de recherche.");
  if (streetnumber && !streetname) r.avertissements.push('Un numéro de voie sans nom de voie a été transmis : il est ignoré.');
  if (streetname && city) r.adresse = `${streetnumber ? `${streetnumber} ` : ''}${streetname}, ${city}`;
  return r;
}
