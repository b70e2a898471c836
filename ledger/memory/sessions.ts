// Open realtime sessions in memory: per account, sessionId -> lease expiry (ms), as the Redis
// ZSET; a lapsed lease is purged before the cap is checked (as session-open.lua).

import { checkAccountId } from '../inputs.js';
import type { Ledger } from '../types.js';
import type { MemoryContext } from './context.js';

export type SessionsApi = Pick<Ledger, 'openSession' | 'renewSessions' | 'closeSession'>;

export function createSessions({ clock }: MemoryContext): SessionsApi {
  const sessions = new Map<string, Map<string, number>>();
  /** session-open.lua's purge: the sessions of `accountId` whose lease has not lapsed. */
  function liveSessions(accountId: string, now: number): Map<string, number> {
    checkAccountId(accountId);
    let m = sessions.get(accountId);
    if (!m) sessions.set(accountId, (m = new Map()));
    for (const [id, expiry] of m) if (expiry <= now) m.delete(id);
    return m;
  }
  return {
    async openSession(accountId, sessionId, cap, leaseMs) {
      const now = clock.now();
      const m = liveSessions(accountId, now);
      if (!m.has(sessionId) && m.size >= cap) return { ok: false, open: m.size };
      m.set(sessionId, now + leaseMs);
      return { ok: true, open: m.size };
    },
    async renewSessions(accountId, sessionIds, leaseMs) {
      const now = clock.now();
      const m = liveSessions(accountId, now);
      for (const id of sessionIds) m.set(id, now + leaseMs);
    },
    async closeSession(accountId, sessionId) {
      checkAccountId(accountId);
      const m = sessions.get(accountId);
      m?.delete(sessionId);
      if (m?.size === 0) sessions.delete(accountId);
    },
  };
}
