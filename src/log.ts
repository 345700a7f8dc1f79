// Structured JSON logs. Request logs carry method, route, status and timing only: never bodies,
// query strings (they may hold identifiers) or authorization headers.
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'socle' },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.secret', '*.token'], remove: true },
  });
}
