// Each account's time zone, as the batch scripts need it: the usage history's daily bucket of a
// call is the account's day (ledger/usage-history.ts), named in the script's KEYS.
//
// Read once per process (most often on the way, from a read of the account: its key's
// resolution, the admin API), and again when the account changes (the account channel). The old
// zone serves until the new one is read, so a batch always has one; a zone change moves the days
// written from then on, not those before.

import type { RedisClient } from './connection.js';
import type { Account } from '../types.js';
import type { KeyLayout } from './keys.js';

export interface Zones {
  /** The account's zone if known (else the batch names the UTC day: see ready()). */
  get(accountId: string): string | undefined;
  /** undefined when known; else a read of it to wait for. */
  ready(accountId: string): Promise<void> | undefined;
  /** An account read elsewhere tells its zone. */
  know(a: Account | null): Account | null;
  knowRaw(accountId: string, tz: string | null | undefined): void;
  /** The account changed: read its zone again (the old one serves meanwhile). */
  changed(accountId: string | undefined): void;
}

const MAX = 100_000;

export function createZones(client: RedisClient, keys: KeyLayout, guard: <T>(fn: () => Promise<T>) => Promise<T>): Zones {
  const zones = new Map<string, string>();
  /** Zones that may have changed while change messages were lost: read again on next use. */
  let stale = new Set<string>();
  const set = (id: string, tz: string) => {
    if (zones.size >= MAX && !zones.has(id)) zones.clear();
    zones.set(id, tz);
    stale.delete(id);
  };
  const read = async (accountId: string) => set(accountId, (await client.hget(keys.acct(accountId).acct, 'tz')) || 'UTC');
  return {
    get: (id) => zones.get(id),
    ready(id) {
      if (!zones.has(id)) return guard(() => read(id));
      if (stale.has(id)) {
        stale.delete(id);
        void read(id).catch(() => {});
      }
      return undefined;
    },
    know(a) {
      if (a) set(a.id, a.timeZone ?? 'UTC');
      return a;
    },
    knowRaw(id, tz) {
      set(id, tz || 'UTC');
    },
    changed(id) {
      if (id === undefined) stale = new Set(zones.keys());
      else if (zones.has(id)) void read(id).catch(() => {});
    },
  };
}
