// The flusher's view of the in-memory ledger (OverageOutbox): which accounts may owe overage,
// the per-account lease, and the outbox that prepares, commits and cleans a Stripe batch.

import { MICRO_PER_CREDIT } from '../../pricing/types.js';
import { STAMP_MARGIN_MS, STRIPE_WINDOW_MS, batchIdentifier, hasWholeOverage, rollover, takeBatch } from '../account-state.js';
import type { OverageOutbox, PrepareResult } from '../types.js';
import type { MemoryContext } from './context.js';

export function createOutbox({ clock, accounts, pending, required, tierOf, closePeriod }: MemoryContext): OverageOutbox {
  return {
    async pendingAccounts(full) {
      return full ? [...accounts.keys()].sort() : [...pending].sort();
    },
    async lease(accountId, owner, ttlMs) {
      const e = required(accountId);
      const now = clock.now();
      if (e.lease && e.lease.expires > now) return false;
      e.lease = { owner, expires: now + ttlMs };
      return true;
    },
    async release(accountId, owner) {
      const e = required(accountId);
      if (e.lease?.owner === owner) e.lease = null;
    },
    async prepare(accountId, customer, now): Promise<PrepareResult> {
      const e = required(accountId);
      const minStamp = now - STRIPE_WINDOW_MS + STAMP_MARGIN_MS;
      if (e.outbox) {
        if (e.outbox.timestamp * 1000 < minStamp) e.outbox.timestamp = Math.floor(now / 1000);
        return { kind: 'batch', batch: { ...e.outbox } };
      }
      rollover(e.st, now, tierOf(e), (p) => closePeriod(e, p));
      if (!hasWholeOverage(e.st)) return { kind: 'none', remainderMicro: e.st.ovp + e.st.ovc };
      const cus = customer ?? e.account.stripeCustomerId;
      if (!cus) return { kind: 'needs_customer' };
      const b = takeBatch(e.st, now, minStamp);
      if (!b) return { kind: 'none', remainderMicro: e.st.ovp + e.st.ovc };
      e.outbox = {
        accountId,
        identifier: batchIdentifier(accountId, b.periodStart, b.seq),
        stripeCustomerId: cus,
        value: b.value,
        timestamp: b.timestamp,
        periodStart: b.periodStart,
      };
      return { kind: 'batch', batch: { ...e.outbox } };
    },
    async commit(accountId, identifier) {
      const e = required(accountId);
      if (e.outbox?.identifier !== identifier) return false;
      e.st.ovr += e.outbox.value * MICRO_PER_CREDIT;
      e.outbox = null;
      return true;
    },
    async markClean(accountId) {
      const e = required(accountId);
      if (!e.outbox && !hasWholeOverage(e.st)) pending.delete(accountId);
    },
    async reportedMicro(accountId) {
      return required(accountId).st.ovr;
    },
  };
}
