// Test helper: a private redis-server on a free port, stopped at teardown. Never the machine's 6379.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface TestRedis {
  url: string;
  port: number;
  /** A fresh client; closed at stop(). */
  client(): Redis;
  /** kill -9 of the server (its clients see the connection drop). */
  kill(): Promise<void>;
  /** Starts it again on the same port and data dir: with its data under `persistence: 'aof'`, empty without. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** `persistence: 'aof'`: every write fsynced to an append-only file, so a restart keeps the data. */
export async function startRedis(opts: { persistence?: 'aof' } = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-redis-'));
  let lastErr: unknown;
  const args = (port: number) => [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir,
    ...(opts.persistence === 'aof' ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  ];
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    let proc: ChildProcess = spawn('redis-server', args(port), { stdio: 'ignore' });
    const clients: Redis[] = [];
    const url = `redis://127.0.0.1:${port}/0`;
    try {
      await waitReady(port, proc);
    } catch (err) {
      lastErr = err;
      proc.kill('SIGKILL');
      continue;
    }
    return {
      url,
      port,
      client() {
        const c = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
        clients.push(c);
        return c;
      },
      async kill() {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      },
      async restart() {
        for (let i = 0; ; i++) {
          proc = spawn('redis-server', args(port), { stdio: 'ignore' });
          try {
            await waitReady(port, proc);
            return;
          } catch (err) {
            proc.kill('SIGKILL');
            if (i >= 20) throw err;
            await sleep(250); // the port may linger a moment after the kill
          }
        }
      },
      async stop() {
        await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
        if (proc.exitCode === null) {
          const exited = new Promise((r) => proc.once('exit', r));
          proc.kill('SIGTERM');
          await Promise.race([exited, sleep(2000)]);
          if (proc.exitCode === null) proc.kill('SIGKILL');
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`could not start redis-server: ${String(lastErr)}`);
}

async function waitReady(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
    const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => {});
    try {
      await c.connect();
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
  throw new Error('redis-server did not become ready in 5 s');
}
