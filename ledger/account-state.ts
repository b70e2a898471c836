// An account's period state and the rules on it (rollover, carryover, reserve, settle, overage).
// The memory ledger runs these functions; the Redis scripts (ledger/scripts/lib/state.lua)
// mirror them field for field, and both backends pass one contract suite.

import { MICRO_PER_CREDIT, MODALITIES, type Modality, type Tier, type TierId } from '../pricing/types.js';
import { addMonths, calendarMonth, monthIndex, monthsBetween } from './period.js';
import type { CarryoverBucket, PeriodSummary, UsageSnapshot, UsageUnits } from './types.js';

/** The tier numbers the rules need, from `pricing.tier(id)` (operator overrides included). */
export interface TierParams {
  id: TierId;
  includedMicro: number;
  hardCap: boolean;
  carryoverPeriods: number;
}

export function tierParams(tier: Tier): TierParams {
  return { id: tier.id, includedMicro: tier.includedMicro, hardCap: tier.hardCap, carryoverPeriods: tier.carryoverPeriods };
}

export interface RawBucket {
  /** Start of the period whose unused included credits these are. */
  from: number;
  /** µcr available at the start of the current period. */
  amount: number;
  /** End of the last period the bucket may be spent in. */
  expires: number;
}

/** Field names are the Redis hash fields of `tg:{acct:ID}:state`. */
export interface PeriodState {
  /** Current period [ps, pe); anchor an; index pk; months per period pm: pe = addMonths(an, (pk+1)·pm). */
  ps: number;
  pe: number;
  an: number;
  pk: number;
  pm: number;
  used: number;
  held: number;
  /** requestCount: every settled request, metered or BYOK. */
  n: number;
  breakdown: Record<Modality, number>;
  byokN: number;
  byokUnits: Record<Modality, UsageUnits>;
  /** Carryover buckets as of the period start, soonest-expiring first. */
  carry: RawBucket[];
  /** Sum of carry amounts: the carryover part of this period's limit. */
  cs: number;
  /** Overage accrued this period (µcr): the high-water mark of used − limit. */
  ova: number;
  /** Overage of this period not yet moved to the outbox. */
  ovp: number;
  /** Overage of closed periods not yet moved to the outbox; stamped ovct (ms), period start ovcs. */
  ovc: number;
  ovct: number;
  ovcs: number;
  /** Outbox batch sequence (never reset: identifiers stay unique). */
  obs: number;
  /** µcr reported to the sink, lifetime. */
  ovr: number;
  /** When the last request settled (ms); 0: never. Kept across periods. */
  lr: number;
}

export const UNIT_FIELDS = [
  'chars',
  'audioMs',
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'queries',
] as const satisfies readonly (keyof UsageUnits)[];

/** Closed periods are processed one at a time; this bounds the loop for an account idle for a century. */
export const MAX_ROLLS = 1200;
/** Past periods kept for reporting. */
export const HISTORY_LENGTH = 24;

const zeroBreakdown = (): Record<Modality, number> => ({ tts: 0, stt: 0, llm: 0, rag: 0 });
const emptyUnits = (): Record<Modality, UsageUnits> => ({ tts: {}, stt: {}, llm: {}, rag: {} });

/** A fresh account: the UTC calendar month containing `now`, anchored at the epoch. */
export function newState(now: number): PeriodState {
  const { start, end } = calendarMonth(now);
  return {
    ps: start,
    pe: end,
    an: 0,
    pk: monthIndex(now),
    pm: 1,
    used: 0,
    held: 0,
    n: 0,
    breakdown: zeroBreakdown(),
    byokN: 0,
    byokUnits: emptyUnits(),
    carry: [],
    cs: 0,
    ova: 0,
    ovp: 0,
    ovc: 0,
    ovct: 0,
    ovcs: 0,
    obs: 0,
    ovr: 0,
    lr: 0,
  };
}

function byExpiry(a: RawBucket, b: RawBucket): number {
  return a.expires - b.expires || a.from - b.from;
}

/**
 * Close every period that ended by `now`. Per closed period: carryover is spent first
 * (soonest-expiring bucket first), then included credits; what is left of a bucket that is
 * still alive in the next period carries on, unused included credits become a new bucket
 * living `carryoverPeriods` periods; pending overage moves to the closed-period pot.
 */
export function rollover(st: PeriodState, now: number, tier: TierParams, onClose: (p: PeriodSummary) => void): void {
  for (let rolled = 0; now >= st.pe && rolled < MAX_ROLLS; rolled++) {
    let rest = st.used;
    const next: RawBucket[] = [];
    for (const b of [...st.carry].sort(byExpiry)) {
      const spend = Math.min(rest, b.amount);
      rest -= spend;
      const left = b.amount - spend;
      if (left > 0 && b.expires > st.pe) next.push({ from: b.from, amount: left, expires: b.expires });
    }
    const unused = tier.includedMicro - Math.min(rest, tier.includedMicro);
    if (tier.carryoverPeriods > 0 && unused > 0) {
      next.push({ from: st.ps, amount: unused, expires: addMonths(st.an, (st.pk + 1 + tier.carryoverPeriods) * st.pm) });
    }
    onClose({
      start: st.ps,
      end: st.pe,
      tier: tier.id,
      includedMicro: tier.includedMicro,
      carryoverMicro: st.cs,
      usedMicro: st.used,
      requestCount: st.n,
      overageMicro: st.ova,
      unusedIncludedMicro: unused,
    });
    if (st.ovp > 0) {
      // Stamped one second before the end, so Stripe bills it in the period it happened in.
      st.ovc += st.ovp;
      st.ovct = st.pe - 1000;
      st.ovcs = st.ps;
      st.ovp = 0;
    }
    st.ova = 0;
    st.used = 0;
    st.n = 0;
    st.breakdown = zeroBreakdown();
    st.byokN = 0;
    st.byokUnits = emptyUnits();
    st.carry = next.sort(byExpiry);
    st.cs = next.reduce((s, b) => s + b.amount, 0);
    st.ps = st.pe;
    st.pk += 1;
    st.pe = addMonths(st.an, (st.pk + 1) * st.pm);
  }
}

/** Stripe's start this close after ours is the same period (clocks and anchors drift by seconds). */
export const SAME_PERIOD_SLACK_MS = 86_400_000;

/**
 * Make [start, end) the current period's bounds' anchor: later periods are calendar months
 * from `start` when the period is whole months (Jan 31 → Feb 28 → Mar 31), else from `end`
 * (a 14-day trial is followed by a month from its end).
 */
function anchorTo(st: PeriodState, start: number, end: number): void {
  const months = monthsBetween(start, end);
  st.pm = months;
  if (addMonths(start, months) === end) {
    st.an = start;
    st.pk = 0;
  } else {
    st.an = end;
    st.pk = -1;
  }
  st.pe = end;
}

/** Follow Stripe's subscription period from now on (see the cases). */
export function setPeriod(
  st: PeriodState,
  now: number,
  start: number,
  end: number,
  tier: TierParams,
  onClose: (p: PeriodSummary) => void,
): void {
  rollover(st, now, tier, onClose);
  if (end <= st.ps) return; // a stale period, older than the current one
  if (start > st.ps + SAME_PERIOD_SLACK_MS && start <= now) {
    // Stripe's period began well after ours: close ours at its start, then run Stripe's.
    st.pe = start;
    st.an = start;
    st.pk = -1;
    st.pm = monthsBetween(start, end);
    rollover(st, now, tier, onClose);
    if (st.ps === start) anchorTo(st, start, end);
  } else if (start > now) {
    // Stripe's next period begins later: ours runs until it does, Stripe's follow.
    st.pe = start;
    st.an = start;
    st.pk = -1;
    st.pm = monthsBetween(start, end);
  } else {
    // Stripe's period began with ours, or before, or within the slack: one period, the
    // counters kept, Stripe's bounds.
    if (start > st.ps) st.ps = start;
    anchorTo(st, start, end);
  }
  rollover(st, now, tier, onClose);
}

export function limitOf(st: PeriodState, tier: TierParams): number {
  return tier.includedMicro + st.cs;
}

export type ReserveVerdict = 'ok' | 'insufficient_credits' | 'overage_cap';

/** Free: used + held + estimate must stay within the limit. Paid: overage must stay within the cap. */
export function reserveVerdict(st: PeriodState, tier: TierParams, amount: number, capMicro: number | null): ReserveVerdict {
  const projected = st.used + st.held + amount;
  const limit = limitOf(st, tier);
  if (tier.hardCap) return projected > limit ? 'insufficient_credits' : 'ok';
  if (capMicro !== null && projected - limit > capMicro) return 'overage_cap';
  return 'ok';
}

/**
 * The part of a settle's `amount` that may be charged (issue 18: the Free cap is a hard cap).
 * A hard-capped tier never takes `used` past its limit, and an account with a spend limit
 * never past limit + spend limit (reserveVerdict refuses past the same line); what the
 * reservation did not cover beyond that is written off (the caller reports it). Accounts with
 * nothing bounding them are charged in full. settle.lua mirrors this.
 */
export function chargeable(st: PeriodState, tier: TierParams, capMicro: number | null, amount: number): number {
  let ceiling: number;
  if (tier.hardCap) ceiling = limitOf(st, tier);
  else if (capMicro !== null) ceiling = limitOf(st, tier) + capMicro;
  else return amount;
  return Math.min(amount, Math.max(0, ceiling - st.used));
}

/** Apply a settlement's amounts (the reservation is released by the caller). Returns true if overage accrued. */
export function applySettle(
  st: PeriodState,
  tier: TierParams,
  input: { modality: Modality; byok: boolean; microCredits: number; units: UsageUnits },
  /** false: the request was counted already (a late settle after its reservation expired). */
  count = true,
): boolean {
  if (count) st.n += 1;
  if (input.byok) {
    st.byokN += 1;
    const u = st.byokUnits[input.modality];
    for (const f of UNIT_FIELDS) {
      const v = input.units[f];
      if (v) u[f] = (u[f] ?? 0) + v;
    }
    return false;
  }
  st.used += input.microCredits;
  st.breakdown[input.modality] += input.microCredits;
  return accrueOverage(st, tier);
}

/** Paid tiers: overage accrues as the high-water mark of used − limit (a later downgrade is billed too). */
export function accrueOverage(st: PeriodState, tier: TierParams): boolean {
  if (tier.hardCap) return false;
  const over = st.used - limitOf(st, tier);
  if (over <= st.ova) return false;
  st.ovp += over - st.ova;
  st.ova = over;
  return true;
}

/** Each bucket's remainder now: the period's spending is drawn from buckets first, soonest-expiring first. */
export function bucketsRemaining(st: PeriodState): CarryoverBucket[] {
  let rest = st.used;
  return [...st.carry].sort(byExpiry).map((b) => {
    const spend = Math.min(rest, b.amount);
    rest -= spend;
    return { fromPeriodStart: b.from, remainingMicro: b.amount - spend, expiresAt: b.expires };
  });
}

export function snapshot(accountId: string, tier: TierParams, st: PeriodState): UsageSnapshot {
  const limit = limitOf(st, tier);
  const units = emptyUnits();
  for (const m of MODALITIES) Object.assign(units[m], st.byokUnits[m]);
  return {
    accountId,
    tier: tier.id,
    period: { start: st.ps, end: st.pe },
    includedMicro: tier.includedMicro,
    carryoverMicro: st.cs,
    limitMicro: limit,
    usedMicro: st.used,
    remainingMicro: Math.max(0, limit - st.used),
    reservedMicro: st.held,
    overageMicro: tier.hardCap ? 0 : Math.max(0, st.used - limit),
    breakdownMicro: { ...st.breakdown },
    requestCount: st.n,
    byok: { requestCount: st.byokN, units },
    carryover: bucketsRemaining(st),
    ...(st.lr ? { lastRequestAt: st.lr } : {}),
  };
}

/** True when a call to takeBatch would produce a batch. */
export function hasWholeOverage(st: PeriodState): boolean {
  return st.ovc + st.ovp >= MICRO_PER_CREDIT;
}

/**
 * Move whole credits of overage out of pending (closed periods first), leaving the
 * sub-credit remainder pending. A closed period's remainder joins the current period's.
 * `minStampMs`: the oldest timestamp Stripe will still accept (with a margin).
 */
export function takeBatch(
  st: PeriodState,
  now: number,
  minStampMs: number,
): { value: number; timestamp: number; periodStart: number; seq: number } | null {
  if (st.ovc > 0) {
    const whole = Math.floor(st.ovc / MICRO_PER_CREDIT);
    st.ovp += st.ovc - whole * MICRO_PER_CREDIT;
    st.ovc = 0;
    if (whole > 0) {
      const stamp = st.ovct >= minStampMs ? st.ovct : now;
      st.obs += 1;
      return { value: whole, timestamp: Math.floor(stamp / 1000), periodStart: st.ovcs, seq: st.obs };
    }
  }
  const whole = Math.floor(st.ovp / MICRO_PER_CREDIT);
  if (whole === 0) return null;
  st.ovp -= whole * MICRO_PER_CREDIT;
  st.obs += 1;
  return { value: whole, timestamp: Math.floor(now / 1000), periodStart: st.ps, seq: st.obs };
}

export function batchIdentifier(accountId: string, periodStart: number, seq: number): string {
  return `tg_${accountId}_${Math.floor(periodStart / 1000)}_${seq}`;
}

/** Stripe accepts meter events from the past 35 days; an hour's margin leaves room for retries. */
export const STRIPE_WINDOW_MS = 35 * 86_400_000;
export const STAMP_MARGIN_MS = 3_600_000;

/** How long a settled request id is remembered by default (settling twice applies once). */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 3_600_000;
