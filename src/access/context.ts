// The request being served, available to every layer (policy, audit, write hooks) without threading
// it through each call: one AsyncLocalStorage per platform request.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './principal.ts';

export interface RequestContext {
  principal?: Principal;
  /** Client address, as the audit trail records it. */
  ip?: string;
  requestId?: string;
  /** PurposeOfUse code sent by the client (X-Purpose-Of-Use), e.g. TREAT, or BTG for bris de glace. */
  purposeOfUse?: string;
  /** Bris de glace: the justification given (X-Break-Glass-Reason). */
  breakGlassReason?: string;
  /** Why the client certificate presented identifies nobody: the 401 says it when a caller is required. */
  certificateRefused?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const withContext = <T>(ctx: RequestContext, fn: () => T): T => storage.run(ctx, fn);
export const currentContext = (): RequestContext | undefined => storage.getStore();
