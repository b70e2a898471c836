// Test helper: a redis-server with persistence on (AOF, fsync every second, flushed on a
// graceful stop) that can be restarted on the same port and directory mid-test, as an operator's
// Redis restart would: it comes back with its data.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './redis.js';

export interface PersistentRedis {
  url: string;
  port: number;
  /** SIGTERM (Redis writes its AOF), stay down `downMs`, start again on the same port and dir. */
  restart(downMs: number): Promise<{ downMs: number }>;
  client(): Redis;
  stop(): Promise<void>;
}

export async function startPersistentRedis(): Promise<PersistentRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-soak-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}/0`;
  const clients: Redis[] = [];
  const launch = async (): Promise<ChildProcess> => {
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'],
      { stdio: 'ignore' },
    );
    await waitReady(port, proc);
    return proc;
  };
  const halt = async (proc: ChildProcess): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  };
  let proc = await launch();
  return {
    url,
    port,
    async restart(downMs) {
      const t0 = performance.now();
      await halt(proc);
      await sleep(downMs);
      proc = await launch();
      return { downMs: Math.round(performance.now() - t0) };
    },
    client() {
      const c = new Redis(url, { maxRetriesPerRequest: 1 });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
      await halt(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitReady(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
    const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => {});
    try {
      await c.connect();
      // Loading the AOF answers LOADING until done: wait for a real PONG.
      if ((await c.ping()) === 'PONG') {
        c.disconnect();
        return;
      }
    } catch {
      // not up yet
    }
    c.disconnect();
    await sleep(25);
  }
  throw new Error('redis-server did not become ready in 15 s');
}
