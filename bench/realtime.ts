// The bench's realtime phase: Deepgram-style live sessions (binary 100 ms frames of 16 kHz
// linear16, 3,200 bytes, each answered by a small text frame) through tollgate (metered, Redis
// ledger) and through a plain `ws` relay (bench/rt-relay.ts), side by side in one run:
//  - frames per second through one worker: S sessions, each keeping W frames in flight;
//  - added latency per frame at a fixed rate (frame sent → its answer back), p50/p99, beside
//    the upstream direct;
//  - RSS per open session with N sessions open (after a forced GC).

import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { percentile } from './load.js';

export interface RtTarget {
  name: string;
  /** ws://host:port + path prefix ('' or '/deepgram'). */
  base: string;
  headers: Record<string, string>;
}

export interface RealtimeResults {
  frameBytes: number;
  throughput: { sessions: number; inFlight: number; seconds: number; rows: Record<string, { framesPerSecond: number; runs: number[]; cpuUsPerFrame?: number }> };
  latency: { sessions: number; framesPerSecond: number; seconds: number; rows: Record<string, { p50: number; p99: number; n: number }> };
  memory: { sessions: number; rows: Record<string, { opened: number; rssBeforeMb: number; rssOpenMb: number; kbPerSession: number }> };
}

const FRAME = 3_200;
const QUERY = '/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000&channels=1';

function open(t: RtTarget): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(t.base + QUERY, { headers: t.headers, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`${t.name}: HTTP ${res.statusCode}`)));
  });
}

const frame = (seq: number): Buffer => {
  const b = Buffer.alloc(FRAME);
  b.writeDoubleLE(seq, 0);
  return b;
};
const seqOf = (data: Buffer): number => Number(/"seq":([\d.e+-]+)/.exec(data.toString())?.[1]);

/** Closed loop: `sessions` sockets, each with `inFlight` frames outstanding, for `seconds`. */
export async function frameThroughput(t: RtTarget, sessions: number, inFlight: number, seconds: number): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: sessions }, () => open(t)));
  const payload = frame(0);
  let acks = 0;
  let counting = false;
  let stop = false;
  for (const ws of sockets) {
    ws.on('message', () => {
      if (counting) acks++;
      if (!stop) ws.send(payload, { binary: true });
    });
    for (let i = 0; i < inFlight; i++) ws.send(payload, { binary: true });
  }
  await sleep(500); // warm: the first frames of each session reserve their first steps
  counting = true;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  counting = false;
  const elapsed = (performance.now() - t0) / 1000;
  stop = true;
  await sleep(200);
  await closeAll(sockets);
  return acks / elapsed;
}

/** Open loop: `sessions` sockets sending `rate` frames a second in all; each frame's round trip in ms. */
export async function frameLatency(t: RtTarget, sessions: number, rate: number, seconds: number): Promise<number[]> {
  const sockets = await Promise.all(Array.from({ length: sessions }, () => open(t)));
  const sent = new Map<number, number>();
  const samples: number[] = [];
  let seq = 1;
  for (const ws of sockets) {
    ws.on('message', (d: Buffer) => {
      const s = seqOf(d);
      const at = sent.get(s);
      if (at !== undefined) {
        samples.push(performance.now() - at);
        sent.delete(s);
      }
    });
  }
  const interval = 1000 / rate;
  const end = performance.now() + seconds * 1000;
  let next = performance.now();
  let i = 0;
  while (performance.now() < end) {
    const now = performance.now();
    while (next <= now) {
      const s = seq++;
      sent.set(s, performance.now());
      sockets[i++ % sockets.length]!.send(frame(s), { binary: true });
      next += interval;
    }
    await sleep(Math.max(0, next - performance.now()));
  }
  await sleep(300);
  await closeAll(sockets);
  return samples;
}

/** Opens `n` idle sessions; returns a closer. */
export async function openSessions(t: RtTarget, n: number): Promise<{ opened: number; close(): Promise<void> }> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.allSettled(Array.from({ length: Math.min(50, n - i) }, () => open(t)));
    for (const r of batch) if (r.status === 'fulfilled') sockets.push(r.value);
  }
  return { opened: sockets.length, close: () => closeAll(sockets) };
}

async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((r) => {
          if (ws.readyState === ws.CLOSED) return r();
          ws.once('close', () => r());
          ws.close(1000);
          setTimeout(() => {
            ws.terminate();
            r();
          }, 3_000).unref();
        }),
    ),
  );
}

export interface RealtimePhaseOptions {
  targets: { direct: RtTarget; relay: RtTarget; tollgate: RtTarget };
  quick: boolean;
  rounds: number;
  cpuOf(name: string): number;
  settledRss(name: string): Promise<number>;
  log(s: string): void;
}

export async function realtimePhase(o: RealtimePhaseOptions): Promise<RealtimeResults> {
  const { direct, relay, tollgate } = o.targets;
  const seconds = o.quick ? 3 : 5;
  const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
  const res: RealtimeResults = {
    frameBytes: FRAME,
    throughput: { sessions: 16, inFlight: 16, seconds: seconds * o.rounds, rows: {} },
    // Each session at real time (a 100 ms frame every 100 ms), well under either relay's capacity.
    latency: { sessions: 20, framesPerSecond: 200, seconds: seconds * o.rounds, rows: {} },
    memory: { sessions: 1_000, rows: {} },
  };
  // Warm both relays' JIT.
  for (const t of [relay, tollgate]) await frameThroughput(t, 4, 8, o.quick ? 1 : 2);

  const runs: Record<string, number[]> = { [relay.name]: [], [tollgate.name]: [] };
  const cpu: Record<string, { s: number; n: number }> = { [relay.name]: { s: 0, n: 0 }, [tollgate.name]: { s: 0, n: 0 } };
  for (let r = 0; r < o.rounds; r++) {
    for (const t of r % 2 === 0 ? [relay, tollgate] : [tollgate, relay]) {
      const c0 = o.cpuOf(t.name);
      const fps = await frameThroughput(t, res.throughput.sessions, res.throughput.inFlight, seconds);
      cpu[t.name]!.s += o.cpuOf(t.name) - c0;
      cpu[t.name]!.n += fps * seconds;
      runs[t.name]!.push(round(fps, 0));
      o.log(`  realtime ${t.name}: ${fps.toFixed(0)} frames/s (${res.throughput.sessions} sessions × ${res.throughput.inFlight} in flight)`);
    }
  }
  for (const t of [relay, tollgate]) {
    const a = runs[t.name]!;
    res.throughput.rows[t.name] = { framesPerSecond: round(a.reduce((x, y) => x + y, 0) / a.length, 0), runs: a, cpuUsPerFrame: round((cpu[t.name]!.s / cpu[t.name]!.n) * 1e6, 1) };
  }

  const samples: Record<string, number[]> = { [direct.name]: [], [relay.name]: [], [tollgate.name]: [] };
  for (let r = 0; r < o.rounds; r++) {
    for (const t of r % 2 === 0 ? [direct, relay, tollgate] : [tollgate, relay, direct]) {
      const s = await frameLatency(t, res.latency.sessions, res.latency.framesPerSecond, seconds);
      samples[t.name]!.push(...s);
      o.log(`  realtime latency ${t.name}: p50 ${percentile(s.sort((a, b) => a - b), 50).toFixed(3)} ms`);
    }
  }
  for (const [name, s] of Object.entries(samples)) {
    s.sort((a, b) => a - b);
    res.latency.rows[name] = { p50: round(percentile(s, 50), 3), p99: round(percentile(s, 99), 3), n: s.length };
  }
  // The goal is in added latency per frame: each relay's round trip over the direct one.
  const d = res.latency.rows[direct.name]!;
  for (const t of [relay, tollgate]) {
    const r = res.latency.rows[t.name]!;
    o.log(`  realtime latency ${t.name}: added per frame over direct p50 +${(r.p50 - d.p50).toFixed(3)} ms, p99 +${(r.p99 - d.p99).toFixed(3)} ms`);
  }

  for (const t of [relay, tollgate]) {
    const before = await o.settledRss(t.name);
    const s = await openSessions(t, res.memory.sessions);
    await sleep(500);
    const after = await o.settledRss(t.name);
    await s.close();
    res.memory.rows[t.name] = { opened: s.opened, rssBeforeMb: round(before / 2 ** 20, 1), rssOpenMb: round(after / 2 ** 20, 1), kbPerSession: s.opened ? round((after - before) / 1024 / s.opened, 1) : NaN };
    o.log(`  realtime ${t.name}: ${s.opened}/${res.memory.sessions} sessions open, RSS ${round(before / 2 ** 20, 1)} → ${round(after / 2 ** 20, 1)} MB, ${res.memory.rows[t.name]!.kbPerSession} KB per session`);
    await sleep(1_000);
  }
  return res;
}
