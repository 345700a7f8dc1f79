// V1 (INT_R02): regulator accounts the SAS creates and updates in the vendor software (FrPractitionerRegul).
import { randomUUID } from 'node:crypto';
import { PROFIL, SYSTEME } from './profils.ts';

export interface Regulateur {
  id: string; systeme: string; valeur: string; nom: string; prenom: string; email: string; actif: boolean;
  versionId: number; misAJour: string;
}

export interface Probleme { code: 'required' | 'value' | 'duplicate' | 'structure'; expression: string; texte: string }

const TYPES_ID = new Set([SYSTEME.v20203, SYSTEME.v20203FrCore]);
const CODE_ATTENDU: Record<string, string> = { [SYSTEME.idnps]: 'IDNPS', [SYSTEME.sas]: 'INTRN' };
const nonVide = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

type Corps = Record<string, any>;

/** Checks a regulator account against FrPractitionerRegul; returns the problems found (empty when valid). */
export function verifierRegulateur(corps: Corps): Probleme[] {
  const p: Probleme[] = [];
  if (corps?.resourceType !== 'Practitioner') {
    return [{ code: 'structure', expression: 'resourceType', texte: 'the body must be a FHIR Practitioner resource' }];
  }
  if (corps.meta?.source !== undefined && corps.meta.source !== SYSTEME.sas) {
    p.push({ code: 'value', expression: 'Practitioner.meta.source', texte: `meta.source must be ${SYSTEME.sas} (the SAS platform)` });
  }
  const ids: Corps[] = Array.isArray(corps.identifier) ? corps.identifier : [];
  if (ids.length === 0) p.push({ code: 'required', expression: 'Practitioner.identifier', texte: 'identifier is required (IDNPS or SAS technical id)' });
  ids.forEach((id, i) => {
    const ex = `Practitioner.identifier[${i}]`;
    const attendu = CODE_ATTENDU[id.system];
    if (!attendu) p.push({ code: 'value', expression: `${ex}.system`, texte: `system must be ${SYSTEME.idnps} (IDNPS) or ${SYSTEME.sas} (INTRN)` });
    if (!nonVide(id.value)) p.push({ code: 'required', expression: `${ex}.value`, texte: 'identifier.value is required' });
    const coding: Corps[] = id.type?.coding ?? [];
    if (coding.length !== 1 || !TYPES_ID.has(coding[0].system)) {
      p.push({ code: 'required', expression: `${ex}.type`, texte: 'identifier.type must carry one fr-v2-0203 coding (IDNPS or INTRN)' });
    } else if (attendu && coding[0].code !== attendu) {
      p.push({ code: 'value', expression: `${ex}.type.coding[0].code`, texte: `system ${id.system} requires type ${attendu}, got ${coding[0].code}` });
    }
  });
  if (typeof corps.active !== 'boolean') p.push({ code: 'required', expression: 'Practitioner.active', texte: 'active (habilitation) is required' });
  const nom = corps.name?.[0];
  if (!nom) p.push({ code: 'required', expression: 'Practitioner.name', texte: 'name is required' });
  else {
    if (!nonVide(nom.family)) p.push({ code: 'required', expression: 'Practitioner.name[0].family', texte: 'name.family is required and must not be empty' });
    if (!nonVide(nom.given?.[0])) p.push({ code: 'required', expression: 'Practitioner.name[0].given', texte: 'name.given is required and must not be empty' });
  }
  const telecom: Corps[] = Array.isArray(corps.telecom) ? corps.telecom : [];
  if (telecom.length === 0) p.push({ code: 'required', expression: 'Practitioner.telecom', texte: 'telecom (e-mail) is required' });
  telecom.forEach((t, i) => {
    if (t.system !== 'email') p.push({ code: 'value', expression: `Practitioner.telecom[${i}].system`, texte: `telecom.system must be "email", got "${t.system}"` });
    if (!nonVide(t.value)) p.push({ code: 'required', expression: `Practitioner.telecom[${i}].value`, texte: 'telecom.value (e-mail) is required' });
  });
  return p;
}

export class ErreurV1 extends Error {
  constructor(readonly statut: number, readonly problemes: Probleme[]) { super(problemes.map((x) => x.texte).join('; ')); }
}

/** In-memory account store keyed by identifier; only one active account may hold an identifier. */
export class Regulateurs {
  private comptes = new Map<string, Regulateur>();

  lister(): Regulateur[] { return [...this.comptes.values()]; }
  lire(id: string): Regulateur | undefined { return this.comptes.get(id); }
  actifs(): Regulateur[] { return this.lister().filter((r) => r.actif); }

  parIdentifiant(systeme: string, valeur: string): Regulateur | undefined {
    // The active account first: an identifier can be given back after a deactivation.
    const tous = this.lister().filter((r) => r.valeur === valeur && (!systeme || r.systeme === systeme));
    return tous.find((r) => r.actif) ?? tous[0];
  }

  private lireCorps(corps: Corps) {
    const problemes = verifierRegulateur(corps);
    if (problemes.length > 0) throw new ErreurV1(problemes.some((x) => x.code === 'structure') ? 400 : 422, problemes);
    // The national id wins when both are sent (the account is switched from the SAS technical id).
    const ids: Corps[] = corps.identifier;
    const id = ids.find((x) => x.system === SYSTEME.idnps) ?? ids[0];
    return {
      systeme: id.system as string, valeur: (id.value as string).trim(), nom: corps.name[0].family.trim(),
      prenom: corps.name[0].given[0].trim(), email: corps.telecom[0].value.trim(), actif: corps.active as boolean,
    };
  }

  /** Reattributes an identifier held only by deactivated accounts; refuses one held by another active account. */
  private liberer(systeme: string, valeur: string, sauf?: string) {
    for (const r of this.lister()) {
      if (r.id === sauf || r.systeme !== systeme || r.valeur !== valeur) continue;
      if (r.actif) {
        throw new ErreurV1(409, [{ code: 'duplicate', expression: 'Practitioner.identifier', texte: `an active regulator account already has identifier ${systeme}|${valeur}` }]);
      }
      this.comptes.delete(r.id);
    }
  }

  /** POST /Practitioner: the client's `id` is ignored, as for any FHIR create. */
  creer(corps: Corps): Regulateur {
    const c = this.lireCorps(corps);
    this.liberer(c.systeme, c.valeur);
    const r: Regulateur = { id: randomUUID(), ...c, versionId: 1, misAJour: new Date().toISOString() };
    this.comptes.set(r.id, r);
    return r;
  }

  /** PUT /Practitioner?identifier=system|value: update, or create when no account has that identifier. */
  mettreAJour(systeme: string, valeur: string, corps: Corps): { regulateur: Regulateur; cree: boolean } {
    const c = this.lireCorps(corps);
    // Lenient on the system: the kit itself sends one update whose query system differs from the account's.
    const existant = this.parIdentifiant(systeme, valeur) ?? this.parIdentifiant('', valeur);
    if (!existant) return { regulateur: this.creer(corps), cree: true };
    this.liberer(c.systeme, c.valeur, existant.id);
    Object.assign(existant, c, { versionId: existant.versionId + 1, misAJour: new Date().toISOString() });
    return { regulateur: existant, cree: false };
  }
}

export function ressourceRegulateur(r: Regulateur): Record<string, unknown> {
  return {
    resourceType: 'Practitioner', id: r.id,
    meta: { versionId: String(r.versionId), lastUpdated: r.misAJour, source: SYSTEME.sas, profile: [PROFIL.regulateur] },
    identifier: [{ type: { coding: [{ system: SYSTEME.v20203, code: CODE_ATTENDU[r.systeme] }] }, system: r.systeme, value: r.valeur }],
    active: r.actif, name: [{ family: r.nom, given: [r.prenom] }], telecom: [{ system: 'email', value: r.email }],
  };
}
