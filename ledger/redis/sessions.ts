// Open realtime sessions in Redis: one ZSET per account (sessionId -> lease expiry ms) in the
// account's slot, admitted by session-open.lua so the cap holds across every replica.

import { checkAccountId } from '../inputs.js';
import type { Ledger } from '../types.js';
import type { LedgerContext } from './context.js';

export type SessionsApi = Pick<Ledger, 'openSession' | 'renewSessions' | 'closeSession'>;

export function createSessions({ client, keys, clock, guard, script }: LedgerContext): SessionsApi {
  return {
    async openSession(accountId, sessionId, cap, leaseMs) {
      checkAccountId(accountId);
      const r = await guard(() => script('session-open', [keys.acct(accountId).sessions], [clock.now(), sessionId, cap, leaseMs]));
      return { ok: Number(r[0]) === 1, open: Number(r[1]) };
    },
    async renewSessions(accountId, sessionIds, leaseMs) {
      checkAccountId(accountId);
      if (sessionIds.length === 0) return;
      await guard(() => script('session-renew', [keys.acct(accountId).sessions], [clock.now(), leaseMs, ...sessionIds]));
    },
    async closeSession(accountId, sessionId) {
      checkAccountId(accountId);
      await guard(() => client.zrem(keys.acct(accountId).sessions, sessionId));
    },
  };
}
