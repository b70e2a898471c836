// Usage history buckets and receipts: their ids, field names and parsing, shared by both ledgers
// (the Redis scripts write the same fields: ledger/scripts/lib/usage-history.lua).
//
// A bucket is a hash of integers, added to by the same call that charges (settle, the expiry of
// a reservation charged its floor), so for any range the buckets sum to what the ledger charged:
//   c|MOD|MODEL, n|MOD|MODEL     µcr and requests per modality and model (at most `maxGroups`
//                                (modality, model) pairs a bucket; later ones fold into MODEL
//                                `other`); n|MOD|MODEL exists for every pair the bucket holds
//   u|MOD|UNIT|MODEL             native units (UNIT: chars, audioMs, inputTokens, ...)
//   nb                           BYOK requests
//   nm                           how many (modality, model) pairs the bucket holds
// The totals and the per-modality figures are the pairs' sums, made when read: a settle adds to
// as few fields as it can (lib/usage-history.lua). Buckets written before stop 26 also hold
// c, n, c|MOD and n|MOD, which equal those sums and are not read.
// The model is last in every field so it may contain `|`. Hourly buckets are UTC hours
// (id YYYYMMDDHH); daily buckets are the account's days in its time zone (id YYYYMMDD).

import { MODALITIES, type Modality } from '../pricing/types.js';
import type { UsageUnits } from './types.js';

export const DEFAULT_HOURLY_RETENTION_DAYS = 35;
export const DEFAULT_DAILY_RETENTION_DAYS = 400;
export const DEFAULT_RECEIPTS_PER_ACCOUNT = 1000;
/** (modality, model) pairs a bucket holds before folding into `other`: keeps hashes small (listpack). */
export const MAX_GROUPS_PER_BUCKET = 40;
/** The model of a charge with no model: an expired reservation's floor, a request that named none. */
export const UNKNOWN_MODEL = 'unknown';
export const OTHER_MODEL = 'other';
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface HistoryOptions {
  /** false: settles write no buckets and no receipts (config history.enabled); default true. */
  enabled?: boolean;
  hourlyRetentionDays: number;
  dailyRetentionDays: number;
  receiptsPerAccount: number;
}
export const DEFAULT_HISTORY: HistoryOptions = {
  hourlyRetentionDays: DEFAULT_HOURLY_RETENTION_DAYS,
  dailyRetentionDays: DEFAULT_DAILY_RETENTION_DAYS,
  receiptsPerAccount: DEFAULT_RECEIPTS_PER_ACCOUNT,
};

/** The scripts' history argument: "hourlyTtlMs:dailyTtlMs:receipts:maxGroups", or "off". */
export function historyArg(h: HistoryOptions): string {
  if (h.enabled === false) return 'off';
  return `${h.hourlyRetentionDays * DAY_MS}:${h.dailyRetentionDays * DAY_MS}:${h.receiptsPerAccount}:${MAX_GROUPS_PER_BUCKET}`;
}

export interface HistoryGroup {
  modality: Modality;
  model: string;
  micro: number;
  requests: number;
  units: UsageUnits;
}

export interface HistoryBucket {
  micro: number;
  requests: number;
  byokRequests: number;
  modalities: Record<Modality, { micro: number; requests: number }>;
  groups: HistoryGroup[];
}

/** One request's receipt (newest first in a page). `id` is its cursor. */
export interface Receipt {
  id: string;
  requestId: string;
  /** ms */
  time: number;
  provider: string | null;
  model: string | null;
  modality: Modality;
  units: UsageUnits;
  /** µcr charged for the request (a session: the whole session). */
  micro: number;
  outcome: string;
  byok: boolean;
  keyId: string | null;
}

/** What a receipt carries beside what the script decides (the time and the credits charged). */
export interface ReceiptPayload {
  requestId: string;
  provider: string;
  model: string | null;
  modality: Modality;
  units: UsageUnits;
  outcome: string;
  byok: boolean;
  keyId: string | null;
}

// ---------------------------------------------------------------------------------------------
// Ids

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The UTC hour `ms` falls in: YYYYMMDDHH. */
export function hourId(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}`;
}

/** Start (ms) of an hour id. */
export function hourStart(id: string): number {
  return Date.UTC(Number(id.slice(0, 4)), Number(id.slice(4, 6)) - 1, Number(id.slice(6, 8)), Number(id.slice(8, 10)));
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(tz, f);
  }
  return f;
}

/** Whether `tz` is an IANA time zone this runtime knows. */
export function isTimeZone(tz: unknown): tz is string {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > 64) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** Wall-clock fields of `ms` in `tz`. */
export function wallClock(ms: number, tz: string): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year!, mo: parts.month!, d: parts.day!, h: parts.hour!, mi: parts.minute!, s: parts.second! };
}

/** The offset of `tz` from UTC at `ms`, in ms (+01:00 -> 3,600,000). */
export function tzOffset(ms: number, tz: string): number {
  const w = wallClock(ms, tz);
  const asUtc = Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The UTC instant of a wall-clock time in `tz` (the earlier one across a DST overlap; a gap moves forward). */
export function zonedTime(tz: string, y: number, mo: number, d: number, h = 0, mi = 0): number {
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  let t = guess - tzOffset(guess, tz);
  const t2 = guess - tzOffset(t, tz);
  if (t2 !== t) t = Math.min(t, t2);
  return t;
}

/** Day ids per time zone, with the current day's range cached: most calls are a compare. */
const dayCache = new Map<string, { start: number; end: number; id: string }>();
/** The account's day `ms` falls in, in `tz`: YYYYMMDD. */
export function dayId(ms: number, tz: string): string {
  const c = dayCache.get(tz);
  if (c && ms >= c.start && ms < c.end) return c.id;
  const w = wallClock(ms, tz);
  const id = `${w.y}${pad(w.mo)}${pad(w.d)}`;
  const start = zonedTime(tz, w.y, w.mo, w.d);
  const next = new Date(Date.UTC(w.y, w.mo - 1, w.d + 1));
  const end = zonedTime(tz, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
  if (dayCache.size > 1000) dayCache.clear();
  dayCache.set(tz, { start, end, id });
  return id;
}

/** Start (ms) of a day id in `tz`. */
export function dayStart(id: string, tz: string): number {
  return zonedTime(tz, Number(id.slice(0, 4)), Number(id.slice(4, 6)), Number(id.slice(6, 8)));
}

// ---------------------------------------------------------------------------------------------
// Fields

const UNIT_NAMES: ReadonlySet<string> = new Set(['chars', 'audioMs', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'queries']);
const isModality = (m: string): m is Modality => (MODALITIES as readonly string[]).includes(m);

export function emptyBucket(): HistoryBucket {
  return { micro: 0, requests: 0, byokRequests: 0, modalities: { tts: { micro: 0, requests: 0 }, stt: { micro: 0, requests: 0 }, llm: { micro: 0, requests: 0 }, rag: { micro: 0, requests: 0 } }, groups: [] };
}

/** A bucket hash (field -> integer string) as a HistoryBucket; groups sorted by modality, model. */
export function parseBucket(h: Record<string, string | number>): HistoryBucket {
  const b = emptyBucket();
  const groups = new Map<string, HistoryGroup>();
  const group = (m: Modality, model: string): HistoryGroup => {
    const k = `${m}|${model}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { modality: m, model, micro: 0, requests: 0, units: {} }));
    return g;
  };
  for (const [f, raw] of Object.entries(h)) {
    const v = Number(raw);
    if (f === 'nb') b.byokRequests = v;
    else if (f.startsWith('u|')) {
      const a = f.indexOf('|', 2);
      const c = f.indexOf('|', a + 1);
      const m = f.slice(2, a);
      const unit = f.slice(a + 1, c);
      if (a < 0 || c < 0 || !isModality(m) || !UNIT_NAMES.has(unit)) continue;
      const g = group(m, f.slice(c + 1));
      g.units[unit as keyof UsageUnits] = (g.units[unit as keyof UsageUnits] ?? 0) + v;
    } else if (f.startsWith('c|') || f.startsWith('n|')) {
      // c|MOD and n|MOD (no model: an older bucket's per-modality figure) are left out: the
      // pairs sum to them.
      const a = f.indexOf('|', 2);
      if (a < 0) continue;
      const m = f.slice(2, a);
      if (!isModality(m)) continue;
      group(m, f.slice(a + 1))[f[0] === 'c' ? 'micro' : 'requests'] = v;
    }
  }
  for (const g of groups.values()) {
    b.micro += g.micro;
    b.requests += g.requests;
    b.modalities[g.modality].micro += g.micro;
    b.modalities[g.modality].requests += g.requests;
  }
  b.groups = [...groups.values()].sort((x, y) => x.modality.localeCompare(y.modality) || x.model.localeCompare(y.model));
  return b;
}

/**
 * The memory ledger's bucket write: the same fields as lib/usage-history.lua, with the same
 * fold past `maxGroups` pairs. Returns true when the bucket was created.
 */
export function addToBucket(h: Map<string, number>, c: BucketCharge, maxGroups = MAX_GROUPS_PER_BUCKET): boolean {
  const created = !h.has('nm');
  const add = (f: string, v: number) => {
    h.set(f, (h.get(f) ?? 0) + v);
  };
  if (c.byok && c.requests) add('nb', c.requests);
  let model = c.model || UNKNOWN_MODEL;
  if (!h.has(`n|${c.modality}|${model}`)) {
    const nm = h.get('nm') ?? 0;
    if (nm < maxGroups) h.set('nm', nm + 1);
    else {
      model = OTHER_MODEL;
      // `other` counts as a pair of its own the first time it appears (as in the script).
      if (!h.has(`n|${c.modality}|${model}`)) h.set('nm', nm + 1);
    }
  }
  if (c.micro) add(`c|${c.modality}|${model}`, c.micro);
  add(`n|${c.modality}|${model}`, c.requests);
  for (const [unit, v] of Object.entries(c.units)) if (v && UNIT_NAMES.has(unit)) add(`u|${c.modality}|${unit}|${model}`, v);
  return created;
}

export interface BucketCharge {
  modality: Modality;
  model: string | null | undefined;
  micro: number;
  /** 1 for a request's first charge, 0 for a late settle's charge beyond its expired floor. */
  requests: number;
  byok: boolean;
  units: UsageUnits;
}

export { DAY_MS, HOUR_MS };
