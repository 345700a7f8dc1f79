// FHIR JSON keeps the precision of decimals: 1.50 is not 1.5 (R4 datatypes#decimal). JavaScript numbers
// cannot carry it, so the source text of every number whose canonical form differs is remembered,
// per holding object, and written back as it came.

/** holder object → property (or array index) → the number as written in the source. */
const sourceText = new WeakMap<object, Map<string, string>>();

/** Numbers that JSON.parse would normalise: trailing zeros, exponents, "-0". */
const NON_CANONICAL = /\d\.\d*0(?![\d.])|\d[eE][+-]?\d|-0(?![.\d])/;

export function parseFhirJson(text: string): unknown {
  const value = JSON.parse(text);
  if (NON_CANONICAL.test(text)) new PrecisionScanner(text).record(value);
  return value;
}

export function stringifyFhir(value: unknown): string {
  const marks: string[] = [];
  const json = JSON.stringify(value, function (this: object, key, v) {
    if (typeof v !== 'number') return v;
    const raw = sourceText.get(this)?.get(key);
    if (raw === undefined || Number(raw) !== v) return v;
    marks.push(raw);
    return `\u0000${marks.length - 1}\u0000`;
  });
  return marks.length === 0 ? json : json.replace(/"\\u0000(\d+)\\u0000"/g, (_, i) => marks[Number(i)]);
}

/** A deep copy that keeps the remembered source text of its numbers. */
export function cloneFhirJson<T>(value: T): T {
  if (Array.isArray(value)) return copyMarks(value, value.map(cloneFhirJson)) as T;
  if (value && typeof value === 'object') {
    return copyMarks(value, Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloneFhirJson(v)]))) as T;
  }
  return value;
}

function copyMarks<T extends object>(from: object, to: T): T {
  const marks = sourceText.get(from);
  if (marks) sourceText.set(to, marks);
  return to;
}

const LITERAL = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/** Walks the text alongside the parsed value and records the source of non-canonical numbers. */
class PrecisionScanner {
  private i = 0;
  constructor(private readonly text: string) {}

  record(value: unknown): void {
    this.value(value, undefined, '');
  }

  private value(v: unknown, holder: object | undefined, key: string): void {
    this.space();
    const c = this.text[this.i];
    if (c === '{') return this.object(v as Record<string, unknown>);
    if (c === '[') return this.array(v as unknown[]);
    if (c === '"') return void this.string();
    LITERAL.lastIndex = this.i;
    const token = LITERAL.exec(this.text)?.[0] ?? '';
    this.i += token.length;
    if (holder && typeof v === 'number' && String(v) !== token) {
      let marks = sourceText.get(holder);
      if (!marks) sourceText.set(holder, (marks = new Map()));
      marks.set(key, token);
    }
  }

  private object(o: Record<string, unknown>): void {
    this.i++;
    for (;;) {
      this.space();
      if (this.text[this.i] === '}') return void this.i++;
      const key = this.string();
      this.space();
      this.i++; // ':'
      this.value(o[key], o, key);
      this.space();
      if (this.text[this.i++] === '}') return;
    }
  }

  private array(a: unknown[]): void {
    this.i++;
    for (let n = 0; ; n++) {
      this.space();
      if (this.text[this.i] === ']') return void this.i++;
      this.value(a[n], a, String(n));
      this.space();
      if (this.text[this.i++] === ']') return;
    }
  }

  private string(): string {
    const start = this.i;
    this.i++;
    while (this.text[this.i] !== '"') this.i += this.text[this.i] === '\\' ? 2 : 1;
    this.i++;
    return JSON.parse(this.text.slice(start, this.i)) as string;
  }

  private space(): void {
    while (/\s/.test(this.text[this.i] ?? '')) this.i++;
  }
}
