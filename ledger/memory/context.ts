// What the in-memory ledger's parts share: the accounts' entries (each the Redis hashes of one
// account, in one object), the tier table, the clock and the key-revocation listeners.
//
// Every operation runs synchronously between awaits, so each is atomic, like a Lua script.

import type { Logger } from 'pino';
import type { Modality } from '../../pricing/types.js';
import { DEFAULT_IDEMPOTENCY_TTL_MS, HISTORY_LENGTH, newState, type PeriodState, type TierParams } from '../account-state.js';
import type { AlertRecord } from '../alert-rules.js';
import type { FiringMark } from '../alert-fired.js';
import type { Receipt } from '../usage-history.js';
import { createLedgerError } from '../errors.js';
import { checkAccountId, tierTable } from '../inputs.js';
import type { Account, Clock, OverageBatch, PeriodSummary } from '../types.js';
import type { MemoryLedgerOptions } from './options.js';

/** One usage history bucket (ledger/usage-history.ts) and its expiry (ms). */
export type Bucket = { fields: Map<string, number>; expires: number };

export interface Entry {
  account: Account;
  st: PeriodState;
  /** Open reservations: requestId -> held µcr, expiry, and the floor charged if it expires. */
  resv: Map<string, { amount: number; expires: number; floor: number; modality: Modality }>;
  /**
   * Idempotency markers, oldest first: R(eserved), S(ettled), or X: its reservation expired and
   * was charged `charged` (a late settle adds only what it cost beyond).
   */
  markers: Map<string, { kind: 'R' | 'S' | 'X'; expires: number; charged?: number }>;
  history: PeriodSummary[];
  keys: Set<string>;
  secrets: Map<string, string>;
  outbox: OverageBatch | null;
  lease: { owner: string; expires: number } | null;
  /** Usage history buckets by id (ledger/usage-history.ts), each with its expiry (ms). */
  hours: Map<string, Bucket>;
  days: Map<string, Bucket>;
  /** Receipts, oldest first, capped. */
  receipts: Receipt[];
  /** When expired buckets were last dropped (ms). */
  swept: number;
  /** lib/alerts.lua's key: the tokens the period `ps` recorded, and the events waiting (by `ps:token`). */
  alerts: { ps: number; fired: Set<string>; waiting: Map<string, AlertRecord>; marks: Map<string, FiringMark> };
  alertLease: { owner: string; expires: number } | null;
}

export function newEntry(account: Account, now: number): Entry {
  return {
    account,
    st: newState(now),
    resv: new Map(),
    markers: new Map(),
    history: [],
    keys: new Set(),
    secrets: new Map(),
    outbox: null,
    lease: null,
    hours: new Map(),
    days: new Map(),
    receipts: [],
    swept: now,
    alerts: { ps: Number.NEGATIVE_INFINITY, fired: new Set(), waiting: new Map(), marks: new Map() },
    alertLease: null,
  };
}

export interface MemoryContext {
  clock: Clock;
  logger: Logger;
  idemTtl: number;
  accounts: Map<string, Entry>;
  /** Accounts that may owe overage (the flusher's pending set, as the Redis outbox index). */
  pending: Set<string>;
  /** Key-revocation listeners (onKeyRevoked); cleared on close. */
  listeners: Set<(keyHash: string) => void>;
  tierOf(e: Entry): TierParams;
  /** The account's entry, or undefined; a malformed id is refused. */
  entry(id: string): Entry | undefined;
  /** The account's entry; `unknown_account` when there is none. */
  required(id: string): Entry;
  /** Where a period closed by a rollover goes: the account's history, newest first, capped. */
  closePeriod(e: Entry, p: PeriodSummary): void;
  /** Tells every listener, each in its own microtask, that a key was revoked. */
  notifyRevoked(hash: string): void;
}

export function createMemoryContext(opts: MemoryLedgerOptions): MemoryContext {
  const logger = opts.logger.child({ component: 'memory-ledger' });
  const tiers = tierTable(opts.pricing);
  const accounts = new Map<string, Entry>();
  const listeners = new Set<(keyHash: string) => void>();
  const entry = (id: string): Entry | undefined => {
    checkAccountId(id);
    return accounts.get(id);
  };
  return {
    clock: opts.clock,
    logger,
    idemTtl: opts.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS,
    accounts,
    pending: new Set(),
    listeners,
    tierOf: (e) => tiers[e.account.tier] ?? tiers.free,
    entry,
    required(id) {
      const e = entry(id);
      if (!e) throw createLedgerError('unknown_account', `no account ${id}`);
      return e;
    },
    closePeriod(e, p) {
      e.history.unshift(p);
      if (e.history.length > HISTORY_LENGTH) e.history.length = HISTORY_LENGTH;
    },
    notifyRevoked(hash) {
      for (const l of listeners) {
        queueMicrotask(() => {
          try {
            l(hash);
          } catch (err) {
            logger.error({ err }, 'key revocation listener failed');
          }
        });
      }
    },
  };
}
