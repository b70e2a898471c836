// The Redis ledger's alert outbox: the events the scripts recorded (lib/alerts.lua), for the deliverer.
//
// Keys (hash tag {acct:ID}: one slot per account, so it runs on Redis Cluster):
//   tg:{acct:ID}:alerts        HASH   fired, e:<ps>:<token> (lib/alerts.lua)
//   tg:{acct:ID}:alerts:lease  STRING the deliverer working on the account
//   tg:alerts:pending          SET    accounts that may have events waiting: added by the
//                                     process whose script recorded one (the script cannot: the
//                                     set is in no account's slot), removed by markClean. A crash
//                                     between the script and the SADD is covered by the
//                                     deliverer's periodic sweep of every account (`full`).
// Every command touches one key, so each goes to that key's node on a cluster.

import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { byRecordOrder, parseAlertRecord, type AlertRecord } from './alert-rules.js';
import type { AlertOutbox } from './types.js';

export interface RedisAlertOutboxOptions {
  client: Redis;
  prefix: string;
  /** The ledger's guard: refuses while the ledger is unusable, maps transport errors. */
  guard<T>(fn: () => Promise<T>): Promise<T>;
  logger: Logger;
  /** SET of every account id (the sweep). */
  accountsKey: string;
  /** An account's alert key (tg:{acct:ID}:alerts). */
  key(accountId: string): string;
}

export interface RedisAlertOutbox extends AlertOutbox {
  /** After a script recorded an event: add the account to the pending index (not awaited; a failure is left to the sweep). */
  markPending(accountId: string): void;
}

/** Only the lease holder deletes it (an expired lease may have passed to another deliverer). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export function createRedisAlertOutbox(o: RedisAlertOutboxOptions): RedisAlertOutbox {
  const { client, guard } = o;
  const pendingKey = `${o.prefix}:alerts:pending`;
  const leaseKey = (id: string) => `${o.key(id)}:lease`;
  const hasEvents = (h: Record<string, string>) => Object.keys(h).some((f) => f.startsWith('e:'));

  return {
    markPending(accountId) {
      client.sadd(pendingKey, accountId).catch((err: unknown) => o.logger.warn({ err: (err as Error).message, accountId }, 'alert pending index not updated; the sweep will find it'));
    },
    async pendingAccounts(full) {
      return guard(async () => (await client.smembers(full ? o.accountsKey : pendingKey)).sort());
    },
    async lease(accountId, owner, ttlMs) {
      return guard(async () => (await client.set(leaseKey(accountId), owner, 'PX', ttlMs, 'NX')) === 'OK');
    },
    async release(accountId, owner) {
      await guard(() => client.eval(RELEASE, 1, leaseKey(accountId), owner));
    },
    async waiting(accountId) {
      const h = await guard(() => client.hgetall(o.key(accountId)));
      const out: AlertRecord[] = [];
      for (const [f, v] of Object.entries(h)) {
        const m = /^e:(\d+):(.+)$/.exec(f);
        if (!m) continue;
        const r = parseAlertRecord(accountId, m[2]!, v);
        if (r) out.push(r);
        else o.logger.error({ accountId, field: f }, 'unreadable alert record left in the outbox');
      }
      return out.sort(byRecordOrder);
    },
    async delivered(accountId, periodStart, token) {
      return guard(async () => (await client.hdel(o.key(accountId), `e:${periodStart}:${token}`)) === 1);
    },
    async markClean(accountId) {
      // Remove, then look again: a script that recorded an event after the look adds the
      // account back after this removal (its SADD follows its script), so nothing is missed.
      await guard(async () => {
        await client.srem(pendingKey, accountId);
        if (hasEvents(await client.hgetall(o.key(accountId)))) await client.sadd(pendingKey, accountId);
      });
    },
  };
}
