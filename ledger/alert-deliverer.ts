// The alert deliverer: sends the events the debits recorded (ledger/alert-rules.ts) to the webhook, once each.
//
// Once per crossing rests on three things, as the overage flusher's exactly-once does: (1) the
// event was recorded by the script that crossed the threshold, once per account, period and
// threshold, in the account's outbox; (2) its id is deterministic (account, period, threshold),
// so a resend is recognisable; (3) it leaves the outbox only after the receiver answered 2xx. A
// per-account lease keeps replicas from sending one account's events at once.
//
// The window that remains: a process killed after the receiver's 2xx and before step 4 (or whose
// lease expired mid-send) leaves the event in the outbox, and the next run sends it again with
// the same id and the same body. Receivers dedupe on `id` (README, Alerts). Nothing is lost.

import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ALERT_TYPES, alertBody, alertEventId, type AlertRecord, type AlertType } from './alert-rules.js';
import type { AlertOutbox, Clock } from './types.js';

/** One delivery: the event id, its type and account (for logs and metrics), and the exact body. */
export interface AlertDelivery {
  id: string;
  type: AlertType;
  accountId: string;
  body: string;
}

/** Where events go (proxy/alerts/webhook.ts): resolves on a 2xx, throws on anything else (all retried). */
export interface AlertSender {
  /** `signal`: aborted when the deliverer stops (shutdown): the send gives up at once. */
  send(delivery: AlertDelivery, signal?: AbortSignal): Promise<void>;
}

export interface AlertDelivererOptions {
  outbox: AlertOutbox;
  sender: AlertSender;
  clock: Clock;
  logger: Logger;
  /** Time between runs after start(); default 5 s. */
  intervalMs?: number;
  /** Per-account lease: longer than one account's sends with their retries. Default 60 s. */
  leaseMs?: number;
  /** Retries of a failed send within one run. Default 3. */
  retries?: number;
  /** First backoff; doubles per retry up to maxBackoffMs. Defaults 1 s, 5 min. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Every Nth run (and the first) looks at every account, not only those marked pending. Default 12. */
  sweepEvery?: number;
  /** Accounts worked on in parallel. Default 4. */
  concurrency?: number;
}

export interface AlertDelivererStats {
  runs: number;
  /** Events the receiver took (2xx), by type. */
  sent: Record<AlertType, number>;
  /** Sends that failed (non-2xx, timeout, network), retries included, by type. */
  failed: Record<AlertType, number>;
  /** Events waiting for a later run after their retries failed (this process's view). */
  deferred: number;
  lastRunAt: number | null;
}

export interface AlertDeliverer {
  start(): void;
  /** One run now (queued behind a run in progress); `full` sweeps every account. */
  deliverOnce(full?: boolean): Promise<void>;
  /**
   * Stop the timer, cut a send or backoff in progress, and wait for the run to end (its lease
   * released). Events not sent stay in the outbox for the next process.
   */
  stop(): Promise<void>;
  stats(): AlertDelivererStats;
}

const byType = (): Record<AlertType, number> => Object.fromEntries(ALERT_TYPES.map((t) => [t, 0])) as Record<AlertType, number>;

export function createAlertDeliverer(opts: AlertDelivererOptions): AlertDeliverer {
  const { outbox, sender, clock } = opts;
  const logger = opts.logger.child({ component: 'alerts' });
  const intervalMs = opts.intervalMs ?? 5_000;
  const leaseMs = opts.leaseMs ?? 60_000;
  const retries = Math.max(0, opts.retries ?? 3);
  const backoffMs = opts.backoffMs ?? 1_000;
  const maxBackoffMs = opts.maxBackoffMs ?? 300_000;
  const sweepEvery = Math.max(1, opts.sweepEvery ?? 12);
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  const backoff = (n: number) => Math.min(maxBackoffMs, backoffMs * 2 ** n);

  const sent = byType();
  const failed = byType();
  /** Per account, event id -> when it may be tried again and how many runs failed it (backoff across runs). */
  const later = new Map<string, Map<string, { at: number; fails: number }>>();
  let runs = 0;
  let lastRunAt: number | null = null;
  let timer: NodeJS.Timeout | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  let running = false;
  const stopping = new AbortController();

  /** Sends one event, retrying with backoff; true once the receiver answered 2xx. */
  async function send(r: AlertRecord, d: AlertDelivery): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (stopping.signal.aborted) return false;
      try {
        await sender.send(d, stopping.signal);
        return true;
      } catch (err) {
        if (stopping.signal.aborted) return false; // cut by stop(): not the receiver's failure
        failed[r.type] += 1;
        const last = attempt >= retries;
        logger.warn({ id: d.id, accountId: d.accountId, attempt: attempt + 1, err: (err as Error).message, ...(last ? {} : { retryInMs: backoff(attempt) }) }, 'alert webhook failed');
        if (last) return false;
        await sleep(backoff(attempt), undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
  }

  async function deliverAccount(accountId: string): Promise<void> {
    // 1. Lease the account. A crash while holding it: the lease expires after leaseMs and
    //    another deliverer takes over; the outbox carries the state, not the lease.
    try {
      if (!(await outbox.lease(accountId, owner, leaseMs))) return;
    } catch (err) {
      logger.error({ err, accountId }, 'alert lease not taken');
      return;
    }
    try {
      // 2. Read what waits. A crash before or after: nothing changed.
      const waiting = await outbox.waiting(accountId);
      // Backoffs of events no longer waiting (another replica delivered them) are forgotten.
      const backoffs = later.get(accountId) ?? new Map<string, { at: number; fails: number }>();
      const ids = new Set(waiting.map((r) => alertEventId(r.accountId, r.periodStart, r.token)));
      for (const id of backoffs.keys()) if (!ids.has(id)) backoffs.delete(id);
      let left = 0;
      for (const r of waiting) {
        const id = alertEventId(r.accountId, r.periodStart, r.token);
        const wait = backoffs.get(id);
        if (wait && wait.at > clock.now()) {
          left += 1;
          break; // backed off; the account's later events keep their order behind it
        }
        // 3. Send, retried with backoff. A crash during or after the send, before step 4: the
        //    event is still in the outbox and the next run sends the same id and body again
        //    (the receiver dedupes). All retries failed: it stays for a later run, backed off.
        const d: AlertDelivery = { id, type: r.type, accountId, body: alertBody(r) };
        if (!(await send(r, d))) {
          if (stopping.signal.aborted) {
            left += 1;
            break;
          }
          const fails = (wait?.fails ?? 0) + 1;
          backoffs.set(id, { at: clock.now() + backoff(retries + fails), fails });
          left += 1;
          break; // the receiver is failing: the account's other events wait for the next run
        }
        // 4. Mark delivered: remove it from the outbox. False: another deliverer (its lease
        //    expired into ours) removed it first; the receiver got the same id twice.
        const removed = await outbox.delivered(accountId, r.periodStart, r.token);
        backoffs.delete(id);
        sent[r.type] += 1;
        logger.info({ id, type: r.type, accountId, removed }, 'alert delivered');
      }
      if (backoffs.size > 0) later.set(accountId, backoffs);
      else later.delete(accountId);
      // 5. Nothing left: off the pending index (markClean looks again after removing it).
      if (left === 0) await outbox.markClean(accountId);
    } catch (err) {
      logger.error({ err, accountId }, 'alert delivery failed; the events stay in the outbox');
    } finally {
      // 6. Release the lease. A crash before this: it expires on its own.
      await outbox.release(accountId, owner).catch((err: unknown) => logger.warn({ err, accountId }, 'alert lease release failed'));
    }
  }

  async function run(full: boolean): Promise<void> {
    running = true;
    try {
      const sweep = full || runs % sweepEvery === 0;
      runs += 1;
      let ids: string[];
      try {
        ids = await outbox.pendingAccounts(sweep);
      } catch (err) {
        logger.error({ err }, 'alert delivery could not list accounts');
        return;
      }
      let next = 0;
      const worker = async () => {
        while (next < ids.length && !stopping.signal.aborted) await deliverAccount(ids[next++]!);
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
    } finally {
      running = false;
      lastRunAt = clock.now();
    }
  }

  function enqueue(full: boolean): Promise<void> {
    const p = queue.then(() => run(full));
    queue = p.catch(() => undefined);
    return p;
  }

  return {
    start() {
      if (timer) return;
      timer = setInterval(() => {
        if (running) return;
        enqueue(false).catch((err: unknown) => logger.error({ err }, 'alert delivery run failed'));
      }, intervalMs);
      timer.unref();
      enqueue(true).catch((err: unknown) => logger.error({ err }, 'alert delivery run failed'));
    },
    deliverOnce(full = false) {
      return enqueue(full);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      stopping.abort();
      await queue;
    },
    stats() {
      let deferred = 0;
      for (const m of later.values()) deferred += m.size;
      return { runs, sent: { ...sent }, failed: { ...failed }, deferred, lastRunAt };
    },
  };
}
