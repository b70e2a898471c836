// What the dashboard reads beyond /admin/usage's rows: an account's history buckets and receipts
// (issue 22's ledger API), behind one small interface so the pages do not know the ledger's shape.
// Absent (a ledger without history): the pages show the numbers they have and say so.

import type { UsageBucket } from './charts.js';

export interface ReceiptView {
  requestId: string;
  /** ms */
  time: number;
  provider: string | null;
  model: string | null;
  modality: string;
  units: Record<string, number>;
  micro: number;
  outcome: string;
  byok: boolean;
  keyId: string | null;
}

export interface UsageExtras {
  /** µcr per day over the last 7 days. */
  burnRateMicroPerDay: number | null;
  /** ms; null when nothing is burning or the period ends first. */
  projectedExhaustion: number | null;
  /** ms of the account's last request, when known. */
  lastRequest: number | null;
}

export interface HistorySource {
  /** UTC slots: hours, or UTC days. Buckets with no usage may be left out. */
  buckets(accountId: string, q: { from: number; to: number; granularity: 'hour' | 'day' }): Promise<UsageBucket[]>;
  /** The same CSV as GET /v1/usage/history?format=csv&granularity=day&groupBy=modality,model (the account's zone). */
  historyCsv(accountId: string, q: { from: number; to: number }): Promise<string>;
  /** Newest first. */
  receipts(accountId: string, limit: number): Promise<ReceiptView[]>;
  extras(accountId: string): Promise<UsageExtras>;
}

/** One threshold an account's current period fired (ledger.firedAlerts). */
export interface FiredAlertView {
  accountId: string;
  type: string;
  thresholdType: 'percent' | 'remainingCredits' | 'spendLimit';
  /** Percent, or µcr (remainingCredits, spendLimit); null when not recorded. */
  threshold: number | null;
  state: 'waiting' | 'delivered';
  /** ms; null when not recorded. */
  firedAt: number | null;
}

export interface AlertSource {
  /** What each account's current period fired: in the accounts' order, then the order they fired. */
  firedThisPeriod(accountIds: string[]): Promise<FiredAlertView[]>;
}
