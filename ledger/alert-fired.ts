// What an account's current period has fired (GET /admin/accounts/:id/alerts, the dashboard):
// each recorded threshold with its type, threshold, and whether the deliverer has sent it yet.
// Both ledgers build the same answer from the same three things lib/alerts.lua keeps: the
// period's `fired` tokens, the events still waiting (`e:<ps>:<token>`), and each token's last
// firing (`f:<token>` = "createdAt|threshold|periodStart|periodEnd", written beside the event).

import { byRecordOrder, kindRank, samePeriod, type AlertRecord, type AlertType, type ThresholdType } from './alert-rules.js';

/** One threshold the period has recorded. */
export interface FiredAlert {
  /** p<percent>, r<µcr>, exhausted, overage, spend (alert-rules.ts). */
  token: string;
  type: AlertType;
  thresholdType: ThresholdType;
  /** Percent, or µcr (remainingCredits, spendLimit); null: a spend alert recorded before firing times were kept. */
  threshold: number | null;
  /** waiting: still in the outbox; delivered: the receiver answered 2xx (the event left the outbox). */
  state: 'waiting' | 'delivered';
  /** When the debit recorded it (ms); null: recorded before firing times were kept. */
  firedAt: number | null;
  /** The period start its event carries (its webhook id's): the list's, unless a Stripe period moved it (samePeriod). */
  periodStart: number;
}

export interface FiredAlerts {
  /** Start of the period the list belongs to (ms); null when nothing fired this period. */
  periodStart: number | null;
  /** In the order they fired (then level order within one debit). */
  alerts: FiredAlert[];
}

/** A token's last firing as lib/alerts.lua keeps it (`f:<token>`). */
export interface FiringMark {
  firedAt: number;
  threshold: number;
  periodStart: number;
  periodEnd: number;
}

export function parseFiringMark(v: string | undefined): FiringMark | undefined {
  if (!v) return undefined;
  const n = v.split('|').map(Number);
  if (n.length !== 4 || !n.every(Number.isFinite)) return undefined;
  const [firedAt, threshold, periodStart, periodEnd] = n as [number, number, number, number];
  return { firedAt, threshold, periodStart, periodEnd };
}

/** The kind a token names (alertLevels()): the type and threshold recorded with it. */
function kindOf(token: string): { type: AlertType; thresholdType: ThresholdType; threshold: number | null } | null {
  if (token === 'exhausted') return { type: 'credits.exhausted', thresholdType: 'percent', threshold: 100 };
  if (token === 'overage') return { type: 'overage.started', thresholdType: 'percent', threshold: 100 };
  if (token === 'spend') return { type: 'spend_limit.reached', thresholdType: 'spendLimit', threshold: null };
  const m = /^([pr])(\d+)$/.exec(token);
  if (!m) return null;
  return { type: 'credits.threshold_crossed', thresholdType: m[1] === 'p' ? 'percent' : 'remainingCredits', threshold: Number(m[2]) };
}

/** Within one debit: percents up, remaining levels down (the order their levels are reached), then the rest. */
function levelOrder(a: FiredAlert, b: FiredAlert): number {
  const r = kindRank(a.token) - kindRank(b.token);
  if (r !== 0) return r;
  const d = (a.threshold ?? 0) - (b.threshold ?? 0);
  return a.thresholdType === 'remainingCredits' ? -d : d;
}

/**
 * The list: `firedPs`/`tokens` the period's `fired`, `waiting` every event in the outbox,
 * `marks` each token's last firing. A list whose period has ended by `now` (no debit since
 * re-armed it) is an earlier period's: nothing fired this period yet.
 */
export function firedList(input: { firedPs: number | null; tokens: Iterable<string>; waiting: AlertRecord[]; marks: (token: string) => FiringMark | undefined }, now: number): FiredAlerts {
  const { firedPs } = input;
  if (firedPs === null) return { periodStart: null, alerts: [] };
  const waiting = new Map<string, AlertRecord>();
  for (const r of [...input.waiting].sort(byRecordOrder)) if (samePeriod(r.periodStart, firedPs)) waiting.set(r.token, r);
  const out: FiredAlert[] = [];
  let periodEnd: number | null = null;
  for (const token of input.tokens) {
    const kind = kindOf(token);
    if (!kind) continue;
    const w = waiting.get(token);
    const mark = input.marks(token);
    periodEnd = w?.periodEnd ?? mark?.periodEnd ?? periodEnd;
    out.push({
      token,
      type: w?.type ?? kind.type,
      thresholdType: w?.thresholdType ?? kind.thresholdType,
      threshold: w?.threshold ?? mark?.threshold ?? kind.threshold,
      state: w ? 'waiting' : 'delivered',
      firedAt: w?.createdAt ?? mark?.firedAt ?? null,
      periodStart: w?.periodStart ?? (mark && samePeriod(mark.periodStart, firedPs) ? mark.periodStart : firedPs),
    });
  }
  if (periodEnd !== null && now >= periodEnd) return { periodStart: null, alerts: [] };
  out.sort((a, b) => (a.firedAt ?? Number.MAX_SAFE_INTEGER) - (b.firedAt ?? Number.MAX_SAFE_INTEGER) || levelOrder(a, b));
  return { periodStart: out.length > 0 ? firedPs : null, alerts: out };
}
