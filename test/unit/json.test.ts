// Decimal precision in FHIR JSON (R4 datatypes#decimal): 1.50 is not 1.5, 1e2 is kept as written.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cloneFhirJson, parseFhirJson, stringifyFhir } from '../../src/fhir/json.ts';

describe('FHIR JSON numbers', () => {
  it('keeps trailing zeros, exponents and -0 as written, in objects and arrays', () => {
    const text = '{"a":1.50,"b":[2.0,3,1e2,-0],"c":{"d":0.10,"e":"1.50"},"f":7}';
    assert.equal(stringifyFhir(parseFhirJson(text)), text);
  });

  it('writes a number changed after parsing as its new value', () => {
    const v = parseFhirJson('{"a":1.50}') as { a: number };
    v.a = 2;
    assert.equal(stringifyFhir(v), '{"a":2}');
  });

  it('a deep copy keeps the precision', () => {
    const v = parseFhirJson('{"x":{"y":[1.10]}}');
    assert.equal(stringifyFhir(cloneFhirJson(v)), '{"x":{"y":[1.10]}}');
  });

  it('copes with strings holding quotes, escapes and numbers-like text', () => {
    const text = '{"s":"a \\"1.50\\" b","n":5.00,"t":"\\\\"}';
    assert.equal(stringifyFhir(parseFhirJson(text)), text);
  });

  it('leaves canonical documents to the fast path', () => {
    const text = '{"a":1.5,"b":[1,2]}';
    assert.equal(stringifyFhir(parseFhirJson(text)), text);
  });
});
