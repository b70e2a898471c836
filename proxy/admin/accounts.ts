// The operator's accounts and API keys on the admin port (Authorization: Bearer <admin token>):
//   POST /admin/accounts {id, tier, timeZone?}           GET /admin/accounts        GET /admin/accounts/:id
//   PATCH /admin/accounts/:id {tier?, overageCapCredits?, timeZone?}
//   POST /admin/accounts/:id/keys {label?}      GET /admin/accounts/:id/keys
//   DELETE /admin/keys/:id
//   POST /admin/accounts/:id/suspend            POST /admin/accounts/:id/resume
//   DELETE /admin/accounts/:id                  (keys revoked; usage and history kept)
// An issued key is shown once; the ledger keeps only its SHA-256. A revocation is published by
// the ledger, and every replica's Authenticator evicts the key at once (a suspension too).
// Every change is audited (ledger/audit-log.ts): who, what, before and after.

import { z } from 'zod';
import type { Logger } from 'pino';
import { recordAudit } from '../../ledger/audit-log.js';
import type { Account, ApiKeyInfo, Clock, Ledger } from '../../ledger/types.js';
import { TIER_IDS, type TierId } from '../../pricing/types.js';
import { isTimeZone } from '../../ledger/usage-history.js';
import { hashKey } from '../auth.js';
import { generateApiKey } from '../keys.js';
import { AdminHttpError, type AdminRouter } from './router.js';
import { usageBody } from './usage.js';
import { parseBody } from './validate.js';

/** The same rule as static accounts in the config (config/schema.ts). */
const ACCOUNT_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const tier = z.enum(TIER_IDS as [TierId, ...TierId[]]);
/** Credits as a decimal number; stored as integer µcr (rounded to 6 places, as in the config). */
const credits = z.number().nonnegative().max(1e12);
/** The daily usage history's zone (IANA); UTC is the default and is not stored. */
const timeZone = z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Paris or UTC');
const storedZone = (tz: string | null) => (tz === null || tz === 'UTC' ? null : tz);

const CreateAccount = z.strictObject({
  id: z.string().regex(ACCOUNT_ID, 'account ids are 1-64 characters of letters, digits, _ . -'),
  tier: tier.default('free'),
  stripeCustomerId: z.string().startsWith('cus_').optional(),
  overageCapCredits: credits.optional(),
  timeZone: timeZone.optional(),
});
const PatchAccount = z
  .strictObject({ tier: tier.optional(), overageCapCredits: credits.nullable().optional(), timeZone: timeZone.nullable().optional() })
  .refine((b) => b.tier !== undefined || b.overageCapCredits !== undefined || b.timeZone !== undefined, 'give tier, overageCapCredits and/or timeZone');
const IssueKey = z.strictObject({ label: z.string().trim().min(1).max(64).optional() });

const micro = (credits: number) => Math.round(credits * 1_000_000);

export function accountView(a: Account): Record<string, unknown> {
  return {
    id: a.id,
    tier: a.tier,
    status: a.status,
    stripeCustomerId: a.stripeCustomerId ?? null,
    stripeSubscriptionId: a.stripeSubscriptionId ?? null,
    overageCapCredits: a.overageCapMicro === undefined || a.overageCapMicro === null ? null : a.overageCapMicro / 1_000_000,
    createdAt: new Date(a.createdAt).toISOString(),
    origin: a.origin ?? 'api',
    suspended: a.suspended === true,
    deletedAt: a.deletedAt ? new Date(a.deletedAt).toISOString() : null,
    timeZone: a.timeZone ?? 'UTC',
  };
}

export function keyView(k: ApiKeyInfo): Record<string, unknown> {
  return {
    id: k.id,
    accountId: k.accountId,
    label: k.label ?? null,
    createdAt: new Date(k.createdAt).toISOString(),
    revokedAt: k.revokedAt ? new Date(k.revokedAt).toISOString() : null,
  };
}

/** The fields of `after` that differ from `before`, as a pair (the audit entry's before/after). */
function changed(before: Record<string, unknown>, after: Record<string, unknown>): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const k of Object.keys(after)) {
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) {
      b[k] = before[k];
      a[k] = after[k];
    }
  }
  return { before: b, after: a };
}

export function registerAccountRoutes(router: AdminRouter, ledger: Ledger, deps: { logger: Logger; clock: Clock }): void {
  const { logger, clock } = deps;
  const audit = (actor: string, action: string, accountId: string, before?: unknown, after?: unknown) =>
    recordAudit(ledger.audit, logger, { actor, action, accountId, ...(before === undefined ? {} : { before }), ...(after === undefined ? {} : { after }) });
  /** A live account (a deleted one is gone for everything but reading). */
  const requireAccount = async (id: string, deletedToo = false): Promise<Account> => {
    const a = ACCOUNT_ID.test(id) ? await ledger.getAccount(id) : null;
    if (!a || (a.deletedAt && !deletedToo)) throw new AdminHttpError(404, 'unknown_account', `no account "${id}"`);
    return a;
  };

  router.add('POST', '/admin/accounts', 'admin', async (ctx) => {
    const b = parseBody(CreateAccount, await ctx.json());
    const existing = await ledger.getAccount(b.id);
    if (existing) throw new AdminHttpError(409, 'account_exists', `account "${b.id}" already exists${existing.deletedAt ? ' (deleted; its history is kept)' : ''}`);
    const input: { id: string; tier: TierId; stripeCustomerId?: string } = { id: b.id, tier: b.tier };
    if (b.stripeCustomerId) input.stripeCustomerId = b.stripeCustomerId;
    let account = await ledger.ensureAccount(input);
    if (b.overageCapCredits !== undefined) account = await ledger.updateAccount(b.id, { overageCapMicro: micro(b.overageCapCredits) });
    if (b.timeZone !== undefined && storedZone(b.timeZone)) account = await ledger.updateAccount(b.id, { timeZone: storedZone(b.timeZone) });
    await audit(ctx.actor, 'account.created', b.id, undefined, accountView(account));
    return { status: 201, body: { account: accountView(account) } };
  });

  router.add('GET', '/admin/accounts', 'admin', async () => ({ body: { accounts: (await ledger.listAccounts()).map(accountView) } }));

  router.add('GET', '/admin/accounts/:id', 'admin', async (ctx) => {
    const account = await requireAccount(ctx.params[0]!, true);
    return { body: { account: accountView(account), usage: usageBody(await ledger.usage(account.id)) } };
  });

  router.add('PATCH', '/admin/accounts/:id', 'admin', async (ctx) => {
    const account = await requireAccount(ctx.params[0]!);
    const b = parseBody(PatchAccount, await ctx.json());
    const patch: { tier?: TierId; overageCapMicro?: number | null; timeZone?: string | null } = {};
    if (b.tier !== undefined) patch.tier = b.tier;
    if (b.timeZone !== undefined) patch.timeZone = storedZone(b.timeZone);
    if (b.overageCapCredits !== undefined) patch.overageCapMicro = b.overageCapCredits === null ? null : micro(b.overageCapCredits);
    const after = await ledger.updateAccount(account.id, patch);
    const d = changed(accountView(account), accountView(after));
    if (Object.keys(d.after).length) await audit(ctx.actor, d.after.tier !== undefined ? 'account.tier_changed' : 'account.updated', account.id, d.before, d.after);
    return { body: { account: accountView(after) } };
  });

  for (const [verb, suspended] of [
    ['suspend', true],
    ['resume', false],
  ] as const) {
    router.add('POST', `/admin/accounts/:id/${verb}`, 'admin', async (ctx) => {
      const account = await requireAccount(ctx.params[0]!);
      if ((account.suspended === true) === suspended) return { body: { account: accountView(account) } };
      const after = await ledger.updateAccount(account.id, { suspended });
      await audit(ctx.actor, suspended ? 'account.suspended' : 'account.resumed', account.id, { suspended: !suspended }, { suspended });
      return { body: { account: accountView(after) } };
    });
  }

  // Deleting keeps the ledger's records (usage, history, the audit log) until they expire or the
  // operator removes them from Redis; the account's keys stop at once and its id stays taken.
  router.add('DELETE', '/admin/accounts/:id', 'admin', async (ctx) => {
    const account = await requireAccount(ctx.params[0]!);
    const revoked: string[] = [];
    for (const k of await ledger.listKeys(account.id)) {
      if (!k.revokedAt && (await ledger.revokeKey(k.id))) revoked.push(k.id);
    }
    const after = await ledger.updateAccount(account.id, { deletedAt: clock.now(), suspended: true });
    await audit(ctx.actor, 'account.deleted', account.id, accountView(account), { ...accountView(after), revokedKeys: revoked });
    return { body: { account: accountView(after), revokedKeys: revoked } };
  });

  router.add('POST', '/admin/accounts/:id/keys', 'admin', async (ctx) => {
    const account = await requireAccount(ctx.params[0]!);
    const b = parseBody(IssueKey, await ctx.json());
    const key = generateApiKey();
    const info = await ledger.addKey(account.id, hashKey(key), b.label);
    await audit(ctx.actor, 'key.issued', account.id, undefined, keyView(info));
    return { status: 201, body: { ...keyView(info), key, note: 'store this key now: tollgate keeps only its hash and cannot show it again' } };
  });

  router.add('GET', '/admin/accounts/:id/keys', 'admin', async (ctx) => {
    const account = await requireAccount(ctx.params[0]!);
    return { body: { keys: (await ledger.listKeys(account.id)).map(keyView) } };
  });

  router.add('DELETE', '/admin/keys/:id', 'admin', async (ctx) => {
    const id = ctx.params[0]!.toLowerCase();
    if (!/^[0-9a-f]{12}$/.test(id)) throw new AdminHttpError(400, 'invalid_request', 'a key id is 12 hex characters (see GET /admin/accounts/:id/keys)');
    const before = await ledger.getKey(id);
    if (!before || !(await ledger.revokeKey(id))) throw new AdminHttpError(404, 'unknown_key', `no live key with id ${id}`);
    await audit(ctx.actor, 'key.revoked', before.accountId, keyView(before), keyView({ ...before, revokedAt: clock.now() }));
    return { body: { id, revoked: true } };
  });
}
