// Errors of the INS référentiel: a stable code for programs, a precise French message for people.
export type CodeErreurIns =
  | 'VIDE'
  | 'LONGUEUR'
  | 'CARACTERE'
  | 'SEXE'
  | 'MOIS'
  | 'DEPARTEMENT'
  | 'COMMUNE'
  | 'PAYS'
  | 'ORDRE'
  | 'CLE';

export class InsError extends Error {
  readonly code: CodeErreurIns;

  constructor(code: CodeErreurIns, message: string) {
    super(message);
    this.name = 'InsError';
    this.code = code;
  }
}
