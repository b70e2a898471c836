// Types of the ledger domain: accounts, keys, reservations, settlements, usage, the flusher's sink.
// Every amount is an integer in micro-credits (µcr); every time is milliseconds since the epoch
// unless a name says otherwise.

import type { Modality, TierId } from '../pricing/types.js';
import type { FiredAlerts } from './alert-fired.js';
import type { AlertRecord } from './alert-rules.js';
import type { HistoryBucket, Receipt } from './usage-history.js';

/** Injectable time source, so tests can cross period boundaries. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

export type AccountStatus = 'active' | 'trialing' | 'past_due' | 'canceled' | 'unpaid' | 'incomplete';

export interface Account {
  id: string;
  tier: TierId;
  status: AccountStatus;
  stripeCustomerId?: string;
  stripeSubscriptionId?: string;
  /** Per-account spend limit on overage, in µcr; absent or null: no cap. */
  overageCapMicro?: number | null;
  createdAt: number;
  /** 'config': a static account of the config file, reconciled at every start; absent: created through the admin API. */
  origin?: 'config';
  /** Suspended by the operator: its keys are refused (403 account_suspended) until resumed. */
  suspended?: boolean;
  /** Deleted by the operator (ms): its keys are revoked; its usage and history stay readable. */
  deletedAt?: number;
  /** IANA time zone of the account's daily usage history; absent: UTC. */
  timeZone?: string;
  /** The account's own alert thresholds (absent: the config's `alerts` lists). */
  alerts?: AccountAlerts;
}

/** An account's own alert lists; each given list replaces the config's list of its kind. */
export interface AccountAlerts {
  /** Percents of the period's limit (included + carryover), integers 1..1000. */
  percent?: number[];
  /** Remaining-credit levels in µcr: fires when remaining falls to it or below. */
  remainingMicro?: number[];
}

export interface AccountPatch {
  tier?: TierId;
  status?: AccountStatus;
  stripeCustomerId?: string | null;
  stripeSubscriptionId?: string | null;
  overageCapMicro?: number | null;
  /** The subscription's current period from Stripe; from then on periods follow it. */
  period?: { start: number; end: number };
  origin?: 'config' | null;
  /** A change is published like a revocation: every replica's key cache forgets the account's keys. */
  suspended?: boolean;
  deletedAt?: number | null;
  /** IANA time zone of the daily history from now on (null: UTC); days already written stay. */
  timeZone?: string | null;
  /** The account's own alert thresholds; null: back to the config's. */
  alerts?: AccountAlerts | null;
}

/** What a key resolves to: its account, its public id, and whether the account is suspended. */
export interface KeyOwner {
  accountId: string;
  keyId: string;
  /** The account's tier when resolved (a metrics label; may lag a change by the cache's lifetime). */
  tier?: TierId;
  suspended?: boolean;
}

export interface ApiKeyInfo {
  /** Public, non-secret id of the key (first 12 hex chars of its hash), for listing and revoking. */
  id: string;
  accountId: string;
  createdAt: number;
  revokedAt?: number;
  label?: string;
}

export interface ReserveInput {
  accountId: string;
  /** Unique per request; reserve and settle are idempotent by it. */
  requestId: string;
  /** The estimate to hold, in µcr (0 allowed). */
  microCredits: number;
  /** A reservation not settled within this time is released by later operations (crash safety). */
  ttlMs: number;
  /**
   * What an expired reservation (its process died before the settle) is charged, in µcr, at
   * most `microCredits`: the documented estimate of what the provider was surely sent
   * (docs/reliability.md, "Crashes"). Absent or 0: released at no charge.
   */
  floorMicro?: number;
  /** The modality the floor is charged to; required with a floor. */
  modality?: Modality;
}

export type ReserveResult =
  | {
      ok: true;
      /**
       * Admitted without waiting on Redis: the account's tier has no hard cap and the account no
       * spend limit, so nothing could refuse it. Its reservation record goes to Redis beside
       * the next batch of settles, unanswered (so an expiry still charges its floor).
       */
      local?: true;
      /**
       * Nothing bounds the account's spending (a paid tier, no spend limit): its requests are
       * forwarded as the client wrote them. Absent: the account is capped (a hard-capped tier
       * or a spend limit), and the proxy writes the output bound it reserved for into the
       * request (issue 18). `local` implies it.
       */
      open?: true;
    }
  | {
      ok: false;
      /** insufficient_credits: Free hard cap; overage_cap: the operator's spend limit. */
      reason: 'insufficient_credits' | 'overage_cap' | 'unknown_account';
      usedMicro: number;
      limitMicro: number;
    };

/** Units metered for one request, recorded beside the credits (and in logs). */
export interface UsageUnits {
  chars?: number;
  /** Audio milliseconds. */
  audioMs?: number;
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  queries?: number;
}

export type Outcome = 'ok' | 'upstream_error' | 'timeout' | 'aborted';

export interface SettleInput {
  accountId: string;
  requestId: string;
  modality: Modality;
  provider: string;
  /** BYOK: zero credits, counts in requestCount and under `byok`. */
  byok: boolean;
  /** The actual cost in µcr: 0 for BYOK and for requests the provider failed. */
  microCredits: number;
  /** The units metered (BYOK too): recorded in the usage history and the receipt. */
  units: UsageUnits;
  outcome: Outcome;
  /**
   * Requests this settle adds to `requestCount` (and `byok.requestCount`): 1 when absent. A
   * realtime session is one request: its interim settles and spare releases count 0, its final 1.
   */
  requests?: 0 | 1;
  /** The normalised model (the price table's name); absent: recorded as `unknown`. */
  model?: string;
  /** The customer key's public id, for the receipt. */
  keyId?: string;
  /**
   * The request's receipt (GET /v1/usage/events). Absent: one receipt with this settle's own
   * figures. false: none (a realtime session's interim settle). An object: a realtime session's
   * final settle, whose receipt is the whole session (`requestId` the session's,
   * `priorMicro` what its earlier settles charged, `units` its totals).
   */
  receipt?: false | { requestId: string; priorMicro: number; units: UsageUnits };
}

export interface SettleResult {
  /** false when this requestId had already been settled: nothing was applied twice. */
  applied: boolean;
  /**
   * µcr not charged because the account is capped: a hard-capped tier's `used` never passes
   * its limit, a spend-limited account's never passes limit + spend limit. Absent when 0.
   */
  writtenOffMicro?: number;
  /** Redis was unreachable: the settle waits in the local journal, replayed when it returns. */
  journaled?: true;
}

export interface CarryoverBucket {
  /** Start of the period whose unused included credits these are. */
  fromPeriodStart: number;
  /** µcr still available. */
  remainingMicro: number;
  /** When the bucket expires (the end of the last period it may be spent in). */
  expiresAt: number;
}

export interface UsageSnapshot {
  accountId: string;
  tier: TierId;
  period: { start: number; end: number };
  /** The tier's included credits for this period. */
  includedMicro: number;
  /** Carryover available at the start of this period (sum of live buckets). */
  carryoverMicro: number;
  /** included + carryover. */
  limitMicro: number;
  /** Spent this period (including overage). */
  usedMicro: number;
  /** max(0, limit - used). */
  remainingMicro: number;
  /** Held by open reservations. */
  reservedMicro: number;
  /** used past the limit (paid tiers). */
  overageMicro: number;
  breakdownMicro: Record<Modality, number>;
  /** Every request settled this period, metered or BYOK. */
  requestCount: number;
  byok: { requestCount: number; units: Record<Modality, UsageUnits> };
  carryover: CarryoverBucket[];
  /** When the account's last request settled (ms), any period; absent: never. */
  lastRequestAt?: number;
}

/** openSession's answer: admitted or not, and how many sessions the account has open. */
export interface SessionSlot {
  ok: boolean;
  open: number;
}

/** Which buckets of an account's usage history to read (ledger/usage-history.ts ids). */
export type HistoryKind = 'hour' | 'day';

export interface Ledger {
  readonly kind: 'redis' | 'memory';

  // Accounts
  /** Create the account if missing (static accounts from config); an existing one is returned unchanged. */
  ensureAccount(input: { id: string; tier: TierId; stripeCustomerId?: string }): Promise<Account>;
  getAccount(id: string): Promise<Account | null>;
  listAccounts(): Promise<Account[]>;
  updateAccount(id: string, patch: AccountPatch): Promise<Account>;
  findAccountByStripeCustomer(customerId: string): Promise<Account | null>;

  // Keys: only SHA-256 hashes (hex) are ever stored.
  addKey(accountId: string, keyHash: string, label?: string): Promise<ApiKeyInfo>;
  /** Revoke by key id or by full hash; true if a live key was revoked. Publishes the revocation. */
  revokeKey(idOrHash: string): Promise<boolean>;
  listKeys(accountId: string): Promise<ApiKeyInfo[]>;
  /** One key by id or full hash (revoked or not), or null. */
  getKey(idOrHash: string): Promise<ApiKeyInfo | null>;
  /** The account a key hash belongs to, or null if unknown or revoked. */
  resolveKey(keyHash: string): Promise<KeyOwner | null>;
  /** Called with the key hash whenever any process revokes a key. Returns an unsubscribe function. */
  onKeyRevoked(listener: (keyHash: string) => void): () => void;
  /**
   * Called when revocation messages may have been missed (the pub/sub connection closed): a
   * cache of keys should forget them all. Backends without pub/sub lack it.
   */
  onMessagesLost?(listener: () => void): () => void;

  // Metering
  reserve(input: ReserveInput): Promise<ReserveResult>;
  settle(input: SettleInput): Promise<SettleResult>;
  usage(accountId: string): Promise<UsageSnapshot>;

  // Usage history (ledger/usage-history.ts), written by the same call that charges.
  /** The buckets of these ids, in order: hourly (UTC YYYYMMDDHH) or daily (YYYYMMDD, the account's zone); null where none. */
  historyBuckets(accountId: string, kind: HistoryKind, ids: string[]): Promise<(HistoryBucket | null)[]>;
  /** The account's most recent receipts, newest first; `cursor`: the previous page's `next`. */
  receipts(accountId: string, q: { limit: number; cursor?: string }): Promise<{ receipts: Receipt[]; next: string | null }>;

  // Open realtime sessions per account (the cap across replicas): each a lease that its process
  // renews while the session runs and removes when it ends; a dead process's lapse.
  /**
   * Admits `sessionId` if fewer than `cap` unexpired sessions are open, with a lease of
   * `leaseMs`. `open`: the account's open sessions after the call (with this one when `ok`).
   * Opening an id already open renews it.
   */
  openSession(accountId: string, sessionId: string, cap: number, leaseMs: number): Promise<SessionSlot>;
  /** Extends the leases of these sessions to now + `leaseMs` (one call per account per sweep). */
  renewSessions(accountId: string, sessionIds: string[], leaseMs: number): Promise<void>;
  /** The session ended: its slot is free now. Closing an id not open does nothing. */
  closeSession(accountId: string, sessionId: string): Promise<void>;

  // Threshold alerts (ledger/alert-fired.ts): the ones the current period recorded, delivered or waiting.
  /** Empty (periodStart null) when nothing fired this period, or the account is unknown. On Redis: one read of the account's alert key. */
  firedAlerts(accountId: string): Promise<FiredAlerts>;

  // Opaque per-account blobs (stored BYOK keys, already encrypted by the caller).
  putSecret(accountId: string, name: string, sealed: string): Promise<void>;
  getSecret(accountId: string, name: string): Promise<string | null>;
  deleteSecret(accountId: string, name: string): Promise<boolean>;
  listSecrets(accountId: string): Promise<string[]>;

  /** The audit log of operator and customer actions (bounded, per account and global). */
  readonly audit: AuditLog;

  ping(): Promise<boolean>;
  /**
   * Whether the ledger may serve (Redis: false while reconnecting, or when it came back empty),
   * why not, and how many settles wait in the local journal. Backends without these lack it.
   */
  health?(): { ready: boolean; reason?: string; journaled: number };
  close(): Promise<void>;
}

/** One recorded change: who did what to which account, with the state before and after. */
export interface AuditEntry {
  /** Monotonic id, usable as a cursor (Redis stream id `ms-seq`). */
  id: string;
  /** ms since the epoch. */
  at: number;
  /** `admin:<token id>`, `key:<key id>`, `stripe:<event id>` or `config`. */
  actor: string;
  /** e.g. account.created, account.tier_changed, key.issued, key.revoked, byok.stored. */
  action: string;
  accountId: string;
  before?: unknown;
  after?: unknown;
}

export interface AuditQuery {
  accountId?: string;
  /** Entries older than this id (the previous page's `next`). */
  cursor?: string;
  limit: number;
}

export interface AuditLog {
  append(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<AuditEntry>;
  /** Newest first. `next`: the cursor of the following page, when there may be one. */
  read(q: AuditQuery): Promise<{ entries: AuditEntry[]; next: string | null }>;
}

/** One whole-credit overage report to Stripe (Billing Meter event). */
export interface MeterEvent {
  /** Deterministic per batch: both the meter event `identifier` and the `Idempotency-Key`. */
  identifier: string;
  stripeCustomerId: string;
  /** Whole credits, > 0. */
  value: number;
  /** Unix seconds, inside Stripe's window (past 35 days, at most 5 minutes ahead). */
  timestamp: number;
}

/** Where the flusher sends overage; billing/ implements it on Stripe. */
export interface MeterEventSink {
  /**
   * 'delivered' when Stripe accepted it; 'duplicate' when Stripe already had the identifier
   * (400 "already exists"): both mean delivered. Throws a RetryableSinkError for 5xx, 429 and
   * network errors, any other error for permanent failures.
   */
  send(event: MeterEvent): Promise<'delivered' | 'duplicate'>;
  /** The Stripe customer of an account, created on demand when it has none. */
  customerFor(account: Account): Promise<string>;
}

export class RetryableSinkError extends Error {
  override name = 'RetryableSinkError';
}

// ---------------------------------------------------------------------------------------------
// Additions beyond the original contract: the flusher's narrow view of a ledger, and history.

/** A closed period, kept (bounded) for reporting. */
export interface PeriodSummary {
  start: number;
  end: number;
  tier: TierId;
  includedMicro: number;
  carryoverMicro: number;
  usedMicro: number;
  requestCount: number;
  /** Overage accrued in the period (paid tiers). */
  overageMicro: number;
  /** Included credits left unused at the end (what could carry). */
  unusedIncludedMicro: number;
}

/** One whole-credit batch of overage waiting in an account's outbox. */
export interface OverageBatch {
  accountId: string;
  /** `tg_<account>_<periodStartSeconds>_<seq>`: the meter event identifier and Idempotency-Key. */
  identifier: string;
  stripeCustomerId: string;
  /** Whole credits, > 0. */
  value: number;
  /** Unix seconds. */
  timestamp: number;
  /** Start of the period the overage belongs to (ms). */
  periodStart: number;
}

export type PrepareResult =
  | { kind: 'batch'; batch: OverageBatch }
  /** Whole credits are pending but no customer was given: resolve one and call again. */
  | { kind: 'needs_customer' }
  /** Less than one whole credit pending (the remainder stays for later). */
  | { kind: 'none'; remainderMicro: number };

/**
 * What the flusher needs of a ledger: an outbox of at most one batch per account. Both
 * backends implement it (`ledger.outbox`). Every method is atomic on its own.
 */
export interface OverageOutbox {
  /** Accounts that may have overage to report; `full` lists every account (a sweep). */
  pendingAccounts(full: boolean): Promise<string[]>;
  /** Take a per-account lease so one flusher at a time works on an account. */
  lease(accountId: string, owner: string, ttlMs: number): Promise<boolean>;
  release(accountId: string, owner: string): Promise<void>;
  /**
   * The batch already in the outbox (a crashed or failed send: same identifier), else a new
   * one moved atomically out of pending overage. Rolls the period over first if it ended.
   * `stripeCustomerId` null: the account's stored customer, else 'needs_customer'.
   */
  prepare(accountId: string, stripeCustomerId: string | null, now: number): Promise<PrepareResult>;
  /** Remove the batch from the outbox if it is still `identifier`; true if it was. */
  commit(accountId: string, identifier: string): Promise<boolean>;
  /** Drop the account from the pending set unless it still has something to report. */
  markClean(accountId: string): Promise<void>;
  /** Total overage reported to the sink for this account, µcr (whole credits only). */
  reportedMicro(accountId: string): Promise<number>;
}

/**
 * The alert deliverer's view of a ledger (ledger/alert-deliverer.ts): per-account outboxes of
 * the events the debits recorded (ledger/alert-rules.ts). Both backends implement it
 * (`ledger.alerts`); every method is atomic on its own.
 */
export interface AlertOutbox {
  /** Accounts that may have events waiting; `full` lists every account (the backstop sweep). */
  pendingAccounts(full: boolean): Promise<string[]>;
  /** One deliverer at a time per account (a lease of its own, beside the flusher's). */
  lease(accountId: string, owner: string, ttlMs: number): Promise<boolean>;
  release(accountId: string, owner: string): Promise<void>;
  /** The account's waiting events, in the order they were recorded. */
  waiting(accountId: string): Promise<AlertRecord[]>;
  /** Delivered (the receiver answered 2xx): remove it; false if it was gone already. */
  delivered(accountId: string, periodStart: number, token: string): Promise<boolean>;
  /** Drop the account from the pending index unless events still wait. */
  markClean(accountId: string): Promise<void>;
}
