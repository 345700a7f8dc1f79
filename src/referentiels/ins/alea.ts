// Seeded pseudo-random numbers, so a population is reproducible from its seed alone.
// sfc32 (128-bit state, period ≥ 2^32, fast in 32-bit integer arithmetic), seeded through FNV-1a + splitmix32.

export class Alea {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(graine: string | number) {
    let h = 0x811c9dc5;
    for (const ch of String(graine)) {
      h ^= ch.codePointAt(0)!;
      h = Math.imul(h, 0x01000193);
    }
    const sm = () => {
      h = (h + 0x9e3779b9) | 0;
      let z = h;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm();
    for (let i = 0; i < 12; i++) this.suivant();
  }

  /** Uniform in [0, 1). */
  suivant(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  entier(n: number): number {
    return Math.floor(this.suivant() * n);
  }
}

/**
 * Weighted draws in constant time (Walker's alias method): the communes table has 35,000 entries and is
 * drawn for every identity, where a binary search over running sums costs a cache miss per step.
 */
export class Tirage {
  private readonly seuils: Float64Array;
  private readonly alias: Uint32Array;

  constructor(poids: ArrayLike<number>) {
    const n = poids.length;
    let total = 0;
    for (let i = 0; i < n; i++) total += poids[i]!;
    if (n === 0 || !(total > 0)) throw new RangeError('Tirage : au moins un poids positif attendu');
    this.seuils = new Float64Array(n);
    this.alias = new Uint32Array(n);
    const petits: number[] = [];
    const grands: number[] = [];
    for (let i = 0; i < n; i++) {
      this.seuils[i] = (poids[i]! * n) / total;
      (this.seuils[i]! < 1 ? petits : grands).push(i);
    }
    while (petits.length > 0 && grands.length > 0) {
      const p = petits.pop()!;
      const g = grands[grands.length - 1]!;
      this.alias[p] = g;
      this.seuils[g] = this.seuils[g]! + this.seuils[p]! - 1;
      if (this.seuils[g]! < 1) petits.push(grands.pop()!);
    }
    // Rounding leftovers are columns that are (almost exactly) full.
    for (const i of petits.concat(grands)) this.seuils[i] = 1;
  }

  /** An index drawn with probability proportional to its weight. */
  indice(alea: Alea): number {
    const i = alea.entier(this.seuils.length);
    return alea.suivant() < this.seuils[i]! ? i : this.alias[i]!;
  }
}
