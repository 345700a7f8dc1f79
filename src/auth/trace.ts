// Logins, failed logins and logouts go to the same audit trail as the API accesses (PGSSI-S
// traceability): DICOM "User Authentication" events with the account, the client address and the
// outcome.
import type { Principal } from '../access/principal.ts';
import { writeAudit } from '../audit/index.ts';
import type { IssuerName } from './clients.ts';
import type { AuthContext } from './provider.ts';

export interface LoginTrace {
  issuer: IssuerName;
  event: 'login' | 'logout';
  ok: boolean;
  /** The identifier typed or the account's subject. */
  login: string;
  /** Practitioner or Patient id of the account, when known. */
  resourceId?: string;
  reason?: string;
  ip?: string;
}

export async function traceLogin(ctx: AuthContext, t: LoginTrace): Promise<void> {
  const kind = t.issuer === 'pro' ? 'professional' : 'patient';
  const principal: Principal = {
    kind,
    issuer: `${ctx.config.baseUrl}/auth/${t.issuer}`,
    subject: t.login,
    clientId: '-',
    scopes: [],
    ...(t.issuer === 'pro' ? { idNatPs: t.login, ...(t.resourceId ? { practitionerId: t.resourceId } : {}) } : t.resourceId ? { patientId: t.resourceId } : {}),
  };
  await ctx.db.transaction((tx) =>
    writeAudit(
      tx,
      {
        subtype: t.event,
        action: 'E',
        status: t.ok ? 200 : 401,
        outcomeDesc: t.reason,
        patients: t.issuer === 'patient' && t.resourceId ? [t.resourceId] : [],
        started: new Date(),
      },
      { principal, ip: t.ip },
      `${ctx.config.baseUrl}/auth/${t.issuer}`,
    ),
  );
}
