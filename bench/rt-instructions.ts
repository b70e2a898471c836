// `npm run bench:rt-instructions`: user-space instructions per relayed frame, counted by
// valgrind's callgrind, for tollgate (a metered Deepgram `/v1/listen` session on a paid account,
// Redis ledger) and the plain `ws` relay (bench/rt-relay.ts), driven by the same frames against
// the same upstream (bench/rt-upstream.ts: each 3,200-byte binary frame answered by a text frame).
//
// Counted, not timed: the figure barely moves with the load on this shared machine, where the
// realtime phase's frames per second move by tens of percent. A "frame" here is one client frame
// and its answer: two frames through the relay. What it leaves out: kernel time (both relays make
// the same reads and writes per frame) and waiting. Interim settles run on the wall clock (every
// realtime.settleIntervalMs) and valgrind slows the process ~50-fold and by however much the
// machine's load says, so they would weigh per frame by the load: the count sets the interval to
// 10 min (--settle-interval-ms) to measure the per-frame path alone (one settle per session per
// 5 s at full speed is a ledger call per ~500 frames in the bench's closed loop).
//
// Options: --frames N (measured, default 6000), --warm N (default 3000), --sessions N (default 8),
//          --in-flight N (per session, default 4), --log-level L (tollgate's, default info),
//          --only LIST (of tollgate,ws-relay), --settle-interval-ms N (default 600000),
//          --md-append FILE.
// Needs valgrind and redis-server. About a minute per relay.

import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { hasValgrind, startCallgrind } from './callgrind.js';
import { BENCH_KEY, benchConfig, forkBench, freePort, startRedis } from './procs.js';

const { values: args } = parseArgs({
  options: {
    frames: { type: 'string', default: '6000' },
    warm: { type: 'string', default: '3000' },
    sessions: { type: 'string', default: '8' },
    'in-flight': { type: 'string', default: '4' },
    'log-level': { type: 'string', default: 'info' },
    only: { type: 'string', default: 'tollgate,ws-relay' },
    'settle-interval-ms': { type: 'string', default: '600000' },
    'md-append': { type: 'string' },
  },
});
const N = Number(args.frames);
const WARM = Number(args.warm);
const S = Number(args.sessions);
const W = Number(args['in-flight']);
const IDLE_MS = 15_000;
const DIST = fileURLToPath(new URL('../', import.meta.url));
const QUERY = '/deepgram/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000&channels=1';
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Opens S sessions (kept for the whole count, as in the realtime phase). */
async function openAll(port: number, headers: Record<string, string>): Promise<WebSocket[]> {
  return Promise.all(
    Array.from(
      { length: S },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}${QUERY}`, { headers, perMessageDeflate: false });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
          ws.once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`)));
        }),
    ),
  );
}

/** Closed loop over the open sessions until `n` answers came back. */
function drive(sockets: WebSocket[], n: number): Promise<void> {
  const payload = Buffer.alloc(3_200, 1);
  payload.writeDoubleLE(1, 0);
  let sent = 0;
  let acked = 0;
  return new Promise((resolve) => {
    const onMessage = (ws: WebSocket) => () => {
      if (++acked === n) {
        for (const s of sockets) s.removeAllListeners('message');
        resolve();
        return;
      }
      if (sent < n) {
        sent++;
        ws.send(payload, { binary: true });
      }
    };
    for (const ws of sockets) {
      ws.on('message', onMessage(ws));
      for (let i = 0; i < W && sent < n; i++, sent++) ws.send(payload, { binary: true });
    }
  });
}

/** Instructions while driving the frames, and the part of them the process spends when idle (timers) in as long. */
interface Count {
  total: number;
  background: number;
}

async function count(name: string, script: string, scriptArgs: string[], port: number, env: NodeJS.ProcessEnv, headers: Record<string, string>, dir: string): Promise<Count> {
  const cg = await startCallgrind(name, script, scriptArgs, port, env, dir);
  try {
    const sockets = await openAll(port, headers);
    await drive(sockets, WARM);
    cg.ctl('--instr=on');
    // The sessions open and idle: what the process's timers cost per second under valgrind
    // (a dump zeroes the counters).
    let t0 = Date.now();
    await sleep(IDLE_MS);
    cg.ctl('--dump');
    const idleMs = Date.now() - t0;
    t0 = Date.now();
    await drive(sockets, N);
    cg.ctl('--dump');
    const busyMs = Date.now() - t0;
    cg.ctl('--instr=off');
    for (const ws of sockets) ws.terminate();
    return { total: cg.totals(2), background: Math.round((cg.totals(1) * busyMs) / idleMs) };
  } finally {
    cg.stop();
  }
}

async function main(): Promise<void> {
  if (!hasValgrind()) throw new Error('valgrind is not installed (apt-get install -y valgrind)');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-rt-instr-'));
  const up = await forkBench('realtime upstream', 'rt-upstream.js', []);
  const redis = await startRedis(dir);
  const upUrl = `http://127.0.0.1:${up.port}`;
  const only = new Set(args.only.split(','));
  const rows: Array<[string, Count]> = [];
  try {
    if (only.has('tollgate')) {
      const port = await freePort();
      const cfg = join(dir, 'tollgate.yaml');
      const yaml = benchConfig({ proxyPort: port, adminPort: await freePort(), redisUrl: redis.url, upstreamUrl: upUrl, realtimeUpstreamUrl: upUrl, logLevel: args['log-level'], workers: 1 });
      writeFileSync(cfg, yaml.replace('realtime: {', `realtime: { settleIntervalMs: ${Number(args['settle-interval-ms'])},`));
      log('tollgate under callgrind…');
      rows.push(['tollgate (metered, Redis ledger)', await count('tollgate', join(DIST, 'bin/tollgate.js'), ['serve', '--config', cfg], port, {}, { authorization: `Token ${BENCH_KEY}` }, dir)]);
    }
    if (only.has('ws-relay')) {
      const port = await freePort();
      log('ws relay under callgrind…');
      rows.push(['plain `ws` relay', await count('ws-relay', join(DIST, 'bench', 'rt-relay.js'), [upUrl], port, { BENCH_PORT: String(port) }, {}, dir)]);
    }
  } finally {
    await up.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = rows.find(([l]) => l.startsWith('plain'))?.[1];
  const per = (n: number) => Math.round(n / N).toLocaleString('en-US');
  const lines = [
    '### User-space instructions per realtime frame (callgrind)',
    '',
    `\`npm run bench:rt-instructions\`: ${N} binary 3,200-byte frames (each answered by a text frame) after ${WARM} to warm up, over ${S} Deepgram-style sessions with ${W} frames in flight each; tollgate with \`logging.level: ${args['log-level']}\` and \`realtime.settleIntervalMs: ${args['settle-interval-ms']}\`. Counted, not timed; kernel time is not counted.`,
    '',
    'The background column is what the same process spends idle (timers: the sweep, the ledger\'s and metrics\' intervals) over as long as the frames took, measured with the sessions open and quiet: under valgrind a frame takes ~50× its wall time, so timers weigh per frame far more than at full speed. The last columns leave it out.',
    '',
    '| relay | instructions per frame (and its answer) | of which background | per frame without it | ÷ plain relay |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(([label, c]) => `| ${label} | ${per(c.total)} | ${per(c.background)} | ${per(c.total - c.background)} | ${base ? `${((c.total - c.background) / (base.total - base.background)).toFixed(2)}×` : '–'} |`),
    '',
  ];
  console.log(`\n${lines.join('\n')}`);
  if (args['md-append']) appendFileSync(args['md-append'], `\n${lines.join('\n')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
