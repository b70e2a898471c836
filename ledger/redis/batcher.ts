// Where a batch is sent: the request path's reserves and settles, gathered per account per
// event-loop turn into one script call each (ledger/scripts/reserve.lua, settle.lua).
//
// The reserves (and the settles) one account asks for in one event-loop turn go to Redis as
// one script call, flushed after the turn's I/O callbacks (setImmediate), with every account's
// calls in one write (the socket corked). A script call's fixed cost, in ioredis and in Redis,
// is paid once per account per turn, and the account's keys and the turn's constants are sent
// once. The scripts decide each entry in order, as if it had been its own call. Settles wait
// up to their delay for a turn with reserves and go in its write, first: under load most turns
// hold only one kind, and a write to Redis (a syscall that wakes the other CPU) costs more than
// the script call (Redis reads per request at 32 connections in the bench: 0.148 -> 0.128).

import type { RedisClient } from './connection.js';
import type { Logger } from 'pino';
import { UNIT_FIELDS } from '../account-state.js';
import { createLedgerError, toLedgerError } from '../errors.js';
import type { AbandonedReserve } from '../journal.js';
import type { Clock, ReserveInput, SettleInput } from '../types.js';
import type { KeyLayout } from './keys.js';
import { directScript } from './scripts.js';
import type { Zones } from './zones.js';
import { settleReceipt } from './history.js';

/** Entries per script call at most: bounds how long one call holds Redis (single-threaded). */
const MAX_BATCH = 128;
/** Local admission stops while a ledger script call has gone this long without any answering (ms). */
const STALL_MS = 250;

/** reserve.lua's row: code, used, limit, open (the first row: then 1 when the call recorded an alert). */
export type ReserveReply = [number, number, number, number, number?];
/** settle.lua's row: applied, accrued, written off (the first row: then 1 when the call recorded an alert). */
export type SettleReply = [number, number, number, number?];
/** The column of a batch's first row that says the call recorded an alert (lib/alerts.lua's alerts_flag). */
const RESERVE_ALERTED = 4;
const SETTLE_ALERTED = 3;
/** A locally admitted request's reservation, sent in the settle batches (settle.lua's 'r' entries). */
export interface HoldRecord {
  record: true;
  requestId: string;
  modality: string;
  microCredits: number;
  floorMicro: number;
  expiresAt: number;
}

/** What settle.lua takes: settles, locally admitted requests' holds ('r'), releases of abandoned reserves ('c'). */
export type SettleEntry = SettleInput | HoldRecord | AbandonedReserve;

export interface Batcher {
  /** Queues a reserve for the end of this turn. */
  reserve(accountId: string, input: ReserveInput): Promise<ReserveReply>;
  /** Queues a settle (a hold record, a release of an abandoned reserve) to go within `delayMs` (0: the end of this turn). */
  settle(accountId: string, input: SettleEntry, delayMs: number): Promise<SettleReply>;
  /** True while script calls answer (no transport failure, none unanswered for STALL_MS). */
  healthy(): boolean;
  /** Sends what waits now (on close). */
  flushNow(): void;
}

export interface BatcherOptions {
  client: RedisClient;
  keys: KeyLayout;
  clock: Clock;
  logger: Logger;
  idemTtl: number;
  tierArg: string;
  /** The scripts' usage history settings (ledger/usage-history.ts historyArg). */
  histArg: string;
  /** false (history.enabled false, or history.receiptsPerAccount 0): no receipt built or sent. */
  receipts: boolean;
  zones: Zones;
  /** A script call recorded a threshold alert for the account (its SADD to the pending index). */
  onAlerted?(accountId: string): void;
}

interface Waiter<I, R> {
  input: I;
  resolve(r: R): void;
  reject(err: unknown): void;
}

export function createBatcher({ client, keys, clock, logger, idemTtl, tierArg, histArg, receipts, zones, onAlerted }: BatcherOptions): Batcher {
  const reserveScript = directScript(client, 'reserve');
  const settleScript = directScript(client, 'settle');
  const reserveQueue = new Map<string, Array<Waiter<ReserveInput, ReserveReply>>>();
  const settleQueue = new Map<string, Array<Waiter<SettleEntry, SettleReply>>>();
  let scriptsOut = 0;
  let progressAt = 0;
  let scriptsFailing = false;
  let flushScheduled = false;
  /** Settles waiting for a reserve batch to ride with, or for this timer, due at settleDue. */
  let settleTimer: NodeJS.Timeout | undefined;
  let settleDue = 0;
  const flushSettles = () => {
    settleTimer = undefined;
    flushBatches();
  };
  /** The settles waiting go within `delay` ms at the latest (the soonest of their delays). */
  const settleWithin = (delay: number) => {
    const due = performance.now() + delay;
    if (settleTimer) {
      if (due >= settleDue) return;
      clearTimeout(settleTimer);
    }
    settleDue = due;
    settleTimer = setTimeout(flushSettles, delay);
  };
  const ttlArg = new Map<number, string>();
  const idemArg = String(idemTtl);

  /** Queues a call for the next flush: at the end of this turn, or within `delayMs` (> 0). */
  function enqueue<I, R>(queue: Map<string, Array<Waiter<I, R>>>, accountId: string, input: I, delayMs: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let q = queue.get(accountId);
      if (!q) queue.set(accountId, (q = []));
      q.push({ input, resolve, reject });
      if (flushScheduled) return;
      if (delayMs > 0) settleWithin(delayMs);
      else {
        flushScheduled = true;
        setImmediate(flushBatches);
      }
    });
  }

  function flushBatches(): void {
    flushScheduled = false;
    if (settleTimer) {
      clearTimeout(settleTimer);
      settleTimer = undefined;
    }
    const stream = client.status === 'ready' ? (client as unknown as { stream?: { cork(): void; uncork(): void; writable?: boolean } }).stream : undefined;
    const cork = stream && stream.writable !== false ? stream : undefined;
    cork?.cork();
    try {
      // Settles first: what they release is there for the reserves of the same turn.
      for (const [accountId, q] of settleQueue) for (let i = 0; i < q.length; i += MAX_BATCH) sendSettles(accountId, q.slice(i, i + MAX_BATCH));
      settleQueue.clear();
      for (const [accountId, q] of reserveQueue) for (let i = 0; i < q.length; i += MAX_BATCH) sendReserves(accountId, q.slice(i, i + MAX_BATCH));
      reserveQueue.clear();
    } finally {
      cork?.uncork();
    }
  }

  function sendReserves(accountId: string, batch: Array<Waiter<ReserveInput, ReserveReply>>): void {
    const k = keys.acct(accountId);
    const now = clock.now();
    const scriptKeys = keys.markKeys(k, now, zones.get(accountId) ?? 'UTC');
    // The reservation ttl is per call in the Ledger API; a batch shares one, so split by it.
    const ttl = batch[0]!.input.ttlMs;
    if (batch.some((w) => w.input.ttlMs !== ttl)) {
      const byTtl = new Map<number, typeof batch>();
      for (const w of batch) {
        const g = byTtl.get(w.input.ttlMs);
        if (g) g.push(w);
        else byTtl.set(w.input.ttlMs, [w]);
      }
      for (const g of byTtl.values()) sendReserves(accountId, g);
      return;
    }
    let ttlS = ttlArg.get(ttl);
    if (!ttlS) ttlArg.set(ttl, (ttlS = String(ttl)));
    const args: string[] = [String(now), ttlS, idemArg, tierArg, histArg];
    for (const { input } of batch) {
      const floor = input.floorMicro ?? 0;
      args.push(input.requestId, String(input.microCredits), String(floor), floor > 0 ? input.modality! : '');
    }
    deliver(reserveScript(scriptKeys, args), batch, (one) => sendReserves(accountId, one), accountId, RESERVE_ALERTED);
  }

  function sendSettles(accountId: string, batch: Array<Waiter<SettleEntry, SettleReply>>): void {
    const now = clock.now();
    const scriptKeys = keys.markKeys(keys.acct(accountId), now, zones.get(accountId) ?? 'UTC');
    const args: string[] = [String(now), idemArg, tierArg, histArg];
    for (const { input } of batch) {
      if ('record' in input) {
        args.push(input.requestId, input.modality, 'r', String(input.microCredits), String(input.floorMicro), String(input.expiresAt));
        continue;
      }
      if ('abandoned' in input) {
        args.push(input.requestId, input.modality, 'c');
        continue;
      }
      // Every settle carries its model, units and receipt (settle.lua: the usage history).
      const r = receipts ? settleReceipt(input) : null;
      const at = args.length;
      // Flags: 1 BYOK, 2 counts no request (settle.lua).
      args.push(input.requestId, input.modality, String((input.byok ? 1 : 0) + (input.requests === 0 ? 2 : 0)), input.byok ? '0' : String(input.microCredits), input.model ?? '', r ? r.payload : '', r ? String(r.priorMicro) : '0', '0');
      let pairs = 0;
      for (const f of UNIT_FIELDS) {
        const v = input.units[f];
        if (v) {
          args.push(f, String(v));
          pairs++;
        }
      }
      args[at + 7] = String(pairs);
    }
    deliver(settleScript(scriptKeys, args), batch, (one) => sendSettles(accountId, one), accountId, SETTLE_ALERTED);
  }

  /**
   * Hands a batch's rows to its callers. When Redis answers the script with an error (not a
   * lost connection), the batch is sent again one entry per call, so one bad entry (a key of
   * the wrong type, say) fails alone: a batch that fails has written nothing (lib/batch.lua).
   */
  function deliver<I, R extends unknown[]>(reply: Promise<unknown>, batch: Array<Waiter<I, R>>, resendOne: (one: Array<Waiter<I, R>>) => void, accountId: string, alertedCol: number): void {
    if (scriptsOut++ === 0) progressAt = performance.now();
    reply.then(
      (rows) => {
        scriptsOut--;
        progressAt = performance.now();
        scriptsFailing = false;
        const r = rows as R[];
        // Before the callers hear of it, so the index is written before anything they do next.
        if (onAlerted && r[0]?.[alertedCol] === 1) onAlerted(accountId);
        for (let i = 0; i < batch.length; i++) {
          const row = r[i];
          if (row === undefined) batch[i]!.reject(createLedgerError('ledger_unavailable', `the ledger script answered ${r.length} rows for ${batch.length} entries`));
          else batch[i]!.resolve(row);
        }
      },
      (err: unknown) => {
        scriptsOut--;
        progressAt = performance.now();
        const replyError = (err as { name?: string })?.name === 'ReplyError';
        if (!replyError) scriptsFailing = true;
        if (batch.length > 1 && replyError) {
          logger.warn({ err: (err as Error).message, entries: batch.length }, 'ledger batch failed in Redis; sending its entries one by one');
          for (const w of batch) resendOne([w]);
          return;
        }
        const e = toLedgerError(err);
        for (const w of batch) w.reject(e);
      },
    );
  }

  return {
    reserve: (accountId, input) => enqueue(reserveQueue, accountId, input, 0),
    settle: (accountId, input, delayMs) => enqueue(settleQueue, accountId, input, delayMs),
    healthy: () => !scriptsFailing && (scriptsOut === 0 || performance.now() - progressAt < STALL_MS),
    flushNow() {
      if (flushScheduled || settleTimer) flushBatches();
    },
  };
}
