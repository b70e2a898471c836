// Benchmark processes: the private redis-server, the upstream, the baseline and tollgate, each a
// child process (optionally pinned to a CPU with taskset), and their memory read from /proc.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { WebSocket, type MessageEvent } from 'undici';

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

export const HAS_TASKSET = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

/** Runs `argv` pinned to `cpu` (a taskset list such as "0") when given and taskset exists. */
function pinned(cpu: string | undefined, argv: string[]): [string, string[]] {
  if (cpu !== undefined && HAS_TASKSET) return ['taskset', ['-c', cpu, ...argv]];
  return [argv[0]!, argv.slice(1)];
}

/** Pins this process, all its threads, to `cpu` (children inherit it). */
export function pinSelf(cpu: string): boolean {
  if (!HAS_TASKSET) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', cpu, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function stopProc(proc: ChildProcess, graceMs = 5000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await Promise.race([exited, sleep(graceMs)]);
  if (proc.exitCode === null && proc.signalCode === null) {
    proc.kill('SIGKILL');
    await exited;
  }
}

const distFile = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));

/** A compiled bench module (upstream.js, baseline.js) as a child with an IPC channel; waits for its port. */
export async function forkBench(name: string, script: string, args: string[], opts: { cpu?: string; nodeArgs?: string[] } = {}): Promise<Child> {
  const [cmd, argv] = pinned(opts.cpu, [process.execPath, ...(opts.nodeArgs ?? []), distFile(script), ...args]);
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  // Pass the child's errors on, not the inspector's chatter.
  proc.stderr!.on('data', (d: Buffer) => {
    const text = d
      .toString()
      .split('\n')
      .filter((l) => l && !/^(Debugger (listening|attached|ending)|For help, see)/.test(l))
      .join('\n');
    if (text) process.stderr.write(`[${name}] ${text}\n`);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} did not start in 10 s`)), 10_000);
    proc.once('message', (m: { port?: number }) => {
      clearTimeout(t);
      if (typeof m.port === 'number') resolve(m.port);
      else reject(new Error(`${name}: unexpected message`));
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${name} exited with ${code}`));
    });
  });
  return { name, proc, pid: proc.pid!, port, stop: () => stopProc(proc) };
}

/** The Portkey gateway the bench compares against (npm package, headless). */
export const PORTKEY_PACKAGE = '@portkey-ai/gateway@1.15.2';

/**
 * Portkey's AI gateway (`@portkey-ai/gateway`, its Node build, headless), installed on first use
 * into `dir` (bench/.portkey, git-ignored; not a dependency of tollgate) and started on a free
 * port. Resolves undefined, with the reason logged, when it cannot be installed or started.
 */
export async function startPortkey(dir: string, opts: { cpu?: string; nodeArgs?: string[]; log(s: string): void }): Promise<Child | undefined> {
  const entry = `${dir}/node_modules/@portkey-ai/gateway/build/start-server.js`;
  if (!existsSync(entry)) {
    opts.log(`  installing ${PORTKEY_PACKAGE} into ${dir} (once)`);
    const r = spawnSync('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', PORTKEY_PACKAGE], { encoding: 'utf8', timeout: 180_000 });
    if (r.status !== 0 || !existsSync(entry)) {
      opts.log(`  Portkey left out: npm install failed (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`);
      return undefined;
    }
  }
  const port = await freePort();
  const [cmd, argv] = pinned(opts.cpu, [process.execPath, ...(opts.nodeArgs ?? []), entry, '--headless', `--port=${port}`]);
  const proc = spawn(cmd, argv, { stdio: 'ignore' });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) {
      opts.log(`  Portkey left out: it exited with ${proc.exitCode}`);
      return undefined;
    }
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      break; // any answer: it is listening
    } catch {
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        opts.log('  Portkey left out: not listening after 20 s');
        return undefined;
      }
      await sleep(100);
    }
  }
  return { name: 'Portkey', proc, pid: proc.pid!, port, stop: () => stopProc(proc) };
}

export interface TollgateChild extends Child {
  adminPort: number;
  logFile: string;
}

/**
 * `node dist/bin/tollgate.js serve --config FILE`; waits for /readyz. Its stdout and stderr are
 * pipes that this process copies into `logFile`, as a container runtime collects a service's
 * output (docker's and Kubernetes' log drivers read a pipe): tollgate pays for its pipe writes,
 * the collector for the file. With `logToFile` tollgate writes the file itself (the bench's
 * way before: 0.97x the CPU per request when piped, in an A/B run on the same build).
 */
export async function spawnTollgate(configFile: string, proxyPort: number, adminPort: number, logFile: string, opts: { cpu?: string; nodeArgs?: string[]; logToFile?: boolean } = {}): Promise<TollgateChild> {
  const bin = fileURLToPath(new URL('../bin/tollgate.js', import.meta.url));
  const [cmd, argv] = pinned(opts.cpu, [process.execPath, ...(opts.nodeArgs ?? []), bin, 'serve', '--config', configFile]);
  const log = createWriteStream(logFile);
  await new Promise((r) => log.once('open', r));
  const proc = opts.logToFile ? spawn(cmd, argv, { stdio: ['ignore', log, log] }) : spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const drained = opts.logToFile
    ? Promise.resolve()
    : Promise.all(
        [proc.stdout!, proc.stderr!].map((s) => {
          s.pipe(log, { end: false });
          return new Promise((r) => s.once('close', r));
        }),
      );
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) {
      // Its last words may still be in the pipe: copied into the file before the file is read.
      await Promise.race([drained, sleep(2_000)]);
      await new Promise((r) => log.end(r));
      throw new Error(`tollgate exited with ${proc.exitCode}; see ${logFile}:\n${tail(logFile)}`);
    }
    try {
      const r = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`tollgate not ready in 20 s; see ${logFile}:\n${tail(logFile)}`);
    }
    await sleep(50);
  }
  return {
    name: 'tollgate',
    proc,
    pid: proc.pid!,
    port: proxyPort,
    adminPort,
    logFile,
    stop: async () => {
      await stopProc(proc, 15_000);
      await Promise.race([drained, sleep(2_000)]);
      log.end();
    },
  };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

export interface BenchRedis {
  url: string;
  client: Redis;
  stop(): Promise<void>;
}

/** A private redis-server on a free port (never 6379), no persistence. */
export async function startRedis(dir: string): Promise<BenchRedis> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const deadline = Date.now() + 5000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
    const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => {});
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') {
        return {
          url: `redis://127.0.0.1:${port}/0`,
          client: c,
          stop: async () => {
            c.disconnect();
            await stopProc(proc);
          },
        };
      }
    } catch {
      c.disconnect();
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error('redis-server did not become ready in 5 s');
    }
    await sleep(25);
  }
}

/** Resident set size and its peak (VmHWM) of a process, in bytes. */
export function memory(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Resets VmHWM to the current RSS (Linux clear_refs 5); false where not allowed. */
export function resetPeak(pid: number): boolean {
  try {
    const r = spawnSync('sh', ['-c', `echo 5 > /proc/${pid}/clear_refs`], { stdio: 'ignore' });
    return r.status === 0;
  } catch {
    return false;
  }
}

/** Process ids of `pid` and its descendants (cluster workers). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const f = `/proc/${out[i]}/task/${out[i]}/children`;
    if (!existsSync(f)) continue;
    for (const c of readFileSync(f, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
  }
  return out;
}

export function machine(): { nproc: number; cpu: string; node: string; kernel: string } {
  let cpu = 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux
  }
  const kernel = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const nproc = Number(spawnSync('nproc', [], { encoding: 'utf8' }).stdout?.trim()) || 0;
  return { nproc, cpu, node: process.version, kernel };
}

/** CPU time (user + system) a process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") ".
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** /proc/loadavg's 1-minute figure: other work on the machine while the bench ran. */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/**
 * Full garbage collection in a child started with --inspect=127.0.0.1:PORT (through the
 * inspector protocol), then its process.memoryUsage(): RSS readings without young garbage.
 */
export async function inspectorGc(port: number): Promise<{ rss: number; heapUsed: number; external: number; arrayBuffers: number } | undefined> {
  try {
    const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
    const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error('inspector connection failed')), { once: true });
    });
    let id = 0;
    const call = (method: string, params: object = {}) =>
      new Promise<{ result?: { result?: { value?: unknown } } }>((resolve) => {
        const my = ++id;
        const on = (ev: MessageEvent) => {
          const m = JSON.parse(String(ev.data)) as { id?: number };
          if (m.id !== my) return;
          ws.removeEventListener('message', on);
          resolve(m as { result?: { result?: { value?: unknown } } });
        };
        ws.addEventListener('message', on);
        ws.send(JSON.stringify({ id: my, method, params }));
      });
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const r = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    ws.close();
    return JSON.parse(String(r.result?.result?.value)) as { rss: number; heapUsed: number; external: number; arrayBuffers: number };
  } catch {
    return undefined;
  }
}

/** The bench account's tollgate key (a paid tier, `scale`, no spend limit: admitted locally). */
export const BENCH_KEY = 'tg_bench_key_0000000000000000000000001';
/** A Free account's key (hard cap: every reserve goes to Redis), for the round-trip count. */
export const BENCH_FREE_KEY = 'tg_bench_key_0000000000000000000000002';

/** tollgate's config for the bench: one OpenAI-style provider, the bench account, a private Redis. */
export function benchConfig(o: { proxyPort: number; adminPort: number; redisUrl: string; upstreamUrl: string; logLevel: string; workers: number; realtimeUpstreamUrl?: string; keyPrefix?: string; history?: string }): string {
  return [
    `proxy: { host: 127.0.0.1, port: ${o.proxyPort} }`,
    `admin: { host: 127.0.0.1, port: ${o.adminPort}, token: bench_admin_token_00000001 }`,
    `redis: { url: "${o.redisUrl}", keyPrefix: ${o.keyPrefix ?? 'tgbench'} }`,
    ...(o.history ? [`history: ${o.history}`] : []),
    'providers:',
    `  openai: { baseUrl: "${o.upstreamUrl}", apiKey: sk-bench-platform }`,
    // The realtime phase's Deepgram stand-in (bench/rt-upstream.ts), 1,000 sessions on one account.
    ...(o.realtimeUpstreamUrl ? [`  deepgram: { baseUrl: "${o.realtimeUpstreamUrl}", apiKey: dg-bench-platform }`] : []),
    ...(o.realtimeUpstreamUrl ? ['realtime: { maxSessionsPerAccount: { scale: 5000 } }'] : []),
    'accounts:',
    `  - { id: bench, tier: scale, apiKeys: ["${BENCH_KEY}"] }`,
    `  - { id: bench-free, tier: free, apiKeys: ["${BENCH_FREE_KEY}"] }`,
    `logging: { level: ${o.logLevel} }`,
    'shutdown: { graceMs: 2000 }',
    `workers: ${o.workers}`,
    '',
  ].join('\n');
}
