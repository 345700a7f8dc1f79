// Secrets at rest: private keys, client secrets and TOTP seeds are sealed (AES-256-GCM) with a
// master key kept outside the database, so a database dump alone does not give them away.
// Passwords and one-time codes are only ever stored as scrypt hashes.
import { createCipheriv, createDecipheriv, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { Database } from '../db/index.ts';

// In-memory databases (tests) get a key that lives as long as the database object.
const ephemeral = new WeakMap<Database, Buffer>();

export function masterKey(config: Config, db: Database): Buffer {
  if (config.authMasterKey) {
    const key = Buffer.from(config.authMasterKey, 'base64');
    if (key.length !== 32) throw new Error('SOCLE_AUTH_MASTER_KEY must be 32 bytes in base64');
    return key;
  }
  if (!config.dataDir) {
    let key = ephemeral.get(db);
    if (!key) ephemeral.set(db, (key = randomBytes(32)));
    return key;
  }
  const file = join(config.dataDir, 'auth-master-key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  mkdirSync(config.dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return key;
}

export class Sealer {
  constructor(private readonly key: Buffer) {}

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  /** undefined when the value was sealed with another master key. */
  open(sealed: string): string | undefined {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !body) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

function derive(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret.normalize('NFC'), salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifySecret(secret: string, stored: string | null | undefined): Promise<boolean> {
  // Same work whether or not there is a hash, so timing does not tell which accounts exist.
  const [scheme, , , , salt, key] = (stored ?? `scrypt$0$0$0$${DUMMY_SALT}$`).split('$');
  if (scheme !== 'scrypt') return false;
  const actual = await derive(secret, Buffer.from(salt, 'base64url'));
  const expected = Buffer.from(key, 'base64url');
  return stored !== undefined && stored !== null && expected.length === actual.length && timingSafeEqual(actual, expected);
}

const DUMMY_SALT = randomBytes(16).toString('base64url');

export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');
