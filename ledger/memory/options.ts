// The in-memory ledger's options and public type.

import type { Logger } from 'pino';
import type { Pricing } from '../../pricing/types.js';
import type { AlertRules } from '../alert-rules.js';
import type { HistoryOptions } from '../usage-history.js';
import type { AlertOutbox, Clock, Ledger, OverageOutbox, PeriodSummary } from '../types.js';

export interface MemoryLedgerOptions {
  pricing: Pricing;
  clock: Clock;
  logger: Logger;
  /** How long a settled request id is remembered; default 1 h. */
  idempotencyTtlMs?: number;
  /** Usage history retention and receipts kept per account (ledger/usage-history.ts). */
  history?: HistoryOptions;
  /** Threshold alerts recorded at debit time (config `alerts`); absent: none are recorded. */
  alerts?: AlertRules;
}

export interface MemoryLedger extends Ledger {
  readonly kind: 'memory';
  readonly outbox: OverageOutbox;
  readonly alerts: AlertOutbox;
  history(accountId: string): Promise<PeriodSummary[]>;
}
