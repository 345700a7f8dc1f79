// The RNIV state machine (specs/referentiels.md §5.3, RNIV 1 EXI SI 07/09): four exclusive statuses
// from two independent facts, "retrieved from INSi" and "checked against a high-trust identity
// document". Each function takes the current reliability and returns the next one, or refuses:
// 409 when the current state forbids the transition, 422 when the evidence does not support it.
import { FhirError } from '../../../fhir/outcome.ts';
import { ATTRIBUTS, PIECES, STATUTS, type Attribut, type Fiabilite, type Statut } from './identite.ts';

const refus = (message: string) => new FhirError(409, message, 'business-rule');

/** EXI SI 09: a doubtful or fictitious identity stays provisional and must never be sent to INSi. */
export function exigerAppelInsiPermis(f: Fiabilite): void {
  const attribut = (['DOUT', 'FICT'] as const).find((a) => f.attributs.includes(a));
  if (attribut) {
    throw refus(`${ATTRIBUTS[attribut]} (attribut ${attribut}) : le téléservice INSi ne doit pas être appelé pour cette identité (RNIV, EXI SI 09)`);
  }
}

const deStatut = (s: Statut) => `${STATUTS[s].toLowerCase()} (${s})`;

/** INSi returned one identity matching the local traits: PROV → RECUP, VALI → QUAL. */
export function apresRecuperation(f: Fiabilite, aujourdhui: string): Fiabilite {
  exigerAppelInsiPermis(f);
  if (f.statut === 'RECUP' || f.statut === 'QUAL') {
    throw refus(`L'identité est déjà ${deStatut(f.statut)} : son INS se vérifie ($identite-verifier-ins), il ne se récupère pas à nouveau`);
  }
  return { ...f, statut: f.statut === 'VALI' ? 'QUAL' : 'RECUP', modeObtention: 'INSI', dateInterrogationInsi: aujourdhui };
}

/** A high-trust identity document was checked against the traits: PROV → VALI, RECUP → QUAL. */
export function apresValidation(f: Fiabilite, piece: string, date: string): Fiabilite {
  if (!(piece in PIECES)) {
    throw new FhirError(
      422,
      `Pièce « ${piece} » inconnue : un dispositif d'identification à haut niveau de confiance est attendu (${Object.keys(PIECES).join(', ')})`,
      'code-invalid',
    );
  }
  const attribut = (['DOUT', 'FICT'] as const).find((a) => f.attributs.includes(a));
  if (attribut) throw refus(`${ATTRIBUTS[attribut]} (attribut ${attribut}) : l'identité reste provisoire tant que l'attribut n'est pas levé (RNIV, EXI SI 09)`);
  if (f.statut === 'VALI' || f.statut === 'QUAL') throw refus(`L'identité est déjà ${deStatut(f.statut)} : sa pièce d'identité a été contrôlée le ${f.dateValidation ?? '(date inconnue)'}`);
  return { ...f, statut: f.statut === 'RECUP' ? 'QUAL' : 'VALI', piece, dateValidation: date };
}

/**
 * Doubt or fiction: the identity goes back to PROV whatever its status, and loses what INSi and the
 * document check brought (its INS is removed by the caller). FICT and DOUT never go together.
 */
export function apresAttribut(f: Fiabilite, attribut: Attribut): Fiabilite {
  if (f.attributs.includes(attribut)) throw refus(`L'identité porte déjà l'attribut ${ATTRIBUTS[attribut].toLowerCase()} (${attribut})`);
  const autre: Attribut = attribut === 'DOUT' ? 'FICT' : 'DOUT';
  if (f.attributs.includes(autre)) {
    throw refus(`Les attributs identité fictive (FICT) et identité douteuse (DOUT) ne se cumulent pas : l'identité porte déjà ${autre}`);
  }
  return { statut: 'PROV', attributs: [...f.attributs, attribut], modeObtention: f.modeObtention };
}

/** The doubt is resolved, or the identity is no longer fictitious: it stays PROV until retrieved or validated again. */
export function apresLevee(f: Fiabilite, attribut: Attribut): Fiabilite {
  if (!f.attributs.includes(attribut)) throw refus(`L'identité ne porte pas l'attribut ${ATTRIBUTS[attribut].toLowerCase()} (${attribut})`);
  return { ...f, attributs: f.attributs.filter((a) => a !== attribut) };
}

/**
 * The stored INS was checked again with INSi. Confirmed: the status stays. Not confirmed: the INS can
 * no longer be trusted, the identity falls back to PROV (or VALI if its document was checked).
 */
export function apresVerification(f: Fiabilite, confirme: boolean, aujourdhui: string): Fiabilite {
  exigerAppelInsiPermis(f);
  if (f.statut !== 'RECUP' && f.statut !== 'QUAL') throw refus(`L'identité est ${deStatut(f.statut)} : elle n'a pas d'INS récupéré à vérifier`);
  if (confirme) return { ...f, dateInterrogationInsi: aujourdhui };
  const { modeObtention: _m, ...reste } = f;
  return { ...reste, statut: f.statut === 'QUAL' ? 'VALI' : 'PROV', dateInterrogationInsi: aujourdhui };
}
