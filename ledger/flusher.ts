// The overage flusher: reports paid accounts' overage to a MeterEventSink (Stripe), exactly once.
//
// Exactly once rests on three things: (1) a per-account outbox in the ledger holding at
// most one batch, moved out of pending overage atomically (outbox-prepare.lua); (2) one
// deterministic identifier per batch, which the sink uses as Stripe's meter-event
// `identifier` and `Idempotency-Key`, so a re-send answers "duplicate"; (3) a commit that
// removes the batch only if it is still the one that was sent. A per-account lease keeps
// replicas from working on one account at once; if a lease expires mid-send, (2) and (3)
// still hold. Whole credits only: the sub-credit remainder stays pending for a later batch.

import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  RetryableSinkError,
  type Clock,
  type Ledger,
  type MeterEventSink,
  type OverageBatch,
  type OverageOutbox,
} from './types.js';

export interface FlusherOptions {
  /** The ledger whose overage is reported; both backends expose `outbox`. */
  ledger: Ledger;
  /** Defaults to `ledger.outbox`. */
  outbox?: OverageOutbox;
  sink: MeterEventSink;
  clock: Clock;
  logger: Logger;
  /** Time between runs after start(); default 60 s (config stripe.flushIntervalMs). */
  intervalMs?: number;
  /** Per-account lease; longer than a send with all its retries. Default 30 s. */
  leaseMs?: number;
  /** Retries of a send after a RetryableSinkError, within one run. Default 5. */
  retries?: number;
  /** First backoff; doubles per retry up to maxBackoffMs. Defaults 250 ms, 8 s. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Every Nth run (and the first) looks at every account, not only those marked pending. Default 10. */
  sweepEvery?: number;
  /** Accounts flushed in parallel. Default 4. */
  concurrency?: number;
  /** Batches per account per run (normally one or two). Default 10. */
  maxBatchesPerAccount?: number;
}

export interface FlushReport {
  accounts: number;
  /** Batches the sink accepted (delivered or duplicate). */
  batches: number;
  credits: number;
  duplicates: number;
  failures: number;
  /** Accounts another flusher held the lease of. */
  skipped: number;
}

export interface FlusherStats extends FlushReport {
  runs: number;
  retries: number;
  lastRunAt: number | null;
  /** When a run last finished with nothing failed. */
  lastCleanRunAt: number | null;
  /** ms since the last clean run (or since creation): how far reporting may lag. */
  lagMs: number;
  running: boolean;
}

export interface Flusher {
  /** Run every intervalMs (timers unref'd) until stop() or drain(). */
  start(): void;
  /** One run now (queued behind a run in progress). */
  flushOnce(): Promise<FlushReport>;
  /** Stop the timer, wait for runs in progress, then a final full run: call on shutdown. */
  drain(): Promise<FlushReport>;
  /** Stop the timer and wait for runs in progress. */
  stop(): Promise<void>;
  stats(): FlusherStats;
}

const emptyReport = (): FlushReport => ({ accounts: 0, batches: 0, credits: 0, duplicates: 0, failures: 0, skipped: 0 });

function outboxOf(ledger: Ledger): OverageOutbox | undefined {
  return (ledger as Ledger & { outbox?: OverageOutbox }).outbox;
}

export function createFlusher(opts: FlusherOptions): Flusher {
  const outbox = opts.outbox ?? outboxOf(opts.ledger);
  if (!outbox) throw new Error('createFlusher: the ledger has no overage outbox; pass `outbox`');
  const { ledger, sink, clock } = opts;
  const logger = opts.logger.child({ component: 'flusher' });
  const intervalMs = opts.intervalMs ?? 60_000;
  const leaseMs = opts.leaseMs ?? 30_000;
  const retries = opts.retries ?? 5;
  const backoffMs = opts.backoffMs ?? 250;
  const maxBackoffMs = opts.maxBackoffMs ?? 8_000;
  const sweepEvery = Math.max(1, opts.sweepEvery ?? 10);
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const maxBatches = Math.max(1, opts.maxBatchesPerAccount ?? 10);
  const owner = `${hostname()}:${process.pid}:${randomUUID()}`;

  const totals = emptyReport();
  let runs = 0;
  let retryCount = 0;
  let lastRunAt: number | null = null;
  let lastCleanRunAt: number | null = null;
  const createdAt = clock.now();
  let timer: NodeJS.Timeout | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  let running = 0;

  /** Send one batch; RetryableSinkError is retried with exponential backoff, anything else thrown. */
  async function send(batch: OverageBatch): Promise<'delivered' | 'duplicate'> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await sink.send({
          identifier: batch.identifier,
          stripeCustomerId: batch.stripeCustomerId,
          value: batch.value,
          timestamp: batch.timestamp,
        });
      } catch (err) {
        if (!(err instanceof RetryableSinkError) || attempt >= retries) throw err;
        retryCount += 1;
        const delay = Math.min(maxBackoffMs, backoffMs * 2 ** attempt);
        logger.warn({ identifier: batch.identifier, attempt: attempt + 1, delay, err: err.message }, 'meter event send failed; retrying');
        await sleep(delay);
      }
    }
  }

  async function flushAccount(accountId: string, report: FlushReport): Promise<void> {
    // 1. Lease the account. A crash while holding it: the lease expires after leaseMs and
    //    another flusher takes over; the outbox (step 2) is what carries state, not the lease.
    if (!(await outbox!.lease(accountId, owner, leaseMs))) {
      report.skipped += 1;
      return;
    }
    report.accounts += 1;
    let customer: string | null = null;
    try {
      for (let n = 0; n < maxBatches; n++) {
        // 2. Prepare: the batch already in the outbox (left by a crash or a failed send: same
        //    identifier, so Stripe deduplicates it), else whole credits moved out of pending
        //    overage into a new batch, atomically in one script. A crash before the script
        //    changes nothing; after it, the batch waits in Redis for the next flush: nothing
        //    lost. The remainder below one credit stays pending: nothing lost to rounding.
        let prepared = await outbox!.prepare(accountId, customer, clock.now());
        if (prepared.kind === 'needs_customer') {
          // 2a. The account has no Stripe customer yet: the sink creates one (idempotently,
          //     so a crash here and a retry create one customer), then prepare again.
          const account = await ledger.getAccount(accountId);
          if (!account) return;
          customer = account.stripeCustomerId ?? (await sink.customerFor(account));
          prepared = await outbox!.prepare(accountId, customer, clock.now());
        }
        if (prepared.kind !== 'batch') {
          // 5. Nothing whole left: take the account off the pending set (markClean looks
          //    again after removing it, so a concurrent settle is not missed; the periodic
          //    full sweep covers a crash between a settle and its marking).
          if (prepared.kind === 'none') await outbox!.markClean(accountId);
          return;
        }
        const batch = prepared.batch;
        // 3. Send. A crash during or after the send, before step 4: the batch is still in the
        //    outbox, the next flush sends the same identifier and Stripe answers "already
        //    exists" (duplicate = delivered), so it is counted once. A failed send leaves the
        //    batch in the outbox for the next run.
        const result = await send(batch);
        // 4. Commit: remove the batch if it is still this one. A crash before the commit is
        //    step 3's case. If our lease expired and another flusher committed it (and maybe
        //    prepared the next batch), the identifier no longer matches and nothing changes.
        const committed = await outbox!.commit(accountId, batch.identifier);
        report.batches += 1;
        report.credits += batch.value;
        if (result === 'duplicate') report.duplicates += 1;
        logger.info(
          { accountId, identifier: batch.identifier, credits: batch.value, timestamp: batch.timestamp, result, committed },
          'overage reported',
        );
      }
    } catch (err) {
      report.failures += 1;
      logger.error({ err, accountId }, 'overage flush failed; the batch stays in the outbox');
    } finally {
      // 6. Release the lease. A crash before this: it expires on its own (step 1).
      await outbox!.release(accountId, owner).catch((err: unknown) => logger.warn({ err, accountId }, 'lease release failed'));
    }
  }

  async function run(full: boolean): Promise<FlushReport> {
    const report = emptyReport();
    running += 1;
    try {
      const sweep = full || runs % sweepEvery === 0;
      runs += 1;
      let ids: string[];
      try {
        ids = await outbox!.pendingAccounts(sweep);
      } catch (err) {
        report.failures += 1;
        logger.error({ err }, 'overage flush could not list accounts');
        return report;
      }
      let next = 0;
      const worker = async () => {
        while (next < ids.length) {
          const id = ids[next++]!;
          await flushAccount(id, report);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
      return report;
    } finally {
      running -= 1;
      lastRunAt = clock.now();
      if (report.failures === 0) lastCleanRunAt = lastRunAt;
      for (const k of Object.keys(totals) as (keyof FlushReport)[]) totals[k] += report[k];
    }
  }

  /** Runs never overlap within one flusher: each waits for the previous one. */
  function enqueue(full: boolean): Promise<FlushReport> {
    const p = queue.then(() => run(full));
    queue = p.catch(() => undefined);
    return p;
  }

  function stopTimer(): void {
    if (timer) clearInterval(timer);
    timer = null;
  }

  return {
    start() {
      if (timer) return;
      timer = setInterval(() => {
        if (running > 0) return; // a slow run: skip a tick rather than pile up
        enqueue(false).catch((err: unknown) => logger.error({ err }, 'overage flush run failed'));
      }, intervalMs);
      timer.unref();
    },
    flushOnce() {
      return enqueue(false);
    },
    async drain() {
      stopTimer();
      return enqueue(true);
    },
    async stop() {
      stopTimer();
      await queue;
    },
    stats() {
      return {
        ...totals,
        runs,
        retries: retryCount,
        lastRunAt,
        lastCleanRunAt,
        lagMs: clock.now() - (lastCleanRunAt ?? createdAt),
        running: running > 0,
      };
    },
  };
}
