// Accounts in Redis: create, read, list, update (publishing terms changes), Stripe customer
// lookup, and the account's sealed secrets (stored BYOK keys).

import { createLedgerError } from '../errors.js';
import { checkAccountId, checkPatch, checkTier } from '../inputs.js';
import type { Account, Ledger } from '../types.js';
import type { LedgerContext } from './context.js';
import { pairs, parseAccount } from './decode.js';
import type { Zones } from './zones.js';

export type AccountsApi = Pick<
  Ledger,
  'ensureAccount' | 'getAccount' | 'listAccounts' | 'updateAccount' | 'findAccountByStripeCustomer' | 'putSecret' | 'getSecret' | 'deleteSecret' | 'listSecrets'
> & { requireAccount(id: string): Promise<Account> };

export function createAccounts(ctx: LedgerContext, forgetTerms: (accountId: string) => void, zones: Zones): AccountsApi {
  const { client, keys, clock, guard, script, tierArg } = ctx;

  async function getAccount(id: string): Promise<Account | null> {
    checkAccountId(id);
    return guard(async () => zones.know(parseAccount(await client.hgetall(keys.acct(id).acct))));
  }

  async function requireAccount(id: string): Promise<Account> {
    const a = await getAccount(id);
    if (!a) throw createLedgerError('unknown_account', `no account ${id}`);
    return a;
  }

  return {
    getAccount,
    requireAccount,

    async ensureAccount(input) {
      checkAccountId(input.id);
      checkTier(input.tier);
      const k = keys.acct(input.id);
      return guard(async () => {
        const flat = (await script('account-ensure', [k.acct, k.state], [input.id, input.tier, input.stripeCustomerId ?? '', clock.now()])) as string[];
        await client.sadd(keys.accounts, input.id);
        const account = zones.know(parseAccount(pairs(flat)));
        if (!account) throw createLedgerError('unknown_account', `account ${input.id} vanished`);
        if (account.stripeCustomerId) await client.set(keys.stripe(account.stripeCustomerId), input.id);
        return account;
      });
    },

    async listAccounts() {
      return guard(async () => {
        const ids = (await client.smembers(keys.accounts)).sort();
        const all = await Promise.all(ids.map((id) => client.hgetall(keys.acct(id).acct)));
        return all.map(parseAccount).filter((a): a is Account => a !== null);
      });
    },

    async updateAccount(id, patch) {
      checkAccountId(id);
      checkPatch(patch);
      const before = await requireAccount(id);
      const k = keys.acct(id);
      await guard(async () => {
        // The period first, so a period closed by it is closed under the tier it ran on.
        if (patch.period) {
          await script('set-period', [k.acct, k.state, k.hist], [clock.now(), patch.period.start, patch.period.end, tierArg]);
        }
        const set: Record<string, string> = {};
        const del: string[] = [];
        if (patch.tier !== undefined) set.tier = patch.tier;
        if (patch.status !== undefined) set.status = patch.status;
        const opt = (field: string, v: string | number | null | undefined) => {
          if (v === undefined) return;
          if (v === null) del.push(field);
          else set[field] = String(v);
        };
        opt('cus', patch.stripeCustomerId);
        opt('sub', patch.stripeSubscriptionId);
        opt('cap', patch.overageCapMicro);
        opt('org', patch.origin);
        opt('del', patch.deletedAt);
        opt('tz', patch.timeZone);
        if (patch.suspended !== undefined) opt('susp', patch.suspended ? 1 : null);
        if (Object.keys(set).length || del.length) {
          // Terms read before this change must not be used after it (local admission).
          forgetTerms(id);
          // Suspension: every replica's key cache forgets the account's keys (as on a revocation),
          // so the next request reads the account's state again.
          const hashes = patch.suspended !== undefined ? await client.smembers(k.keys) : [];
          const pairs = Object.entries(set).flat();
          const [acctCh, revokedCh] = ctx.sharded ? ['', ''] : [keys.accountChannel, keys.revokedChannel];
          await script('account-update', [k.acct], [acctCh, id, revokedCh, pairs.length / 2, del.length, ...pairs, ...del, ...hashes]);
          if (ctx.sharded) {
            // Sent after the write (a crash between them: the caches' ttl covers it).
            await ctx.publish(keys.accountChannel, id);
            for (const h of hashes) await ctx.publish(keys.revokedChannel, h);
          }
          forgetTerms(id);
          if (patch.timeZone !== undefined) zones.knowRaw(id, patch.timeZone);
        }
        if (patch.stripeCustomerId !== undefined && patch.stripeCustomerId !== before.stripeCustomerId) {
          if (before.stripeCustomerId && (await client.get(keys.stripe(before.stripeCustomerId))) === id) {
            await client.del(keys.stripe(before.stripeCustomerId));
          }
          if (patch.stripeCustomerId) await client.set(keys.stripe(patch.stripeCustomerId), id);
        }
      });
      return requireAccount(id);
    },

    async findAccountByStripeCustomer(customerId) {
      const id = await guard(() => client.get(keys.stripe(customerId)));
      if (!id) return null;
      const a = await getAccount(id);
      return a && a.stripeCustomerId === customerId ? a : null;
    },

    async putSecret(accountId, name, sealed) {
      await requireAccount(accountId);
      await guard(() => client.hset(keys.acct(accountId).secrets, name, sealed));
    },
    async getSecret(accountId, name) {
      checkAccountId(accountId);
      return guard(() => client.hget(keys.acct(accountId).secrets, name));
    },
    async deleteSecret(accountId, name) {
      checkAccountId(accountId);
      return guard(async () => (await client.hdel(keys.acct(accountId).secrets, name)) === 1);
    },
    async listSecrets(accountId) {
      checkAccountId(accountId);
      return guard(async () => (await client.hkeys(keys.acct(accountId).secrets)).sort());
    },
  };
}
