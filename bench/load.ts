// Load drivers: closed-loop throughput (wrk where installed, else autocannon), an open-loop
// fixed-rate latency probe, an SSE timing probe, held-open streams and a streamed upload.

import { spawn, spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Pool, request } from 'undici';

export interface Target {
  name: string;
  origin: string;
  /** Path of the chat endpoint on this target. */
  chatPath: string;
  /** Path of the upload endpoint on this target. */
  uploadPath: string;
}

export const HAS_WRK = spawnSync('wrk', ['-v'], { stdio: 'ignore' }).error === undefined;

export interface ThroughputResult {
  rps: number;
  requests: number;
  non2xx: number;
  errors: number;
  tool: 'wrk' | 'autocannon';
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const sortNum = (a: number[]) => a.sort((x, y) => x - y);

/** Closed loop: `connections` connections, each sending the next request when the last answers. */
export async function throughput(
  url: string,
  headers: Record<string, string>,
  body: string,
  connections: number,
  seconds: number,
  tmpDir: string,
): Promise<ThroughputResult> {
  if (HAS_WRK) return wrk(url, headers, body, connections, seconds, tmpDir);
  const r = await autocannon({ url, method: 'POST', headers, body, connections, duration: seconds, pipelining: 1, timeout: 10 });
  return { rps: r.requests.total / r.duration, requests: r.requests.total, non2xx: r.non2xx, errors: r.errors + r.timeouts, tool: 'autocannon' };
}

async function wrk(url: string, headers: Record<string, string>, body: string, connections: number, seconds: number, tmpDir: string): Promise<ThroughputResult> {
  const script = join(tmpDir, 'wrk-post.lua');
  const lua = [
    'wrk.method = "POST"',
    `wrk.body = ${JSON.stringify(body)}`,
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`),
  ].join('\n');
  writeFileSync(script, lua);
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn('wrk', ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--timeout', '10s', '-s', script, url]);
    let s = '';
    p.stdout.on('data', (d: Buffer) => (s += d.toString()));
    p.stderr.on('data', (d: Buffer) => (s += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`wrk exited ${code}: ${s}`))));
  });
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    errors,
    tool: 'wrk',
  };
}

export interface LatencyResult {
  /** Milliseconds, sorted. */
  samples: number[];
  errors: number;
  non2xx: number;
  /** Requests actually sent per second. */
  rate: number;
}

/**
 * Open loop, wrk2-style: requests are sent on a fixed schedule whether or not earlier ones have
 * answered, so a slow proxy cannot slow the generator down and hide its own latency (no
 * coordinated omission). Each latency is from the request's send to the last byte of its answer.
 */
export async function fixedRate(
  t: Target,
  headers: Record<string, string>,
  body: string,
  rate: number,
  seconds: number,
): Promise<LatencyResult> {
  const pool = new Pool(t.origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
  const samples: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  let sent = 0;
  const fire = () => {
    const t0 = performance.now();
    const p = pool
      .request({ path: t.chatPath, method: 'POST', headers, body })
      .then(async (r) => {
        await r.body.arrayBuffer();
        if (r.statusCode !== 200) non2xx++;
        else samples.push(performance.now() - t0);
      })
      .catch(() => {
        errors++;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        sent++;
        fire();
      }
      if (sent < total) setTimeout(tick, Math.max(0, Math.min(1, start + sent * interval - performance.now())));
      else resolve();
    };
    tick();
  });
  const sendSeconds = (performance.now() - start) / 1000;
  await Promise.all([...inflight]);
  await pool.close();
  return { samples: sortNum(samples), errors, non2xx, rate: sent / sendSeconds };
}

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
const STAMP = /"delta":\{"content":"tok(\d+) "\}\}\],"usage":null,"t":(\d+)\}/g;

export interface SseResult {
  /** Request sent → first byte of the body (the first event), ms, sorted. */
  ttfb: number[];
  /** Upstream's write of event i≥1 → its arrival at the client, ms, sorted. */
  chunk: number[];
  errors: number;
}

/** `streams` SSE chat streams, `concurrency` at a time; the upstream writes `chunks` events `intervalMs` apart. */
export async function sseProbe(
  t: Target,
  headers: Record<string, string>,
  body: string,
  streams: number,
  concurrency: number,
  chunks: number,
  intervalMs: number,
): Promise<SseResult> {
  const pool = new Pool(t.origin, { connections: concurrency, pipelining: 1 });
  const ttfb: number[] = [];
  const chunk: number[] = [];
  let errors = 0;
  let next = 0;
  const h = { ...headers, 'x-bench-chunks': String(chunks), 'x-bench-interval': String(intervalMs) };
  const one = async () => {
    const t0 = nowUs();
    const r = await pool.request({ path: t.chatPath, method: 'POST', headers: h, body });
    if (r.statusCode !== 200) {
      await r.body.dump();
      errors++;
      return;
    }
    let first = true;
    let text = '';
    for await (const c of r.body) {
      const at = nowUs();
      if (first) {
        first = false;
        ttfb.push((at - t0) / 1000);
      }
      text += (c as Buffer).toString('latin1');
      let m: RegExpExecArray | null;
      STAMP.lastIndex = 0;
      let consumed = 0;
      while ((m = STAMP.exec(text))) {
        if (m[1] !== '0') chunk.push((at - Number(m[2])) / 1000);
        consumed = STAMP.lastIndex;
      }
      text = text.slice(consumed);
    }
  };
  const worker = async () => {
    while (next < streams) {
      next++;
      try {
        await one();
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await pool.close();
  return { ttfb: sortNum(ttfb), chunk: sortNum(chunk), errors };
}

export interface OpenStreams {
  opened: number;
  failed: number;
  /** Ends the streams (via the upstream's /release) and waits for them to finish. */
  close(): Promise<void>;
}

/** Opens `n` SSE streams the upstream holds open after their first event; resolves once each has its first byte. */
export async function openStreams(t: Target, headers: Record<string, string>, body: string, n: number, releaseUrl: string, timeoutMs: number): Promise<OpenStreams> {
  const pool = new Pool(t.origin, { connections: n + 16, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: 0 });
  const h = { ...headers, 'x-bench-hold': '1' };
  let opened = 0;
  let failed = 0;
  const done: Promise<void>[] = [];
  const firsts: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    let gotFirst!: () => void;
    firsts.push(new Promise<void>((r) => (gotFirst = r)));
    done.push(
      (async () => {
        try {
          const r = await pool.request({ path: t.chatPath, method: 'POST', headers: h, body });
          let first = true;
          for await (const _ of r.body) {
            if (first) {
              first = false;
              if (r.statusCode === 200) opened++;
              else failed++;
              gotFirst();
            }
          }
        } catch {
          failed++;
        } finally {
          gotFirst();
        }
      })(),
    );
    // Open them in batches so the accept backlogs never overflow.
    if (i % 100 === 99) await Promise.race([Promise.all(firsts.slice(i - 99)), new Promise((r) => setTimeout(r, timeoutMs))]);
  }
  await Promise.race([Promise.all(firsts), new Promise((r) => setTimeout(r, timeoutMs))]);
  return {
    opened,
    failed,
    async close() {
      await request(releaseUrl).then((r) => r.body.dump());
      await Promise.race([Promise.all(done), new Promise((r) => setTimeout(r, 10_000))]);
      await pool.destroy();
    },
  };
}

/** A WAV header for 16-bit mono 16 kHz PCM with `dataBytes` of samples. */
function wavHeader(dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(16_000, 24);
  h.writeUInt32LE(32_000, 28); // bytes per second
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/**
 * Streams a transcription upload of `bytes` in all: multipart/form-data with `model` and a
 * `file` part holding a WAV (silence), generated as it is sent so the client holds 256 KB.
 * Resolves with what the upstream counted.
 */
export async function upload(t: Target, headers: Record<string, string>, bytes: number): Promise<{ status: number; received: number; seconds: number }> {
  const boundary = 'tollgatebenchboundary7MA4YWxkTrZu0gW';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
    'latin1',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  const dataBytes = bytes - head.length - 44 - tail.length;
  const block = Buffer.alloc(256 * 1024);
  async function* gen(): AsyncGenerator<Buffer> {
    yield Buffer.concat([head, wavHeader(dataBytes)]);
    let left = dataBytes;
    while (left > 0) {
      const n = Math.min(left, block.length);
      yield n === block.length ? block : block.subarray(0, n);
      left -= n;
    }
    yield tail;
  }
  const t0 = performance.now();
  const r = await request(t.origin + t.uploadPath, {
    method: 'POST',
    headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(bytes) },
    body: Readable.from(gen(), { objectMode: false }),
    headersTimeout: 300_000,
    bodyTimeout: 300_000,
  });
  const text = await r.body.text();
  let received = 0;
  try {
    received = Number((JSON.parse(text) as { bytes?: number }).bytes ?? 0);
  } catch {
    // an error body
  }
  return { status: r.statusCode, received, seconds: (performance.now() - t0) / 1000 };
}
