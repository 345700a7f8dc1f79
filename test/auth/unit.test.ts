// The building blocks: TOTP against RFC 6238's vectors, sealing, password hashes, the rate limiter.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { sameDn } from '../../src/auth/mtls.ts';
import { RateLimiter } from '../../src/auth/rate-limit.ts';
import { hashSecret, Sealer, verifySecret } from '../../src/auth/secrets.ts';
import { base32Decode, base32Encode, matchTotp, totp } from '../../src/auth/totp.ts';

describe('auth building blocks', () => {
  it('computes RFC 6238 TOTP (SHA-1 vectors, 6 digits) and accepts one step of drift', () => {
    const secret = base32Encode(Buffer.from('12345678901234567890'));
    assert.equal(base32Decode(secret).toString(), '12345678901234567890');
    assert.equal(totp(secret, 59_000), '287082');
    assert.equal(totp(secret, 1_111_111_109_000), '081804');
    assert.equal(totp(secret, 1_234_567_890_000), '005924');
    assert.equal(totp(secret, 20_000_000_000_000), '353130');
    const now = 1_234_567_890_000;
    assert.ok(matchTotp(secret, totp(secret, now - 30_000), now));
    assert.equal(matchTotp(secret, totp(secret, now - 90_000), now), undefined);
    assert.equal(matchTotp(secret, 'abcdef', now), undefined);
  });

  it('seals secrets so that only the same master key opens them', () => {
    const a = new Sealer(randomBytes(32));
    const sealed = a.seal('client-secret');
    assert.ok(!sealed.includes('client-secret'));
    assert.equal(a.open(sealed), 'client-secret');
    assert.equal(new Sealer(randomBytes(32)).open(sealed), undefined);
  });

  it('hashes passwords with scrypt', async () => {
    const hash = await hashSecret('correct horse battery');
    assert.match(hash, /^scrypt\$/);
    assert.equal(await verifySecret('correct horse battery', hash), true);
    assert.equal(await verifySecret('wrong', hash), false);
    assert.equal(await verifySecret('anything', null), false);
  });

  it('limits attempts per key in a sliding window', () => {
    const limiter = new RateLimiter(3, 1000);
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.allow('ip', 0)), [true, true, true, false]);
    assert.equal(limiter.allow('other', 0), true);
    assert.equal(limiter.allow('ip', 1001), true);
  });

  it('compares certificate subjects attribute by attribute, whatever the order', () => {
    assert.equal(sameDn('C=FR\nO=Hôpital\nCN=LPS-TEST', 'CN=LPS-TEST, O=Hôpital, C=FR'), true);
    assert.equal(sameDn('C=FR\nO=Hôpital\nCN=LPS-TEST', 'CN=AUTRE, O=Hôpital, C=FR'), false);
  });
});
