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
