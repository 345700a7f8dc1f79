// Where one-time codes go. A deployment plugs an SMS or e-mail gateway behind OtpSender; the default
// outbox writes each message to a file (SOCLE_OTP_OUTBOX=/path) or to standard error ("console"),
// which is what a laptop or a test needs. The logger never sees a code.
import { appendFileSync } from 'node:fs';

export interface OtpMessage {
  /** Contact address of the account (e-mail or phone number). */
  to: string;
  /** The account's login (INS or idNat_PS), so a test can pick its message. */
  login: string;
  /** ciba: a request awaits the professional's approval; code is then its binding message. */
  purpose: 'login' | 'recovery' | 'ciba';
  code: string;
}

export interface OtpSender {
  send(message: OtpMessage): Promise<void>;
}

export function createOtpSender(outbox: string): OtpSender {
  return {
    async send(message) {
      const line = JSON.stringify({ at: new Date().toISOString(), ...message });
      if (outbox === 'console') process.stderr.write(`[socle otp outbox] ${line}\n`);
      else appendFileSync(outbox, line + '\n', { mode: 0o600 });
    },
  };
}
