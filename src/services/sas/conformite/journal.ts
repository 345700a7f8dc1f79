// The checker's results: one line per check, PASS / FAIL / WARN (optional rule of the kit) / SKIP.
export type Statut = 'PASS' | 'FAIL' | 'WARN' | 'SKIP';

export interface Verification { id: string; groupe: string; titre: string; statut: Statut; raison?: string }

/** Thrown by a check to fail with a precise reason. */
export class Echec extends Error {}
/** Thrown by a check that cannot run (missing input, earlier step failed). */
export class Saut extends Error {}

/** A network or TLS error in one short phrase (Node's code when it has one, not OpenSSL's multi-line text). */
export function messageErreur(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}${/^[A-Z_]+$/.test(e.message) ? '' : ` (${e.message.split('\n')[0].replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[a-z0-9_]+:/, '').replace(/:\.\..*$/, '')})`}` : e.message;
}

export function exiger(condition: unknown, raison: string): asserts condition {
  if (!condition) throw new Echec(raison);
}

/** Lists at most a few offenders, with a count of the rest. */
export function liste(elements: string[], max = 5): string {
  return elements.length <= max ? elements.join('; ') : `${elements.slice(0, max).join('; ')}; … and ${elements.length - max} more`;
}

export class Journal {
  readonly verifications: Verification[] = [];
  private noter(v: Verification) {
    this.verifications.push(v);
  }

  /**
   * Runs one check. `optionnel` checks (the kit's optional groups) report WARN instead of FAIL.
   * The check returns nothing to pass, or a string to pass with a note.
   */
  async verifier(groupe: string, id: string, titre: string, fn: () => unknown, optionnel = false): Promise<boolean> {
    try {
      const note = await fn();
      this.noter({ id, groupe, titre, statut: 'PASS', ...(typeof note === 'string' ? { raison: note } : {}) });
      return true;
    } catch (err) {
      if (err instanceof Saut) this.noter({ id, groupe, titre, statut: 'SKIP', raison: err.message });
      else this.noter({ id, groupe, titre, statut: optionnel ? 'WARN' : 'FAIL', raison: err instanceof Echec ? err.message : `error: ${messageErreur(err)}` });
      return false;
    }
  }

  sauter(groupe: string, id: string, titre: string, raison: string) {
    this.noter({ id, groupe, titre, statut: 'SKIP', raison });
  }

  get succes(): boolean { return !this.verifications.some((v) => v.statut === 'FAIL'); }
}
