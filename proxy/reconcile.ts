// Static accounts: the config is the truth for what it lists. At every start each account of
// `accounts:` is created if missing, else made to match the file — spend limit, keys, and the
// tier unless a Stripe subscription manages the account (then Stripe's webhooks are the truth
// and the config's tier was only the starting point). A key the file no longer lists is revoked
// (keys the config added carry the label `config`; keys issued through the admin API are left
// alone). Accounts created through the admin API are not touched. Every change is logged and
// audited with the actor `config`.

import type { Logger } from 'pino';
import type { AccountConfig } from '../config/schema.js';
import { recordAudit } from '../ledger/audit-log.js';
import type { Account, AccountPatch, Ledger } from '../ledger/types.js';
import type { TierId } from '../pricing/types.js';
import { hashKey } from './auth.js';

/** The label of keys the config added: the ones reconciliation may revoke. */
export const CONFIG_KEY_LABEL = 'config';

const micro = (credits: number) => Math.round(credits * 1_000_000);

export async function reconcileAccounts(ledger: Ledger, accounts: readonly AccountConfig[], logger: Logger): Promise<void> {
  const log = logger.child({ component: 'config' });
  const audit = (action: string, accountId: string, before: unknown, after: unknown) => recordAudit(ledger.audit, log, { actor: 'config', action, accountId, before, after });
  for (const a of accounts) {
    let account: Account | null = await ledger.getAccount(a.id);
    if (account?.deletedAt) {
      log.warn({ account: a.id }, 'a static account was deleted through the admin API: left deleted (take it out of the config, or use another id)');
      continue;
    }
    const cap = a.overageCapCredits === undefined ? null : micro(a.overageCapCredits);
    // UTC is the default: not stored, so an account without a zone and one set to UTC agree.
    const tz = a.timeZone && a.timeZone !== 'UTC' ? a.timeZone : null;
    if (!account) {
      const input: { id: string; tier: TierId; stripeCustomerId?: string } = { id: a.id, tier: a.tier as TierId };
      if (a.stripeCustomerId) input.stripeCustomerId = a.stripeCustomerId;
      await ledger.ensureAccount(input);
      account = await ledger.updateAccount(a.id, { origin: 'config', overageCapMicro: cap, ...(tz ? { timeZone: tz } : {}) });
      await audit('account.created', a.id, null, { tier: account.tier, overageCapMicro: cap, ...(tz ? { timeZone: tz } : {}) });
      log.info({ account: a.id, tier: account.tier }, 'static account created');
    } else {
      const patch: AccountPatch = {};
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      const set = <K extends keyof AccountPatch & keyof Account>(k: K, v: AccountPatch[K]) => {
        if ((account![k] ?? null) === (v ?? null)) return;
        patch[k] = v;
        before[k] = account![k] ?? null;
        after[k] = v;
      };
      if (account.origin !== 'config') set('origin', 'config');
      set('overageCapMicro', cap);
      set('timeZone', tz);
      if (!account.stripeSubscriptionId) set('tier', a.tier as TierId);
      else if (account.tier !== a.tier) log.info({ account: a.id, tier: account.tier, configTier: a.tier }, 'tier left as the Stripe subscription has it');
      if (Object.keys(patch).length > 0) {
        await ledger.updateAccount(a.id, patch);
        await audit('account.updated', a.id, before, after);
        log.info({ account: a.id, before, after }, 'static account updated to match the config');
      }
    }
    await reconcileKeys(ledger, a, log, audit);
  }
}

async function reconcileKeys(ledger: Ledger, a: AccountConfig, log: Logger, audit: (action: string, accountId: string, before: unknown, after: unknown) => Promise<void>): Promise<void> {
  const wanted = new Map(a.apiKeys.map((k) => [hashKey(k).slice(0, 12), k]));
  const existing = await ledger.listKeys(a.id);
  const byId = new Map(existing.map((k) => [k.id, k]));
  for (const k of existing) {
    if (k.revokedAt || k.label !== CONFIG_KEY_LABEL || wanted.has(k.id)) continue;
    if (await ledger.revokeKey(k.id)) {
      await audit('key.revoked', a.id, { id: k.id, revoked: false }, { id: k.id, revoked: true, reason: 'no longer in the config' });
      log.warn({ account: a.id, keyId: k.id }, 'key revoked: no longer in the config');
    }
  }
  for (const [id, key] of wanted) {
    const had = byId.get(id);
    if (had?.revokedAt) {
      log.warn({ account: a.id, keyId: id }, 'a key in the config was revoked earlier and stays revoked: put a new one in the config');
      continue;
    }
    if (had) continue;
    await ledger.addKey(a.id, hashKey(key), CONFIG_KEY_LABEL);
    await audit('key.issued', a.id, null, { id, label: CONFIG_KEY_LABEL });
    log.info({ account: a.id, keyId: id }, 'key added from the config');
  }
}
