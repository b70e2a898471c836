// The Redis ledger's options and public type.

import type { ClusterTarget, RedisClient, SentinelTarget } from './connection.js';
import type { Logger } from 'pino';
import type { Pricing } from '../../pricing/types.js';
import type { Clock, Ledger, OverageOutbox, PeriodSummary } from '../types.js';
import type { HistoryOptions } from '../usage-history.js';

export interface RedisLedgerOptions {
  /** One Redis (used when neither `redis`, `cluster` nor `sentinel` is given). */
  url?: string;
  /** A Redis Cluster, by its seed nodes (connection.ts). */
  cluster?: ClusterTarget;
  /** A master found through Sentinel (connection.ts). */
  sentinel?: SentinelTarget;
  /** A client to use (not closed by close()); a duplicate of it subscribes to revocations. */
  redis?: RedisClient;
  /** Prefix of every key and channel; default `tg`. */
  keyPrefix?: string;
  pricing: Pricing;
  clock: Clock;
  logger: Logger;
  /**
   * How long a request id is remembered at least (settling twice applies once; markers live
   * between this and twice this); default 1 h. Reservation ttls may be up to this less 60 s.
   */
  idempotencyTtlMs?: number;
  /** Per-command timeout: a hung Redis makes calls reject, not wait; default 1,000 ms. */
  commandTimeoutMs?: number;
  /** Connect timeout; default 1,000 ms. */
  connectTimeoutMs?: number;
  /**
   * How long a settle may wait for the next reserve batch to ride along with, in ms; default
   * 1. Settles are off every request's path (the client has its answer), so under load they
   * join the next turn's reserves in one Redis write instead of a write of their own; 0 sends
   * them at the end of their own turn.
   */
  settleDelayMs?: number;
  /**
   * The same for the settles of an account admitted locally (a paid tier with no spend limit),
   * in ms; default 5. Such an account holds nothing in Redis that a settle would release, and
   * no reserve can refuse it, so its settles only record usage: waiting longer gathers more of
   * them into one script call (with 2 workers at 32 connections in the bench, 1 ms -> 5 ms
   * measured +3% throughput). Its usage reads lag by up to this much.
   */
  openSettleDelayMs?: number;
  /**
   * How long an account's terms (tier, spend limit) are trusted for local admission without a
   * change message, in ms; default 10,000. 0: every reserve goes to Redis.
   */
  termsTtlMs?: number;
  /**
   * Where settles that cannot reach Redis wait to be replayed (ledger/journal.ts); none: such a
   * settle rejects with ledger_unavailable, as before.
   */
  journal?: { dir: string; maxBytes: number };
  /**
   * Check the ledger's epoch (ledger/epoch.ts) at start, on every reconnect and every `checkMs`
   * (default 5,000): a Redis that came back empty makes every call refuse (503) until an
   * operator adopts it. `file`: where the epoch is remembered across restarts.
   */
  epoch?: { checkMs?: number; file?: string };
  /** Usage history retention and receipts kept per account (ledger/usage-history.ts). */
  history?: HistoryOptions;
}

export interface RedisLedger extends Ledger {
  readonly kind: 'redis';
  /** The flusher's view (see createFlusher). */
  readonly outbox: OverageOutbox;
  /** Closed periods, newest first (bounded). */
  history(accountId: string): Promise<PeriodSummary[]>;
  /** Called with the account id whenever any process changes an account's tier or spend limit. */
  onAccountChanged(listener: (accountId: string) => void): () => void;
  /** Replays the journal now (also done on every reconnect and epoch check); resolves with the count settled. */
  replayJournal(): Promise<number>;
}
