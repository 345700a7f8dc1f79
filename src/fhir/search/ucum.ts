// Canonical UCUM forms for quantity search: "5 mg" and "0.005 g" are the same quantity. Covers the
// metric prefixes on the base units clinical data use, and the usual time units; other units are
// compared as written.

export const UCUM = 'http://unitsofmeasure.org';

const PREFIXES: Record<string, number> = { k: 1e3, h: 1e2, da: 1e1, d: 1e-1, c: 1e-2, m: 1e-3, u: 1e-6, µ: 1e-6, n: 1e-9, p: 1e-12, f: 1e-15 };
const BASES = new Set(['g', 'L', 'l', 'm', 'mol', 'eq', 'U', 'IU', '[iU]', 'Pa', 'J', 'cal', 'Cal']);
const TIME: Record<string, number> = { s: 1, min: 60, h: 3600, d: 86_400, wk: 604_800, mo: 2_629_800, a: 31_557_600 };

/** Canonical factor and unit of a simple UCUM unit ("mg" → 0.001 "g"), or of a ratio ("mg/dL" → 10 "g/L"). */
export function canonicalUnit(code: string): { factor: number; unit: string } | undefined {
  const slash = code.indexOf('/');
  if (slash > 0) {
    const num = canonicalUnit(code.slice(0, slash));
    const den = canonicalUnit(code.slice(slash + 1));
    return num && den ? { factor: num.factor / den.factor, unit: `${num.unit}/${den.unit}` } : undefined;
  }
  if (TIME[code] !== undefined) return { factor: TIME[code], unit: 's' };
  if (BASES.has(code)) return { factor: 1, unit: code === 'l' ? 'L' : code };
  for (const [prefix, factor] of Object.entries(PREFIXES)) {
    const base = code.slice(prefix.length);
    if (code.startsWith(prefix) && BASES.has(base)) return { factor, unit: base === 'l' ? 'L' : base };
  }
  return undefined;
}

/** value and unit in canonical form; undefined when the unit is not UCUM or not known here. */
export function canonicalQuantity(value: number, system: string | null | undefined, code: string | null | undefined): { value: number; unit: string } | undefined {
  if (!code || (system && system !== UCUM)) return undefined;
  const c = canonicalUnit(code);
  // Rounded to 12 significant digits so that 0.005 g and 5 mg compare equal despite binary floats.
  return c ? { value: Number((value * c.factor).toPrecision(12)), unit: c.unit } : undefined;
}
