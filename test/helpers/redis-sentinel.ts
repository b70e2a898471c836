// Test helper: a Sentinel group (one master, one replica, 1-3 sentinels) started from the
// redis-server binary as child processes, stopped at teardown.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './redis.js';
import { ping, quitSoon, stopProc, track, type Proc } from './redis-procs.js';

export interface TestSentinel {
  /** The master group's name the sentinels monitor. */
  name: string;
  /** The sentinels' redis:// URLs. */
  sentinels: string[];
  masterPort: number;
  replicaPort: number;
  /** A client of the current master through the sentinels (closed at stop()). */
  client(): Redis;
  /** kill -9 of the master (the sentinels promote the replica after down-after + election). */
  killMaster(): Promise<void>;
  stop(): Promise<void>;
}

/** One master, one replica, `sentinels` sentinels (default 1, quorum 1; 3: quorum 2). */
export async function startRedisSentinel(opts: { sentinels?: number; downAfterMs?: number } = {}): Promise<TestSentinel> {
  const n = opts.sentinels ?? 1;
  const name = 'tollgate';
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-sentinel-'));
  const procs: Proc[] = [];
  const admins: Redis[] = [];
  const clients: Redis[] = [];
  const stop = async () => {
    await Promise.all(clients.map((c) => quitSoon(c)));
    for (const a of admins) a.disconnect();
    await Promise.all(procs.map((p) => stopProc(p.proc)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const data = (port: number, extra: string[]) =>
      track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--repl-diskless-sync-delay', '0', ...extra], { stdio: 'ignore' }));
    const masterPort = await freePort();
    let replicaPort = await freePort();
    while (replicaPort === masterPort) replicaPort = await freePort();
    procs.push({ port: masterPort, proc: data(masterPort, []) });
    admins.push(await ping(masterPort, procs[0]!.proc));
    procs.push({ port: replicaPort, proc: data(replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]) });
    admins.push(await ping(replicaPort, procs[1]!.proc));
    const deadline = Date.now() + 10_000;
    while (!String(await admins[1]!.info('replication')).includes('master_link_status:up')) {
      if (Date.now() > deadline) throw new Error('sentinel replica did not sync');
      await sleep(20);
    }
    const sentinels: string[] = [];
    const quorum = Math.floor(n / 2) + 1;
    for (let i = 0; i < n; i++) {
      let port = await freePort();
      while (procs.some((p) => p.port === port)) port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${quorum}`,
          `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} 3000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      const proc = track(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
      procs.push({ port, proc });
      const a = await ping(port, proc, 'redis-sentinel');
      admins.push(a);
      sentinels.push(`redis://127.0.0.1:${port}`);
    }
    // Every sentinel knows the master and its replica before the group is handed out.
    for (const a of admins.slice(2)) {
      for (;;) {
        const replicas = (await a.call('SENTINEL', 'REPLICAS', name).catch(() => [])) as unknown[];
        if (replicas.length >= 1) break;
        if (Date.now() > deadline) throw new Error('a sentinel never saw the replica');
        await sleep(25);
      }
    }
    return {
      name,
      sentinels,
      masterPort,
      replicaPort,
      client() {
        const c = new Redis({ sentinels: sentinels.map((u) => ({ host: '127.0.0.1', port: Number(new URL(u).port) })), name, maxRetriesPerRequest: 1 });
        c.on('error', () => {});
        clients.push(c);
        return c;
      },
      async killMaster() {
        const p = procs[0]!.proc;
        if (p.exitCode !== null || p.signalCode !== null) return;
        const exited = new Promise((r) => p.once('exit', r));
        admins[0]!.disconnect();
        p.kill('SIGKILL');
        await exited;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
