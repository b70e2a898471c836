// Threshold alerts: which levels of `used` fire which event, once per account, period and threshold.
// The memory ledger runs these functions; ledger/scripts/lib/alerts.lua mirrors them token for
// token, so both backends record the same events with the same numbers (the contract suite).
//
// Level-based, not edge-based: after a debit, every level at or below `used` that this period
// has not recorded yet is recorded. So a debit that did not look (none does, but a future path
// might) is caught by the next one, and a limit that changes mid-period (a tier change) cannot
// record a token twice: the period's `fired` set is the dedupe.

import type { AccountAlerts } from './types.js';

export const ALERT_TYPES = ['credits.threshold_crossed', 'credits.exhausted', 'overage.started', 'spend_limit.reached'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];
/** What `threshold` counts: a percent of the period's limit, remaining µcr, or the spend limit in µcr. */
export type ThresholdType = 'percent' | 'remainingCredits' | 'spendLimit';

/** The operator's rules (config `alerts`): percents of the period's limit, and remaining-µcr levels. */
export interface AlertRules {
  percent: number[];
  remainingMicro: number[];
}

/** One level: the event recorded when `used` reaches `at` µcr. */
export interface AlertLevel {
  /** Unique per period: p<percent>, r<µcr>, exhausted, overage, spend. Part of the event id. */
  token: string;
  at: number;
  type: AlertType;
  thresholdType: ThresholdType;
  threshold: number;
}

/** An event recorded by a debit, waiting in the account's alert outbox until delivered. */
export interface AlertRecord {
  accountId: string;
  token: string;
  type: AlertType;
  thresholdType: ThresholdType;
  /** Percent, or µcr (remainingCredits, spendLimit). */
  threshold: number;
  /** `used` right after the debit that crossed it, and the period's limit (included + carryover), µcr. */
  usedMicro: number;
  limitMicro: number;
  periodStart: number;
  periodEnd: number;
  /** When the debit recorded it (ms): the body's createdAt, the same on every retry. */
  createdAt: number;
  /** The level (µcr): delivery order within one debit. */
  at: number;
}

/** The account's lists: its own (`alerts` of the account) replace the global ones, list by list. */
export function effectiveRules(global: AlertRules, own: AccountAlerts | undefined): AlertRules {
  return {
    percent: own?.percent ?? global.percent,
    remainingMicro: own?.remainingMicro ?? global.remainingMicro,
  };
}

/**
 * The levels of a period with limit `limit` µcr (included + carryover). Percents and remaining
 * levels need a limit; `exhausted` is a hard-capped tier's (Free's) whole limit; a paid tier has
 * `overage` past its limit and, with a spend limit, `spend` at limit + spend limit (where its
 * hard cap stops it). Integer arithmetic only, in doubles below 2^53, as Lua computes it.
 */
export function alertLevels(rules: AlertRules, limit: number, capMicro: number | null, hardCap: boolean): AlertLevel[] {
  const out: AlertLevel[] = [];
  if (limit > 0) {
    for (const p of rules.percent) out.push({ token: `p${p}`, at: Math.floor((p * limit + 99) / 100), type: 'credits.threshold_crossed', thresholdType: 'percent', threshold: p });
    for (const r of rules.remainingMicro) out.push({ token: `r${r}`, at: Math.max(limit - r, 1), type: 'credits.threshold_crossed', thresholdType: 'remainingCredits', threshold: r });
    if (hardCap) out.push({ token: 'exhausted', at: limit, type: 'credits.exhausted', thresholdType: 'percent', threshold: 100 });
  }
  if (!hardCap) {
    out.push({ token: 'overage', at: limit + 1, type: 'overage.started', thresholdType: 'percent', threshold: 100 });
    if (capMicro !== null) out.push({ token: 'spend', at: limit + capMicro, type: 'spend_limit.reached', thresholdType: 'spendLimit', threshold: capMicro });
  }
  return out;
}

/** The levels reached by `used` that `fired` does not hold yet, in list order (lib/alerts.lua's order). */
export function crossed(levels: AlertLevel[], used: number, fired: ReadonlySet<string>): AlertLevel[] {
  return levels.filter((l) => used >= l.at && !fired.has(l.token));
}

/**
 * Whether a fired list recorded under period start `firedPs` still holds in the period starting
 * `ps`: following a Stripe subscription moves a period's start by up to a day and keeps its
 * counters (setPeriod), so its thresholds must not fire again; real periods are longer.
 */
export function samePeriod(firedPs: number, ps: number): boolean {
  return ps - firedPs >= 0 && ps - firedPs < 86_400_000;
}

/** Deterministic per account, period and threshold: a receiver dedupes on it. */
export function alertEventId(accountId: string, periodStart: number, token: string): string {
  return `tga_${accountId}_${Math.floor(periodStart / 1000)}_${token}`;
}

/** An account's own lists as stored (account hash field `alt`): "50,80/5000000", `*` for the global list. */
export function encodeAccountAlerts(a: AccountAlerts): string {
  return `${a.percent ? a.percent.join(',') : '*'}/${a.remainingMicro ? a.remainingMicro.join(',') : '*'}`;
}

export function decodeAccountAlerts(s: string | undefined | null): AccountAlerts | undefined {
  if (!s) return undefined;
  const [p = '*', r = '*'] = s.split('/');
  const list = (x: string) => (x === '*' ? undefined : x.split(',').filter(Boolean).map(Number));
  const out: AccountAlerts = {};
  const percent = list(p);
  const remainingMicro = list(r);
  if (percent) out.percent = percent;
  if (remainingMicro) out.remainingMicro = remainingMicro;
  return out;
}

/** The rules as the scripts take them, after the tier table: "|A50,80,100/5000000"; '' when alerts are off. */
export function encodeRulesSuffix(rules: AlertRules | undefined): string {
  return rules ? `|A${rules.percent.join(',')}/${rules.remainingMicro.join(',')}` : '';
}

/** A record as lib/alerts.lua stores it: "type|thresholdType|threshold|used|limit|ps|pe|createdAt|at". */
export function parseAlertRecord(accountId: string, token: string, v: string): AlertRecord | null {
  const [type, thresholdType, threshold, used, limit, ps, pe, createdAt, at] = v.split('|');
  if (!type || !ALERT_TYPES.includes(type as AlertType)) return null;
  return {
    accountId,
    token,
    type: type as AlertType,
    thresholdType: thresholdType as ThresholdType,
    threshold: Number(threshold),
    usedMicro: Number(used),
    limitMicro: Number(limit),
    periodStart: Number(ps),
    periodEnd: Number(pe),
    createdAt: Number(createdAt),
    at: Number(at),
  };
}

const KIND_ORDER = ['p', 'r', 'exhausted', 'overage', 'spend'];
/** A token's kind, in alertLevels()'s order. */
export const kindRank = (token: string) => KIND_ORDER.findIndex((k) => token === k || (k.length === 1 && token.startsWith(k)));

/** Delivery order: as recorded (createdAt), then by level within one debit, then as alertLevels lists them. */
export function byRecordOrder(a: AlertRecord, b: AlertRecord): number {
  return a.createdAt - b.createdAt || a.periodStart - b.periodStart || a.at - b.at || kindRank(a.token) - kindRank(b.token);
}

const credits = (micro: number): number => micro / 1_000_000;

/**
 * The webhook body (interface.md, "Usage over time"), the same bytes on every retry: credits are
 * decimals exact to 6 places as in /v1/usage; `threshold` is a percent, or credits when
 * `thresholdType` is remainingCredits or spendLimit.
 */
export function alertBody(r: AlertRecord): string {
  return JSON.stringify({
    id: alertEventId(r.accountId, r.periodStart, r.token),
    type: r.type,
    accountId: r.accountId,
    threshold: r.thresholdType === 'percent' ? r.threshold : credits(r.threshold),
    thresholdType: r.thresholdType,
    used: credits(r.usedMicro),
    limit: credits(r.limitMicro),
    period: { start: new Date(r.periodStart).toISOString(), end: new Date(r.periodEnd).toISOString() },
    createdAt: new Date(r.createdAt).toISOString(),
  });
}
