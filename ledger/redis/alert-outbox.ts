// The alert deliverer's view of the Redis ledger (AlertOutbox): the events the scripts recorded (lib/alerts.lua).
//
// Keys (hash tag {acct:ID}: one slot per account, so it runs on Redis Cluster):
//   tg:{acct:ID}:alerts        HASH   fired, e:<ps>:<token>, f:<token> (lib/alerts.lua)
//   tg:{acct:ID}:alerts:lease  STRING the deliverer working on the account
//   tg:alerts:pending          SET    accounts that may have events waiting: added by the
//                                     process whose script recorded one (the script cannot: the
//                                     set is in no account's slot), removed by markClean. A crash
//                                     between the script and the SADD is covered by the
//                                     deliverer's periodic sweep of every account (`full`, the
//                                     flusher's own list of every account).
// Every command touches one key, so each goes to that key's node on a cluster.

import type { Logger } from 'pino';
import { firedList, parseFiringMark, type FiredAlerts } from '../alert-fired.js';
import { byRecordOrder, parseAlertRecord, type AlertRecord } from '../alert-rules.js';
import type { AlertOutbox } from '../types.js';
import type { LedgerContext } from './context.js';
import type { RedisClient } from './connection.js';
import type { KeyLayout } from './keys.js';

/** After a script recorded an event: the account joins the pending index (not awaited; a failure is left to the sweep). */
export function alertPendingMarker(client: RedisClient, keys: KeyLayout, logger: Logger): (accountId: string) => void {
  return (accountId) => {
    client.sadd(keys.alertsPending, accountId).catch((err: unknown) => logger.warn({ err: (err as Error).message, accountId }, 'alert pending index not updated; the sweep will find it'));
  };
}

/**
 * `everyAccount`: the overage outbox's full list (pendingAccounts(true)), so the alert sweep
 * finds every account the same way the flusher's does, on a single Redis or a cluster.
 */
export function createAlertOutbox({ client, keys, guard, script, logger }: LedgerContext, everyAccount: () => Promise<string[]>): AlertOutbox {
  const hasEvents = (h: Record<string, string>) => Object.keys(h).some((f) => f.startsWith('e:'));
  return {
    async pendingAccounts(full) {
      if (full) return [...(await everyAccount())].sort();
      return guard(async () => (await client.smembers(keys.alertsPending)).sort());
    },
    async lease(accountId, owner, ttlMs) {
      return guard(async () => (await client.set(keys.acct(accountId).alertsLease, owner, 'PX', ttlMs, 'NX')) === 'OK');
    },
    async release(accountId, owner) {
      await guard(() => script('lease-release', [keys.acct(accountId).alertsLease], [owner]));
    },
    async waiting(accountId) {
      const h = await guard(() => client.hgetall(keys.acct(accountId).alerts));
      const out: AlertRecord[] = [];
      for (const [f, v] of Object.entries(h)) {
        const m = /^e:(\d+):(.+)$/.exec(f);
        if (!m) continue;
        const r = parseAlertRecord(accountId, m[2]!, v);
        if (r) out.push(r);
        else logger.error({ accountId, field: f }, 'unreadable alert record left in the outbox');
      }
      return out.sort(byRecordOrder);
    },
    async delivered(accountId, periodStart, token) {
      return guard(async () => (await client.hdel(keys.acct(accountId).alerts, `e:${periodStart}:${token}`)) === 1);
    },
    async markClean(accountId) {
      // Remove, then look again: a script that recorded an event after the look adds the
      // account back after this removal (its SADD follows its script), so nothing is missed.
      await guard(async () => {
        await client.srem(keys.alertsPending, accountId);
        if (hasEvents(await client.hgetall(keys.acct(accountId).alerts))) await client.sadd(keys.alertsPending, accountId);
      });
    },
  };
}

/**
 * Ledger.firedAlerts: what the account's period has fired, from one HGETALL of its alert key
 * (fired, e:<ps>:<token>, f:<token>; lib/alerts.lua). The hash holds a few fields per threshold
 * the rules name, so reading it whole is as cheap as naming them.
 */
export function firedAlertsReader({ client, keys, guard, clock, logger }: LedgerContext): (accountId: string) => Promise<FiredAlerts> {
  return async (accountId) => {
    const h = await guard(() => client.hgetall(keys.acct(accountId).alerts));
    const m = /^(\d+):(.*)$/.exec(h.fired ?? '');
    if (!m) return { periodStart: null, alerts: [] };
    const waiting: AlertRecord[] = [];
    for (const [f, v] of Object.entries(h)) {
      const e = /^e:(\d+):(.+)$/.exec(f);
      if (!e) continue;
      const r = parseAlertRecord(accountId, e[2]!, v);
      if (r) waiting.push(r);
      else logger.error({ accountId, field: f }, 'unreadable alert record left in the outbox');
    }
    const tokens = m[2]!.split(',').filter(Boolean);
    return firedList({ firedPs: Number(m[1]), tokens, waiting, marks: (tk) => parseFiringMark(h[`f:${tk}`]) }, clock.now());
  };
}
