// CodeSystem/$validate-code and ValueSet/$validate-code. A code is valid when it exists (in the code
// system, in the value set's expansion); an inactive code stays valid with a message saying so; a
// wrong display is reported in the message without making the code invalid; an unknown system or a
// version that does not exist makes the answer false, with the reason.
import type { CodeSystemConceptDesignation, Parameters, ValueSet } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import type { OperationDefinitionEntry, OperationRequest } from '../fhir/operations.ts';
import { badRequest } from '../fhir/outcome.ts';
import { ComposeCompiler } from './compose.ts';
import { systemVersions, targetValueSet, type MemberRow } from './expand.ts';
import { conceptOf, unknownSystemMessage } from './lookup.ts';
import { canonical, codeInputs, out, parameters, type CodeInput } from './parameters.ts';
import type { CodeSystemSource, Resolver } from './resolve.ts';

interface Verdict {
  result: boolean;
  messages: string[];
  display?: string;
}

const answer = (v: Verdict): Parameters =>
  parameters([out.boolean('result', v.result), out.string('message', v.messages.length ? v.messages.join(' ') : undefined), out.string('display', v.display)]);

/** Several codings (a CodeableConcept): valid if one is; the messages of the others explain. */
function combine(verdicts: Verdict[]): Verdict {
  const valid = verdicts.find((v) => v.result);
  if (valid) return valid;
  return { result: false, messages: verdicts.flatMap((v) => v.messages) };
}

function displayMessage(input: CodeInput, system: string, display: string | undefined, designations: CodeSystemConceptDesignation[] | undefined): string | undefined {
  if (input.display === undefined) return undefined;
  const known = [display, ...(designations ?? []).map((d) => d.value)].filter((d): d is string => !!d);
  if (!known.length || known.some((d) => d.toLowerCase() === (input.display as string).toLowerCase())) return undefined;
  return `Warning: the display "${input.display}" is not a display of code ${input.code} in ${system}; expected "${display ?? known[0]}".`;
}

const inactiveMessage = (code: string, system: string) => `Code ${code} of ${system} is inactive (deprecated or retired): valid for existing data, not to be used in new data.`;

async function inCodeSystem(q: Queryable, source: CodeSystemSource, input: CodeInput): Promise<Verdict> {
  const name = canonical(source.system.url, source.system.version);
  const concept = await conceptOf(q, source, input.code);
  if (!concept) {
    const partial = source.system.content !== 'complete' ? ` (this server holds a ${source.system.content} copy of it: the code may exist in the full code system)` : '';
    return { result: false, messages: [`Unknown code "${input.code}" in CodeSystem ${name}${partial}.`] };
  }
  const messages = [concept.inactive ? inactiveMessage(concept.code, name) : undefined, displayMessage(input, name, concept.display, concept.designations)];
  return { result: true, display: concept.display, messages: messages.filter((m): m is string => !!m) };
}

async function validateInCodeSystem(req: OperationRequest, resolver: Resolver): Promise<Parameters> {
  const q = req.tx ?? req.core.db;
  const inputs = codeInputs(req.params);
  const verdicts: Verdict[] = [];
  for (const input of inputs) {
    const version = req.params.string('version') ?? input.version;
    let source: CodeSystemSource | undefined;
    if (req.id) source = await resolver.codeSystemById(q, req.id);
    else {
      const url = req.params.string('url') ?? input.system;
      if (!url) throw badRequest('Give the code system: "url" (or the coding\'s system), or call the operation on CodeSystem/[id]');
      const found = await resolver.codeSystem(q, url, version);
      if (!found.source) {
        verdicts.push({ result: false, messages: [`${unknownSystemMessage(url, version, found.versions)}.`] });
        continue;
      }
      source = found.source;
    }
    if (input.system && input.system !== source.system.url) {
      verdicts.push({ result: false, messages: [`The coding's system ${input.system} is not the code system validated against (${source.system.url}).`] });
      continue;
    }
    if (version && version !== source.system.version) {
      verdicts.push({ result: false, messages: [`CodeSystem/${req.id} is version ${source.system.version || '(none)'} of ${source.system.url}, not version ${version}.`] });
      continue;
    }
    verdicts.push(await inCodeSystem(q, source, input));
  }
  return answer(combine(verdicts));
}

/** Why a code is not in the value set: unknown system, unknown code, or a code outside the set. */
async function whyNotMember(q: Queryable, resolver: Resolver, input: CodeInput, label: string): Promise<string> {
  if (!input.system) return `Code "${input.code}" is not in ValueSet ${label}.`;
  const { source, versions } = await resolver.codeSystem(q, input.system, input.version);
  if (!source) return `${unknownSystemMessage(input.system, input.version, versions)}; code ${input.code} is not in ValueSet ${label}.`;
  const inSystem = await inCodeSystem(q, source, input);
  if (!inSystem.result) return `${inSystem.messages.join(' ')} It is not in ValueSet ${label}.`;
  return `Code ${input.code} of ${canonical(source.system.url, source.system.version)} is valid in its code system but not in ValueSet ${label}.`;
}

async function inValueSet(q: Queryable, resolver: Resolver, vs: ValueSet, input: CodeInput, req: OperationRequest): Promise<Verdict> {
  const label = canonical(vs.url ?? `ValueSet/${vs.id ?? '(inline)'}`, vs.version);
  const compiler = new ComposeCompiler(q, resolver, { systemVersions: systemVersions(req) });
  const members = await compiler.valueSet(vs);
  const { sql } = compiler;
  const conditions = [`m.code = ${sql.p(input.code)}`, ...(input.system ? [`m.system = ${sql.p(input.system)}`] : [])];
  const { rows } = await q.query<MemberRow>(
    `SELECT system, version, code, display, inactive, designations FROM (${members}) m WHERE ${conditions.join(' AND ')} LIMIT 1`,
    sql.params,
  );
  const member = rows[0];
  if (!member) return { result: false, messages: [await whyNotMember(q, resolver, input, label)] };
  const system = canonical(member.system, member.version);
  if (input.version && member.version && input.version !== member.version) {
    return { result: false, messages: [`Version mismatch: ValueSet ${label} contains code ${input.code} from ${system}, not from version ${input.version}.`] };
  }
  const designations = typeof member.designations === 'string' ? JSON.parse(member.designations) : (member.designations ?? undefined);
  const messages = [member.inactive ? inactiveMessage(member.code, system) : undefined, displayMessage(input, system, member.display ?? undefined, designations)];
  return { result: true, display: member.display ?? undefined, messages: messages.filter((m): m is string => !!m) };
}

async function validateInValueSet(req: OperationRequest, resolver: Resolver): Promise<Parameters> {
  const q = req.tx ?? req.core.db;
  const vs = await targetValueSet(req, resolver, q);
  const inputs = codeInputs(req.params).map((i) => ({ ...i, version: i.version ?? req.params.string('systemVersion') }));
  const verdicts: Verdict[] = [];
  for (const input of inputs) verdicts.push(await inValueSet(q, resolver, vs, input, req));
  return answer(combine(verdicts));
}

export function validateCodeOperations(resolver: Resolver): OperationDefinitionEntry[] {
  const summary = 'Whether a code (code + system, coding or codeableConcept) is valid, with its display and the reason when not';
  return [
    { name: 'validate-code', levels: ['type', 'instance'], types: ['CodeSystem'], affectsState: false, summary, handler: (req) => validateInCodeSystem(req, resolver) },
    { name: 'validate-code', levels: ['type', 'instance'], types: ['ValueSet'], affectsState: false, summary, handler: (req) => validateInValueSet(req, resolver) },
  ];
}
