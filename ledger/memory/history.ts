// The usage history and receipts in memory: written by the call that charges, in the same step
// (as lib/usage-history.lua), and read back with the closed periods' history.

import { DAY_MS, addToBucket, dayId, hourId, parseBucket, type BucketCharge, type HistoryOptions, type Receipt } from '../usage-history.js';
import type { Ledger, PeriodSummary } from '../types.js';
import type { Entry, MemoryContext } from './context.js';

/** What the charging calls write (metering.ts). */
export interface HistoryWriter {
  /** Adds a charge to the account's hourly and daily buckets. */
  charge(e: Entry, now: number, c: BucketCharge): void;
  /** Appends a receipt; the oldest go past `receiptsPerAccount`. */
  receipt(e: Entry, now: number, r: Omit<Receipt, 'id' | 'time'>): void;
}

export interface HistoryApi extends Pick<Ledger, 'historyBuckets' | 'receipts'> {
  history(accountId: string): Promise<PeriodSummary[]>;
}

export function historyWriter(hist: HistoryOptions): HistoryWriter {
  /** Makes receipt ids unique within a millisecond (across accounts, as Redis's sequence). */
  let receiptSeq = 0;
  return {
    charge(e, now, c) {
      if (hist.enabled === false) return;
      const put = (m: Entry['hours'], id: string, ttl: number) => {
        let b = m.get(id);
        if (!b || b.expires <= now) m.set(id, (b = { fields: new Map(), expires: now + ttl }));
        addToBucket(b.fields, c);
      };
      put(e.hours, hourId(now), hist.hourlyRetentionDays * DAY_MS);
      put(e.days, dayId(now, e.account.timeZone ?? 'UTC'), hist.dailyRetentionDays * DAY_MS);
      // Expired buckets go at most once an hour per account.
      if (now - e.swept >= 3_600_000) {
        e.swept = now;
        for (const m of [e.hours, e.days]) for (const [id, b] of m) if (b.expires <= now) m.delete(id);
      }
    },
    receipt(e, now, r) {
      if (hist.enabled === false || hist.receiptsPerAccount <= 0) return;
      e.receipts.push({ id: `${now}-${receiptSeq++}`, time: now, ...r });
      if (e.receipts.length > hist.receiptsPerAccount) e.receipts.splice(0, e.receipts.length - hist.receiptsPerAccount);
    },
  };
}

export function createHistory({ clock, entry }: MemoryContext): HistoryApi {
  return {
    async history(accountId) {
      return (entry(accountId)?.history ?? []).map((p) => ({ ...p }));
    },

    async historyBuckets(accountId, kind, ids) {
      const e = entry(accountId);
      const now = clock.now();
      return ids.map((id) => {
        const b = e ? (kind === 'hour' ? e.hours : e.days).get(id) : undefined;
        return b && b.expires > now ? parseBucket(Object.fromEntries(b.fields)) : null;
      });
    },

    async receipts(accountId, q) {
      const all = entry(accountId)?.receipts ?? [];
      let end = all.length;
      if (q.cursor) {
        const i = all.findIndex((r) => r.id === q.cursor);
        end = i >= 0 ? i : 0;
      }
      const page = all.slice(Math.max(0, end - q.limit), end).reverse().map((r) => ({ ...r, units: { ...r.units } }));
      return { receipts: page, next: end - q.limit > 0 && page.length > 0 ? page[page.length - 1]!.id : null };
    },
  };
}
