// Code systems of the savoir-faire codes (JDV_J107-EnsembleSavoirFaire-RASS spans eleven tables; the
// extract gives the code, the value set says which table it belongs to).
import { readFileSync } from 'node:fs';
import type { ValueSet } from '@medplum/fhirtypes';

let parCode: Map<string, string> | undefined;

function charger(): Map<string, string> {
  const url = new URL('../../../data/terminologies/nos/ValueSet-JDV-J107-EnsembleSavoirFaire-RASS.json', import.meta.url);
  const vs = JSON.parse(readFileSync(url, 'utf8')) as ValueSet;
  const m = new Map<string, string>();
  for (const inc of vs.compose?.include ?? []) for (const c of inc.concept ?? []) m.set(c.code!, inc.system!);
  return m;
}

/** The system of a savoir-faire code, or undefined when JDV_J107 does not list it. */
export function systemeSavoirFaire(code: string): string | undefined {
  parCode ??= charger();
  return parCode.get(code);
}

/** The J107 codes with their display, by code system (for the generator). */
export function savoirFaireParSysteme(systemeVoulu: string): { code: string; display: string }[] {
  const url = new URL('../../../data/terminologies/nos/ValueSet-JDV-J107-EnsembleSavoirFaire-RASS.json', import.meta.url);
  const vs = JSON.parse(readFileSync(url, 'utf8')) as ValueSet;
  return (vs.compose?.include ?? []).filter((i) => i.system === systemeVoulu).flatMap((i) => (i.concept ?? []).map((c) => ({ code: c.code!, display: c.display ?? '' })));
}
