// API keys in Redis: a key's hash -> its account, issue, revoke (published to every process),
// list, look up.

import type { TierId } from '../../pricing/types.js';
import { createLedgerError } from '../errors.js';
import { checkAccountId, keyIdOf, keyRefKind, normalizeKeyHash } from '../inputs.js';
import type { Account, ApiKeyInfo, KeyOwner, Ledger } from '../types.js';
import type { LedgerContext } from './context.js';
import type { Zones } from './zones.js';
import { keyInfo } from './decode.js';

export type ApiKeysApi = Pick<Ledger, 'addKey' | 'revokeKey' | 'listKeys' | 'getKey' | 'resolveKey'>;

export function createApiKeys(ctx: LedgerContext, requireAccount: (id: string) => Promise<Account>, zones: Zones): ApiKeysApi {
  const { client, keys, clock, guard, script } = ctx;
  return {
    async addKey(accountId, keyHash, label) {
      const hash = normalizeKeyHash(keyHash);
      await requireAccount(accountId);
      return guard(async () => {
        const kk = keys.key(hash);
        if ((await client.hsetnx(kk, 'accountId', accountId)) === 0) {
          const existing = keyInfo(hash, await client.hgetall(kk));
          if (!existing || existing.accountId !== accountId) {
            throw createLedgerError('key_conflict', `key ${keyIdOf(hash)} belongs to another account`);
          }
          return existing;
        }
        const now = clock.now();
        await client.hset(kk, { createdAt: String(now), ...(label !== undefined ? { label } : {}) });
        await client.set(keys.keyId(keyIdOf(hash)), hash);
        await client.sadd(keys.acct(accountId).keys, hash);
        return { id: keyIdOf(hash), accountId, createdAt: now, ...(label !== undefined ? { label } : {}) };
      });
    },

    async revokeKey(idOrHash) {
      const kind = keyRefKind(idOrHash);
      if (!kind) return false;
      const ref = idOrHash.toLowerCase();
      return guard(async () => {
        const hash = kind === 'hash' ? ref : await client.get(keys.keyId(ref));
        if (!hash) return false;
        const r = await script('key-revoke', [keys.key(hash)], [clock.now(), ctx.sharded ? '' : keys.revokedChannel, hash]);
        if (Number(r) !== 1) return false;
        // Sharded: sent after the script (a crash between them: the caches' ttl covers it).
        if (ctx.sharded) await ctx.publish(keys.revokedChannel, hash);
        return true;
      });
    },

    async listKeys(accountId) {
      checkAccountId(accountId);
      return guard(async () => {
        const hashes = await client.smembers(keys.acct(accountId).keys);
        const infos = await Promise.all(hashes.map(async (h) => keyInfo(h, await client.hgetall(keys.key(h)))));
        return infos.filter((i): i is ApiKeyInfo => i !== null).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
      });
    },

    async getKey(idOrHash) {
      const kind = keyRefKind(idOrHash);
      if (!kind) return null;
      const ref = idOrHash.toLowerCase();
      return guard(async () => {
        const hash = kind === 'hash' ? ref : await client.get(keys.keyId(ref));
        return hash ? keyInfo(hash, await client.hgetall(keys.key(hash))) : null;
      });
    },

    async resolveKey(keyHash) {
      const hash = String(keyHash).toLowerCase();
      const [accountId, revokedAt] = await guard(() => client.hmget(keys.key(hash), 'accountId', 'revokedAt'));
      if (!accountId || revokedAt) return null;
      // The zone rides along: the account's settles name its daily bucket (zones.ts).
      const [tier, susp, tz] = await guard(() => client.hmget(keys.acct(accountId).acct, 'tier', 'susp', 'tz'));
      zones.knowRaw(accountId, tz);
      const owner: KeyOwner = { accountId, keyId: keyIdOf(hash), tier: (tier ?? 'free') as TierId };
      if (susp) owner.suspended = true;
      return owner;
    },
  };
}
