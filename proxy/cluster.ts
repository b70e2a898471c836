// `--workers N`: a node:cluster primary forks N workers that each run the whole app on the same
// ports (the primary hands out connections). The primary restarts a worker that dies, passes
// SIGTERM/SIGINT on and waits for every worker's graceful stop, and sums the workers' metrics
// for whichever worker's admin port is scraped. State lives in Redis, so workers share nothing else.

import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from 'pino';

type Msg =
  | { tg: 'ready' }
  | { tg: 'metrics?'; id: number }
  | { tg: 'metrics'; id: number; text?: string; error?: string }
  | { tg: 'collect'; id: number }
  | { tg: 'collected'; id: number; metrics?: unknown[]; error?: string };

/** A worker that could not start exits with this code, so the primary stops instead of re-forking. */
export const STARTUP_FAILURE_EXIT_CODE = 78; // EX_CONFIG (sysexits.h)
/** A worker that dies within this long of listening counts as a quick death. */
const QUICK_DEATH_MS = 10_000;
/** Quick deaths in a row after which the primary stops, non-zero. */
const MAX_QUICK_DEATHS = 5;
/** Re-fork delay: doubles with each quick death in a row, up to the maximum. */
const RESTART_BASE_MS = 250;
const RESTART_MAX_MS = 30_000;

const isMsg = (m: unknown): m is Msg => typeof m === 'object' && m !== null && typeof (m as { tg?: unknown }).tg === 'string';

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  /** Extra environment for the workers (e.g. a generated demo key they must all share). */
  env?: Record<string, string>;
  /** How long workers get to stop after a signal before they are killed (grace + margin). */
  stopTimeoutMs: number;
}

/** Runs the primary. Resolves with the exit code once every worker has stopped after a signal. */
export function runPrimary(o: PrimaryOptions): Promise<number> {
  const logger = o.logger.child({ component: 'cluster' });
  let stopping = false;
  let failed = false;
  let quickDeaths = 0;
  /** Workers that announced they are listening, and when. */
  const ready = new Map<number, number>();
  const restartTimers = new Set<NodeJS.Timeout>();

  const fork = () => {
    const w = cluster.fork(o.env);
    w.on('message', (m: unknown) => onWorkerMessage(w, m));
  };
  // Workers start one after another (the next when the last is listening): N processes loading
  // the app at once would only slow the first one down, and it could serve alone meanwhile.
  let toStart = o.workers;
  const startNext = () => {
    if (toStart > 0 && !stopping) {
      toStart--;
      fork();
    }
  };

  // Metrics: a worker asks; the primary collects every worker's registry and sums them.
  let seq = 0;
  const pending = new Map<number, { want: number; got: unknown[][]; done: (err?: Error) => void }>();
  function onWorkerMessage(from: Worker, m: unknown): void {
    if (!isMsg(m)) return;
    if (m.tg === 'ready') {
      ready.set(from.id, Date.now());
      startNext();
      return;
    }
    if (m.tg === 'collected') {
      const p = pending.get(m.id);
      if (!p) return;
      if (m.metrics) p.got.push(m.metrics as unknown[]);
      if (--p.want === 0) p.done();
      return;
    }
    if (m.tg !== 'metrics?') return;
    const id = ++seq;
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
    const entry = {
      want: live.length,
      got: [] as unknown[][],
      done: (err?: Error) => {
        clearTimeout(timer);
        pending.delete(id);
        const reply = (msg: Msg) => {
          if (from.isConnected()) from.send(msg);
        };
        if (err && entry.got.length === 0) return reply({ tg: 'metrics', id: m.id, error: err.message });
        AggregatorRegistry.aggregate(entry.got as Parameters<typeof AggregatorRegistry.aggregate>[0])
          .metrics()
          .then(
            (text) => reply({ tg: 'metrics', id: m.id, text }),
            (e: Error) => reply({ tg: 'metrics', id: m.id, error: e.message }),
          );
      },
    };
    // A worker that does not answer in time (busy, dying) is left out rather than failing the scrape.
    const timer = setTimeout(() => entry.done(new Error('no worker answered in time')), 2_000);
    pending.set(id, entry);
    for (const w of live) w.send({ tg: 'collect', id } satisfies Msg);
  }

  return new Promise((resolve) => {
    cluster.on('exit', (w, code, signal) => {
      const readyAt = ready.get(w.id);
      const wasReady = ready.delete(w.id);
      if (stopping) {
        // A worker still starting when the stop came dies of our SIGTERM: not a failure.
        if (code !== 0 && !(signal === 'SIGTERM' && !wasReady)) failed = true;
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(failed ? 1 : 0);
        return;
      }
      // A worker that never got to listen (ledger unreachable, port taken, bad master key) has
      // printed why; forking another would fail the same way: stop, non-zero.
      if (!wasReady || code === STARTUP_FAILURE_EXIT_CODE) {
        logger.fatal({ worker: w.process.pid, code, signal }, 'a worker could not start; stopping');
        failed = true;
        stop('startup failure');
        return;
      }
      // Died after start: replace it, backing off while deaths come quickly; give up after
      // MAX_QUICK_DEATHS in a row, so a supervisor sees a failure rather than a flapping process.
      quickDeaths = Date.now() - (readyAt ?? 0) < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
      if (quickDeaths >= MAX_QUICK_DEATHS) {
        logger.fatal({ worker: w.process.pid, code, signal, quickDeaths }, 'workers keep dying soon after start; stopping');
        failed = true;
        stop('worker failures');
        return;
      }
      const delayMs = Math.min(RESTART_BASE_MS * 2 ** quickDeaths, RESTART_MAX_MS);
      logger.error({ worker: w.process.pid, code, signal, restartInMs: delayMs }, 'worker died; starting another');
      // Not unref'd: with no worker left, this timer is what keeps the primary alive to re-fork.
      const timer = setTimeout(() => {
        restartTimers.delete(timer);
        if (!stopping) fork();
      }, delayMs);
      restartTimers.add(timer);
    });

    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      for (const t of restartTimers) clearTimeout(t);
      restartTimers.clear();
      logger.info({ why }, 'stopping workers');
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
      if (workers.length === 0) resolve(failed ? 1 : 0);
      for (const w of workers) w.process.kill('SIGTERM');
      setTimeout(() => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      }, o.stopTimeoutMs).unref();
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    logger.info({ workers: o.workers }, 'starting workers');
    startNext();
  });
}

/** In a worker: tells the primary this worker is listening, so it starts the next one. */
export function announceReady(): void {
  process.send?.({ tg: 'ready' } satisfies Msg);
}

/** In a worker: answers the primary's collection requests with this app's registry. */
export function serveWorkerMetrics(registry: Registry): void {
  process.on('message', (m: unknown) => {
    if (!isMsg(m) || m.tg !== 'collect') return;
    registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ tg: 'collected', id: m.id, metrics } satisfies Msg),
      (err: Error) => process.send?.({ tg: 'collected', id: m.id, error: err.message } satisfies Msg),
    );
  });
}

/** In a worker: the metrics text of all workers, summed (gauges such as lag take the max). */
export function clusterMetricsClient(): () => Promise<string> {
  let seq = 0;
  const waiting = new Map<number, { resolve: (t: string) => void; reject: (e: Error) => void }>();
  process.on('message', (m: unknown) => {
    if (!isMsg(m) || m.tg !== 'metrics') return;
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.error !== undefined) w.reject(new Error(m.error));
    else w.resolve(m.text ?? '');
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('the cluster primary did not answer'));
      }, 5_000);
      waiting.set(id, {
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      process.send?.({ tg: 'metrics?', id } satisfies Msg);
    });
}
