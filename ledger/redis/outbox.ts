// The flusher's view of the Redis ledger (OverageOutbox): which accounts may owe overage, the
// per-account lease, and the outbox scripts that prepare, commit and clean a Stripe batch.

import { STAMP_MARGIN_MS, STRIPE_WINDOW_MS } from '../account-state.js';
import { createLedgerError } from '../errors.js';
import type { OverageOutbox, PrepareResult } from '../types.js';
import type { LedgerContext } from './context.js';
import { scanAccountIds } from './sweep.js';

export function createOutbox({ client, keys, guard, script, tierArg }: LedgerContext): OverageOutbox {
  return {
    async pendingAccounts(full) {
      if (!full) return guard(() => client.smembers(keys.pending));
      // The full run: the index, and the backstop sweep of every master (sweep.ts).
      return guard(async () => {
        const [indexed, scanned] = await Promise.all([client.smembers(keys.accounts), scanAccountIds(client, keys)]);
        return [...new Set([...indexed, ...scanned])];
      });
    },
    async lease(accountId, owner, ttlMs) {
      const k = keys.acct(accountId);
      return guard(async () => (await client.set(k.lease, owner, 'PX', ttlMs, 'NX')) === 'OK');
    },
    async release(accountId, owner) {
      await guard(() => script('lease-release', [keys.acct(accountId).lease], [owner]));
    },
    async prepare(accountId, customer, now): Promise<PrepareResult> {
      const k = keys.acct(accountId);
      const minStamp = now - STRIPE_WINDOW_MS + STAMP_MARGIN_MS;
      const r = await guard(() =>
        script('outbox-prepare', [k.acct, k.state, k.hist, k.outbox], [now, tierArg, customer ?? '', minStamp, accountId]),
      );
      switch (r[0]) {
        case 'batch':
          return {
            kind: 'batch',
            batch: {
              accountId,
              identifier: String(r[1]),
              value: Number(r[2]),
              timestamp: Number(r[3]),
              stripeCustomerId: String(r[4]),
              periodStart: Number(r[5]),
            },
          };
        case 'needs_customer':
          return { kind: 'needs_customer' };
        case 'none':
          return { kind: 'none', remainderMicro: Number(r[1]) };
        default:
          throw createLedgerError('unknown_account', `no account ${accountId}`);
      }
    },
    async commit(accountId, identifier) {
      const k = keys.acct(accountId);
      return guard(async () => Number(await script('outbox-commit', [k.state, k.outbox], [identifier])) === 1);
    },
    async markClean(accountId) {
      const k = keys.acct(accountId);
      // Remove, then unmark unless still pending (outbox-clean.lua): a settle marking the
      // account after the script runs adds it back after this removal.
      await guard(async () => {
        await client.srem(keys.pending, accountId);
        if (Number(await script('outbox-clean', [k.state, k.outbox], [])) === 0) await client.sadd(keys.pending, accountId);
      });
    },
    async reportedMicro(accountId) {
      return guard(async () => Number((await client.hget(keys.acct(accountId).state, 'ovr')) ?? 0));
    },
  };
}
