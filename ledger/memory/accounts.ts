// Accounts in memory: create, read, list, update (telling key caches when suspension changes),
// Stripe customer lookup, and the account's sealed secrets (stored BYOK keys).

import type { TierId } from '../../pricing/types.js';
import { setPeriod } from '../account-state.js';
import { checkAccountId, checkPatch, checkTier } from '../inputs.js';
import type { Account, AccountAlerts, Ledger } from '../types.js';
import { newEntry, type MemoryContext } from './context.js';

export type AccountsApi = Pick<
  Ledger,
  'ensureAccount' | 'getAccount' | 'listAccounts' | 'updateAccount' | 'findAccountByStripeCustomer' | 'putSecret' | 'getSecret' | 'deleteSecret' | 'listSecrets'
>;

const copyAlerts = (x: AccountAlerts): AccountAlerts => ({
  ...(x.percent ? { percent: [...x.percent] } : {}),
  ...(x.remainingMicro ? { remainingMicro: [...x.remainingMicro] } : {}),
});
/** Callers get copies: nothing they do to an Account reaches the ledger's. */
const copy = (a: Account): Account => (a.alerts ? { ...a, alerts: copyAlerts(a.alerts) } : { ...a });

export function createAccounts(ctx: MemoryContext): AccountsApi {
  const { clock, accounts, entry, required, tierOf, closePeriod, notifyRevoked } = ctx;
  /** Stripe customer id -> account id (checked against the account on read). */
  const byCustomer = new Map<string, string>();
  return {
    async ensureAccount(input) {
      checkAccountId(input.id);
      checkTier(input.tier);
      let e = accounts.get(input.id);
      if (!e) {
        const now = clock.now();
        const account: Account = { id: input.id, tier: input.tier, status: 'active', createdAt: now, overageCapMicro: null };
        if (input.stripeCustomerId) {
          account.stripeCustomerId = input.stripeCustomerId;
          byCustomer.set(input.stripeCustomerId, input.id);
        }
        e = newEntry(account, now);
        accounts.set(input.id, e);
      }
      return copy(e.account);
    },

    async getAccount(id) {
      const e = entry(id);
      return e ? copy(e.account) : null;
    },

    async listAccounts() {
      return [...accounts.values()].map((e) => copy(e.account)).sort((a, b) => a.id.localeCompare(b.id));
    },

    async updateAccount(id, patch) {
      checkPatch(patch);
      const e = required(id);
      const a = e.account;
      // The period first, so a period closed by it is closed under the tier it ran on.
      if (patch.period) setPeriod(e.st, clock.now(), patch.period.start, patch.period.end, tierOf(e), (p) => closePeriod(e, p));
      if (patch.tier !== undefined) a.tier = patch.tier as TierId;
      if (patch.status !== undefined) a.status = patch.status;
      if (patch.stripeCustomerId !== undefined && patch.stripeCustomerId !== a.stripeCustomerId) {
        if (a.stripeCustomerId && byCustomer.get(a.stripeCustomerId) === id) byCustomer.delete(a.stripeCustomerId);
        if (patch.stripeCustomerId) {
          a.stripeCustomerId = patch.stripeCustomerId;
          byCustomer.set(patch.stripeCustomerId, id);
        } else delete a.stripeCustomerId;
      }
      if (patch.stripeSubscriptionId !== undefined) {
        if (patch.stripeSubscriptionId) a.stripeSubscriptionId = patch.stripeSubscriptionId;
        else delete a.stripeSubscriptionId;
      }
      if (patch.overageCapMicro !== undefined) a.overageCapMicro = patch.overageCapMicro;
      if (patch.origin !== undefined) {
        if (patch.origin) a.origin = patch.origin;
        else delete a.origin;
      }
      if (patch.deletedAt !== undefined) {
        if (patch.deletedAt === null) delete a.deletedAt;
        else a.deletedAt = patch.deletedAt;
      }
      if (patch.timeZone !== undefined) {
        if (patch.timeZone) a.timeZone = patch.timeZone;
        else delete a.timeZone;
      }
      if (patch.alerts !== undefined) {
        if (patch.alerts) a.alerts = copyAlerts(patch.alerts);
        else delete a.alerts;
      }
      if (patch.suspended !== undefined) {
        if (patch.suspended) a.suspended = true;
        else delete a.suspended;
        // As on a revocation: key caches forget the account's keys and read its state again.
        for (const h of e.keys) notifyRevoked(h);
      }
      return copy(a);
    },

    async findAccountByStripeCustomer(customerId) {
      const id = byCustomer.get(customerId);
      const e = id ? accounts.get(id) : undefined;
      return e && e.account.stripeCustomerId === customerId ? copy(e.account) : null;
    },

    async putSecret(accountId, name, sealed) {
      required(accountId).secrets.set(name, sealed);
    },
    async getSecret(accountId, name) {
      return entry(accountId)?.secrets.get(name) ?? null;
    },
    async deleteSecret(accountId, name) {
      return entry(accountId)?.secrets.delete(name) ?? false;
    },
    async listSecrets(accountId) {
      return [...(entry(accountId)?.secrets.keys() ?? [])].sort();
    },
  };
}
