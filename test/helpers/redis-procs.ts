// Test helper: redis-server child processes shared by the cluster and Sentinel helpers:
// waiting for one to answer, stopping one (SIGTERM, then SIGKILL).

import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface Proc {
  port: number;
  proc: ChildProcess;
}

const quiet = { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null } as const;

/** Resolves with a connected admin client once the server on `port` answers PING (5 s at most). */
export async function ping(port: number, proc: ChildProcess, what = 'redis-server'): Promise<Redis> {
  const deadline = Date.now() + 5000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${what} on ${port} exited with ${proc.exitCode}`);
    const c = new Redis(port, '127.0.0.1', quiet);
    c.on('error', () => {});
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') return c;
    } catch {
      // not up yet
    }
    c.disconnect();
    if (Date.now() > deadline) throw new Error(`${what} on ${port} did not answer in 5 s`);
    await sleep(20);
  }
}

/**
 * QUIT, bounded: a cluster client whose node was flushed, paused or killed may never answer its
 * QUIT, and a teardown waiting on it keeps the test process alive until tap's timeout.
 */
export async function quitSoon(c: { quit(): Promise<unknown>; disconnect(): void }): Promise<void> {
  await Promise.race([c.quit().catch(() => undefined), sleep(1000)]);
  c.disconnect();
}

export async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([exited, sleep(2000)]);
  if (p.exitCode === null && p.signalCode === null) {
    p.kill('SIGKILL');
    await Promise.race([exited, sleep(1000)]);
  }
}

// A test process stopped by tap's timeout (SIGTERM) or ended without teardown must not leave
// its servers running: every server started here is killed when this process goes.
const live = new Set<ChildProcess>();
let hooked = false;
const killAll = () => {
  for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
};

/** Tracks a started server so it is killed if this process exits first. */
export function track(proc: ChildProcess): ChildProcess {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        killAll();
        process.kill(process.pid, sig);
      });
    }
  }
  return proc;
}
