// User accounts of the two issuers and the checks of their credentials. Every failed factor counts
// towards a lockout; an unknown login costs the same work as a known one and says the same thing.
import { randomInt, randomUUID } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import type { OtpSender } from './otp-sender.ts';
import { hashSecret, Sealer, verifySecret } from './secrets.ts';
import { matchTotp } from './totp.ts';

export const MAX_FAILURES = 5;
export const LOCK_MINUTES = 15;
const CODE_MINUTES = 10;
const CODE_ATTEMPTS = 3;

export type AccountKind = 'professional' | 'patient';

export interface Account {
  id: string;
  kind: AccountKind;
  login: string;
  resourceId: string | null;
  secondFactor: 'totp' | 'otp';
  contact: string | null;
  failedCount: number;
  lockedUntil: Date | null;
  disabled: boolean;
}

export interface NewAccount {
  kind: AccountKind;
  login: string;
  resourceId?: string;
  password?: string;
  totpSecret?: string;
  secondFactor: 'totp' | 'otp';
  contact?: string;
}

/** ok, or why not: the page says the same for "invalid" whatever the factor was. */
export type Check = { ok: true; account: Account } | { ok: false; reason: 'invalid' | 'locked' };

interface Row {
  id: string;
  kind: AccountKind;
  login: string;
  resource_id: string | null;
  password_hash: string | null;
  sealed_totp_secret: string | null;
  totp_last_step: string | null;
  second_factor: 'totp' | 'otp';
  contact: string | null;
  failed_count: number;
  locked_until: Date | string | null;
  disabled: boolean;
}

const toAccount = (r: Row): Account => ({
  id: r.id,
  kind: r.kind,
  login: r.login,
  resourceId: r.resource_id,
  secondFactor: r.second_factor,
  contact: r.contact,
  failedCount: r.failed_count,
  lockedUntil: r.locked_until ? new Date(r.locked_until) : null,
  disabled: r.disabled,
});

export class Accounts {
  constructor(
    private readonly db: Queryable,
    private readonly sealer: Sealer,
    private readonly sender: OtpSender,
  ) {}

  /** Notifies the holder of a professional account (e.g. of a CIBA request awaiting their approval), through the outbox. */
  async notify(message: { login: string; purpose: 'ciba'; code: string }): Promise<void> {
    const account = await this.find('professional', message.login);
    if (account) await this.sender.send({ to: account.contact ?? '', ...message });
  }

  /** Creates the account, or replaces its credentials if the login exists (demo seed, re-enrolment). */
  async upsert(a: NewAccount): Promise<Account> {
    const { rows } = await this.db.query<Row>(
      `INSERT INTO auth_account (id, kind, login, resource_id, password_hash, sealed_totp_secret, second_factor, contact)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (kind, login) DO UPDATE SET resource_id = EXCLUDED.resource_id, password_hash = EXCLUDED.password_hash,
         sealed_totp_secret = EXCLUDED.sealed_totp_secret, second_factor = EXCLUDED.second_factor, contact = EXCLUDED.contact,
         totp_last_step = NULL, failed_count = 0, locked_until = NULL, updated_at = now()
       RETURNING *`,
      [
        randomUUID(),
        a.kind,
        a.login,
        a.resourceId ?? null,
        a.password ? await hashSecret(a.password) : null,
        a.totpSecret ? this.sealer.seal(a.totpSecret) : null,
        a.secondFactor,
        a.contact ?? null,
      ],
    );
    return toAccount(rows[0]);
  }

  async get(id: string): Promise<Account | undefined> {
    const row = await this.row('id = $1', [id]);
    return row && toAccount(row);
  }

  async find(kind: AccountKind, login: string): Promise<Account | undefined> {
    const row = await this.row('kind = $1 AND login = $2', [kind, login]);
    return row && toAccount(row);
  }

  /** Professionals (e-CPS): the login and the code of the authenticator, in one step. */
  async checkTotpLogin(kind: AccountKind, login: string, code: string): Promise<Check> {
    const row = await this.row('kind = $1 AND login = $2', [kind, login]);
    if (!row || row.disabled) return { ok: false, reason: 'invalid' };
    if (isLocked(row)) return { ok: false, reason: 'locked' };
    return this.checkTotp(row, code);
  }

  /** Patients, first step. */
  async checkPassword(kind: AccountKind, login: string, password: string): Promise<Check> {
    const row = await this.row('kind = $1 AND login = $2', [kind, login]);
    const good = await verifySecret(password, row?.password_hash);
    if (!row || row.disabled) return { ok: false, reason: 'invalid' };
    if (isLocked(row)) return { ok: false, reason: 'locked' };
    if (!good) return this.fail(row);
    return { ok: true, account: toAccount(row) };
  }

  /** Opens the second step of a login (or a recovery) for the browser holding binding; sends a code when the account uses one-time codes. */
  async openChallenge(account: Account, purpose: 'login' | 'recovery', binding: string): Promise<void> {
    const sendCode = purpose === 'recovery' || account.secondFactor === 'otp';
    const code = sendCode ? String(randomInt(0, 1_000_000)).padStart(6, '0') : undefined;
    await this.db.query('DELETE FROM auth_challenge WHERE binding = $1 AND purpose = $2', [binding, purpose]);
    await this.db.query(
      `INSERT INTO auth_challenge (id, account_id, purpose, binding, code_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(mins => $6))`,
      [randomUUID(), account.id, purpose, binding, code ? await hashSecret(code) : null, CODE_MINUTES],
    );
    if (code) await this.sender.send({ to: account.contact ?? '', login: account.login, purpose, code });
  }

  /** The account whose challenge binding holds, if any (the password step was passed). */
  async challenged(binding: string, purpose: 'login' | 'recovery'): Promise<Account | undefined> {
    const { rows } = await this.db.query<Row>(
      `SELECT a.* FROM auth_challenge c JOIN auth_account a ON a.id = c.account_id
       WHERE c.binding = $1 AND c.purpose = $2 AND c.expires_at > now()`,
      [binding, purpose],
    );
    return rows[0] && toAccount(rows[0]);
  }

  /** Second step: the TOTP or the code sent. Consumes the challenge on success or after too many tries. */
  async checkChallenge(binding: string, purpose: 'login' | 'recovery', code: string): Promise<Check> {
    const { rows } = await this.db.query<Row & { challenge_id: string; code_hash: string | null; attempts: number }>(
      `SELECT a.*, c.id AS challenge_id, c.code_hash, c.attempts FROM auth_challenge c JOIN auth_account a ON a.id = c.account_id
       WHERE c.binding = $1 AND c.purpose = $2 AND c.expires_at > now()`,
      [binding, purpose],
    );
    const row = rows[0];
    if (!row || row.disabled) return { ok: false, reason: 'invalid' };
    // Recovery is the way out of a lockout; its codes are few and sent to the account's contact.
    if (purpose === 'login' && isLocked(row)) return { ok: false, reason: 'locked' };
    let result: Check;
    if (row.code_hash) {
      result = (await verifySecret(code.trim(), row.code_hash)) ? await this.succeed(row) : await this.fail(row);
    } else {
      result = await this.checkTotp(row, code);
    }
    if (result.ok || row.attempts + 1 >= CODE_ATTEMPTS) {
      await this.db.query('DELETE FROM auth_challenge WHERE id = $1', [row.challenge_id]);
    } else {
      await this.db.query('UPDATE auth_challenge SET attempts = attempts + 1 WHERE id = $1', [row.challenge_id]);
    }
    return result;
  }

  /** Recovery: a new password, and the lockout lifted. */
  async setPassword(accountId: string, password: string): Promise<void> {
    await this.db.query('UPDATE auth_account SET password_hash = $2, failed_count = 0, locked_until = NULL, updated_at = now() WHERE id = $1', [
      accountId,
      await hashSecret(password),
    ]);
  }

  private async checkTotp(row: Row, code: string): Promise<Check> {
    const secret = row.sealed_totp_secret ? this.sealer.open(row.sealed_totp_secret) : undefined;
    const step = secret ? matchTotp(secret, code.trim()) : undefined;
    // A code is good once: replaying one seen over the shoulder fails.
    if (step === undefined || (row.totp_last_step !== null && step <= Number(row.totp_last_step))) return this.fail(row);
    await this.db.query('UPDATE auth_account SET totp_last_step = $2 WHERE id = $1', [row.id, step]);
    return this.succeed(row);
  }

  private async succeed(row: Row): Promise<Check> {
    await this.db.query('UPDATE auth_account SET failed_count = 0, locked_until = NULL WHERE id = $1', [row.id]);
    return { ok: true, account: toAccount({ ...row, failed_count: 0, locked_until: null }) };
  }

  /** A failed factor checked elsewhere (a security key). */
  async recordFailure(account: Account): Promise<Check> {
    return this.fail({ id: account.id });
  }

  /** Whether the account may try a factor now. */
  async isLocked(accountId: string): Promise<boolean> {
    const row = await this.row('id = $1', [accountId]);
    return !!row && isLocked(row);
  }

  private async fail(row: Pick<Row, 'id'>): Promise<Check> {
    // SET expressions see the row as it was: an expired lock starts the count again.
    const { rows } = await this.db.query<{ locked: boolean }>(
      `UPDATE auth_account SET
         failed_count = CASE WHEN locked_until <= now() THEN 1 ELSE failed_count + 1 END,
         locked_until = CASE WHEN locked_until <= now() THEN NULL
                             WHEN failed_count + 1 >= $2 THEN now() + make_interval(mins => $3)
                             ELSE locked_until END
       WHERE id = $1 RETURNING coalesce(locked_until > now(), false) AS locked`,
      [row.id, MAX_FAILURES, LOCK_MINUTES],
    );
    return { ok: false, reason: rows[0].locked ? 'locked' : 'invalid' };
  }

  private async row(where: string, params: unknown[]): Promise<Row | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT * FROM auth_account WHERE ${where}`, params);
    return rows[0];
  }
}

const isLocked = (row: Row) => row.locked_until !== null && new Date(row.locked_until).getTime() > Date.now();
