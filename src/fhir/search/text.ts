// Full-text search: _content (the whole text of a resource) and _text (its narrative). Each resource has
// one row in sp_text holding a tsvector built with PostgreSQL's `simple` configuration (no stemming, no
// stop words) over text folded here (accents, case), so PGlite and PostgreSQL index and match alike.
// The narrative's words carry the weight A: _text is _content restricted to them, and the narrative is
// stored and indexed once.
import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from '../outcome.ts';
import { foldText } from './normalize.ts';

export interface TextRow {
  param: '_content';
  narrative: string;
  content: string;
}

/**
 * Characters kept per resource for each of the narrative and the rest (about 5,000 words): a tsvector
 * numbers at most 16,383 word positions, and a huge resource must not make every write slow.
 */
export const MAX_TEXT_CHARS = 32_768;

/** Elements that are not text: identity and bookkeeping, URIs, references, base64 payloads (Attachment.data, Binary.data, Signature.data). */
const NOT_TEXT = new Set(['resourceType', 'id', 'meta', 'system', 'url', 'reference', 'data']);
/** A long value without a space is an encoded payload or a token, not words. */
const LONG_TOKEN = 256;

/** The trail written on every request is searched by its coded fields, not by words: not worth a tsvector each. */
const NOT_INDEXED = new Set(['AuditEvent']);

export const isTextIndexed = (type: string) => !NOT_INDEXED.has(type);

export function textRows(resource: Resource): TextRow[] {
  if (!isTextIndexed(resource.resourceType)) return [];
  const narrative = foldText(narrativeText(resource)).slice(0, MAX_TEXT_CHARS);
  const parts: string[] = [];
  let length = 0;
  const visit = (value: unknown, key: string): void => {
    if (length >= MAX_TEXT_CHARS || NOT_TEXT.has(key)) return;
    if (typeof value === 'string') {
      if (value.length > LONG_TOKEN && !/\s/.test(value)) return;
      parts.push(value);
      length += value.length + 1;
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item, key);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        // A Narrative (the resource's, or a contained one's) is not data: the root one is the narrative part.
        if (k === 'text' && v && typeof v === 'object' && 'div' in v) continue;
        visit(v, k);
      }
    }
  };
  visit(resource, '');
  const content = foldText(parts.join(' ')).slice(0, MAX_TEXT_CHARS);
  return narrative || content ? [{ param: '_content', narrative, content }] : [];
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: ' ' };

/** The words of Narrative.div: XHTML tags become spaces, XML character references are decoded. */
function narrativeText(resource: Resource): string {
  const div = (resource as { text?: { div?: unknown } }).text?.div;
  if (typeof div !== 'string') return '';
  return div
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (_, ref: string) => {
      if (ref[0] !== '#') return ENTITIES[ref.toLowerCase()] ?? ' ';
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
    });
}

// The query language of the spec's examples (OData $search): words, "quoted phrases", AND (or nothing),
// OR, NOT and parentheses, the operators in any case; AND binds tighter than OR.
type TextNode = { op: 'and' | 'or'; items: TextNode[] } | { op: 'not'; item: TextNode } | { op: 'term'; text: string };
type TextToken = { kind: '(' | ')' | 'and' | 'or' | 'not' | 'word' | 'phrase'; text: string; at: number };

function tokenize(raw: string, param: string): TextToken[] {
  const tokens: TextToken[] = [];
  let i = 0;
  while (i < raw.length) {
    const c = raw[i];
    if (/\s/.test(c)) i++;
    else if (c === '(' || c === ')') tokens.push({ kind: c, text: c, at: i++ });
    else if (c === '"') {
      const end = raw.indexOf('"', i + 1);
      if (end < 0) throw badRequest(`${param}: the phrase opened by " at character ${i + 1} is not closed`);
      tokens.push({ kind: 'phrase', text: raw.slice(i + 1, end), at: i });
      i = end + 1;
    } else {
      const start = i;
      while (i < raw.length && !/[\s()"]/.test(raw[i])) i++;
      const text = raw.slice(start, i);
      const op = text.toLowerCase();
      tokens.push({ kind: op === 'and' || op === 'or' || op === 'not' ? op : 'word', text, at: start });
    }
  }
  return tokens;
}

function parseText(raw: string, param: string): TextNode {
  const tokens = tokenize(raw, param);
  let k = 0;
  const where = () => (k < tokens.length ? `at character ${tokens[k].at + 1} ("${tokens[k].text}")` : 'at the end');
  const expected = (what: string) => badRequest(`${param}: expected ${what} ${where()}`);
  const startsTerm = () => k < tokens.length && ['(', 'not', 'word', 'phrase'].includes(tokens[k].kind);
  const or = (): TextNode => {
    const items = [and()];
    while (tokens[k]?.kind === 'or') {
      k++;
      items.push(and());
    }
    return items.length === 1 ? items[0] : { op: 'or', items };
  };
  const and = (): TextNode => {
    const items = [unary()];
    for (;;) {
      if (tokens[k]?.kind === 'and') k++;
      else if (!startsTerm()) break;
      items.push(unary());
    }
    return items.length === 1 ? items[0] : { op: 'and', items };
  };
  const unary = (): TextNode => {
    if (tokens[k]?.kind === 'not') {
      k++;
      return { op: 'not', item: unary() };
    }
    const t = tokens[k];
    if (t?.kind === 'word' || t?.kind === 'phrase') {
      k++;
      return { op: 'term', text: t.text };
    }
    if (t?.kind !== '(') throw expected('a word, a "phrase" or (');
    k++;
    const inner = or();
    if (tokens[k]?.kind !== ')') throw expected(`) closing the ( at character ${t.at + 1}`);
    k++;
    return inner;
  };
  const tree = or();
  if (k < tokens.length) throw expected('AND, OR or the end of the query');
  return tree;
}

/**
 * The tsquery text of a _content/_text value. Each word or phrase is one quoted operand that the database
 * splits with the parser that built the index ("d'arc" → 'd' <-> 'arc'); `weight` restricts it to the
 * narrative. Words with no letter or digit are dropped.
 */
export function tsQuery(raw: string, param: string, weight = ''): string {
  const compile = (node: TextNode): string | undefined => {
    if (node.op === 'term') {
      const text = foldText(node.text);
      return /[\p{L}\p{N}]/u.test(text) ? `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'${weight}` : undefined;
    }
    if (node.op === 'not') {
      const inner = compile(node.item);
      return inner && `!(${inner})`;
    }
    const items = node.items.map(compile).filter((s): s is string => s !== undefined);
    return items.length ? `(${items.join(node.op === 'and' ? ' & ' : ' | ')})` : undefined;
  };
  const query = compile(parseText(raw, param));
  if (!query) throw badRequest(`${param}: "${raw}" has no word to search for`);
  return query;
}
