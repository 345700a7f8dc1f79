// The login rate limit counts attempts per client address; the address is the peer's unless
// SOCLE_TRUST_PROXY names the proxies allowed to set X-Forwarded-For, so a caller cannot escape the
// limit by inventing addresses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAuthServer, type AuthTestServer } from './support.ts';

let server: AuthTestServer;
before(async () => {
  server = await startAuthServer();
});
after(() => server?.close());

const attempt = (i: number) =>
  fetch(`${server.baseUrl}/auth/pro/interaction/unknown/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `203.0.113.${i % 250}` },
    body: 'login=810100000000&code=000000',
  });

describe('login rate limit', () => {
  it('answers 429 after 30 attempts a minute from one address, whatever X-Forwarded-For says', async () => {
    for (let i = 0; i < 30; i++) assert.notEqual((await attempt(i)).status, 429, `attempt ${i + 1} is within the limit`);
    const over = await attempt(30);
    assert.equal(over.status, 429);
    assert.match(await over.text(), /Trop de tentatives/);
  });
});
