// Canonical UCUM units for quantity search.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalQuantity, canonicalUnit, UCUM } from '../../src/fhir/search/ucum.ts';

describe('UCUM canonical units', () => {
  it('converts metric prefixes to the base unit', () => {
    assert.deepEqual(canonicalQuantity(5, UCUM, 'mg'), { value: 0.005, unit: 'g' });
    assert.deepEqual(canonicalQuantity(0.005, UCUM, 'g'), { value: 0.005, unit: 'g' });
    assert.deepEqual(canonicalQuantity(2, UCUM, 'kg'), { value: 2000, unit: 'g' });
    assert.deepEqual(canonicalQuantity(250, undefined, 'mL'), { value: 0.25, unit: 'L' });
  });

  it('converts ratios and time units', () => {
    assert.deepEqual(canonicalQuantity(120, UCUM, 'mg/dL'), { value: 1.2, unit: 'g/L' });
    assert.deepEqual(canonicalUnit('h'), { factor: 3600, unit: 's' });
    assert.deepEqual(canonicalQuantity(72, UCUM, '/min'), undefined, 'a ratio with no numerator unit is compared as written');
  });

  it('leaves other systems and unknown units alone', () => {
    assert.equal(canonicalQuantity(5, 'http://example.org/units', 'mg'), undefined);
    assert.equal(canonicalQuantity(120, UCUM, 'mm[Hg]'), undefined);
    assert.equal(canonicalQuantity(1, UCUM, null), undefined);
  });
});
