// The operator's accounts and API keys on the admin port (Authorization: Bearer <admin token>):
//   POST /admin/accounts {id, tier}             GET /admin/accounts        GET /admin/accounts/:id
//   PATCH /admin/accounts/:id {tier?, overageCapCredits?}
//   POST /admin/accounts/:id/keys {label?}      GET /admin/accounts/:id/keys
//   DELETE /admin/keys/:id
// An issued key is shown once; the ledger keeps only its SHA-256. A revocation is published by
// the ledger, and every replica's Authenticator evicts the key at once.

import { z } from 'zod';
import type { Account, ApiKeyInfo, Ledger } from '../../ledger/types.js';
import { TIER_IDS, type TierId } from '../../pricing/types.js';
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

const CreateAccount = z.strictObject({
  id: z.string().regex(ACCOUNT_ID, 'account ids are 1-64 characters of letters, digits, _ . -'),
  tier: tier.default('free'),
  stripeCustomerId: z.string().startsWith('cus_').optional(),
  overageCapCredits: credits.optional(),
});
const PatchAccount = z
  .strictObject({ tier: tier.optional(), overageCapCredits: credits.nullable().optional() })
  .refine((b) => b.tier !== undefined || b.overageCapCredits !== undefined, 'give tier and/or overageCapCredits');
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
  };
}

function keyView(k: ApiKeyInfo): Record<string, unknown> {
  return {
    id: k.id,
    accountId: k.accountId,
    label: k.label ?? null,
    createdAt: new Date(k.createdAt).toISOString(),
    revokedAt: k.revokedAt ? new Date(k.revokedAt).toISOString() : null,
  };
}

export function registerAccountRoutes(router: AdminRouter, ledger: Ledger): void {
  const requireAccount = async (id: string): Promise<Account> => {
    const a = ACCOUNT_ID.test(id) ? await ledger.getAccount(id) : null;
    if (!a) throw new AdminHttpError(404, 'unknown_account', `no account "${id}"`);
    return a;
  };

  router.add('POST', '/admin/accounts', 'admin', async (ctx) => {
    const b = parseBody(CreateAccount, await ctx.json());
    if (await ledger.getAccount(b.id)) throw new AdminHttpError(409, 'account_exists', `account "${b.id}" already exists`);
    const input: { id: string; tier: TierId; stripeCustomerId?: string } = { id: b.id, tier: b.tier };
    if (b.stripeCustomerId) input.stripeCustomerId = b.stripeCustomerId;
    let account = await ledger.ensureAccount(input);
    if (b.overageCapCredits !== undefined) account = await ledger.updateAccount(b.id, { overageCapMicro: micro(b.overageCapCredits) });
    return { status: 201, body: { account: accountView(account) } };
  });

  router.add('GET', '/admin/accounts', 'admin', async () => ({ body: { accounts: (await ledger.listAccounts()).map(accountView) } }));

  router.add('GET', '/admin/accounts/:id', 'admin', async (ctx) => {
    const account = await requireAccount(ctx.params[0]!);
    return { body: { account: accountView(account), usage: usageBody(await ledger.usage(account.id)) } };
  });

  router.add('PATCH', '/admin/accounts/:id', 'admin', async (ctx) => {
    const account = await requireAccount(ctx.params[0]!);
    const b = parseBody(PatchAccount, await ctx.json());
    const patch: { tier?: TierId; overageCapMicro?: number | null } = {};
    if (b.tier !== undefined) patch.tier = b.tier;
    if (b.overageCapCredits !== undefined) patch.overageCapMicro = b.overageCapCredits === null ? null : micro(b.overageCapCredits);
    return { body: { account: accountView(await ledger.updateAccount(account.id, patch)) } };
  });

  router.add('POST', '/admin/accounts/:id/keys', 'admin', async (ctx) => {
    const account = await requireAccount(ctx.params[0]!);
    const b = parseBody(IssueKey, await ctx.json());
    const key = generateApiKey();
    const info = await ledger.addKey(account.id, hashKey(key), b.label);
    return { status: 201, body: { ...keyView(info), key, note: 'store this key now: tollgate keeps only its hash and cannot show it again' } };
  });

  router.add('GET', '/admin/accounts/:id/keys', 'admin', async (ctx) => {
    const account = await requireAccount(ctx.params[0]!);
    return { body: { keys: (await ledger.listKeys(account.id)).map(keyView) } };
  });

  router.add('DELETE', '/admin/keys/:id', 'admin', async (ctx) => {
    const id = ctx.params[0]!.toLowerCase();
    if (!/^[0-9a-f]{12}$/.test(id)) throw new AdminHttpError(400, 'invalid_request', 'a key id is 12 hex characters (see GET /admin/accounts/:id/keys)');
    if (!(await ledger.revokeKey(id))) throw new AdminHttpError(404, 'unknown_key', `no live key with id ${id}`);
    return { body: { id, revoked: true } };
  });
}
