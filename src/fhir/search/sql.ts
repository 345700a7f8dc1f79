// A small SQL builder: positional parameters collected as fragments are written.
export class Sql {
  readonly params: unknown[] = [];

  /** Adds a parameter and returns its placeholder. */
  p(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

/** Escapes LIKE wildcards so user text matches literally. */
export const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Runs data-modifying steps and a main statement as one statement (one round trip, one snapshot). */
export const withSteps = (steps: string[], main: string) =>
  steps.length === 0 ? main : `WITH ${steps.map((s, i) => `w${i} AS (${s})`).join(', ')} ${main}`;
