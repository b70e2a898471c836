// The benchmark's results (bench/results.json) and their Markdown table, with the issue's goals.

export interface Results {
  date: string;
  seconds?: number;
  machine: { nproc: number; cpu: string; node: string; kernel: string };
  options: { quick: boolean; workers: number; workersSeen: number; pinned: boolean; loadGenerator: string; loadAverage: [number, number] };
  throughput: Array<{
    connections: number;
    direct: number;
    baseline: number;
    tollgate: number;
    ratio: number;
    /** CPU time the proxy process used per request (µs): capacity, whatever else the machine runs. */
    cpuUsPerRequest: Record<string, number>;
    runs: Record<string, number[]>;
    failed: Record<string, number>;
  }>;
  latency: { rate: number; upstreamMs: number; seconds: number; rows: Record<string, { p50: number; p90: number; p99: number; max: number; n: number; failed: number }> };
  sse: { streams: number; chunks: number; intervalMs: number; rows: Record<string, { ttfbP50: number; ttfbP99: number; chunkP50: number; chunkP99: number; failed: number }> };
  memory: {
    streams: number;
    uploadMb: number;
    /** What the upload was: metered STT, or a BYOK pass-through. */
    upload: string;
    rows: Record<
      string,
      {
        streams?: { opened: number; failed: number; rssBeforeMb: number; rssOpenMb: number; kbPerStream: number };
        upload?: { status: number; receivedMb: number; seconds: number; mbPerSecond: number; rssBeforeMb: number; peakGrowthMb: number; sttCredits?: number };
      }
    >;
  };
  redis: {
    requests: number;
    streamed: number;
    /** Commands tollgate sends per request (round trips; requests one at a time). */
    perRequest: number;
    perStream: number;
    byCommand: Record<string, number>;
    authLookupsPerRequest: number;
    /** Every command Redis ran per request, those inside the Lua scripts included. */
    allPerRequest: number;
  };
}

const f = (n: number | undefined, d = 2) => (n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const plus = (n: number, d = 2) => `${n >= 0 ? '+' : '−'}${f(Math.abs(n), d)}`;
const mark = (ok: boolean) => (ok ? '✅' : '❌');

export function renderMarkdown(r: Results): string {
  const L: string[] = [];
  const lat = r.latency.rows;
  const sse = r.sse.rows;
  const dir = (name: string, k: 'p50' | 'p99') => (lat[name]?.[k] ?? NaN) - (lat.direct?.[k] ?? NaN);
  const sdir = (name: string, k: 'ttfbP50' | 'ttfbP99' | 'chunkP50' | 'chunkP99') => (sse[name]?.[k] ?? NaN) - (sse.direct?.[k] ?? NaN);
  const mem = r.memory.rows;

  L.push('| Measure | direct | http-proxy-3 | tollgate | tollgate ÷ or − http-proxy-3 | goal | met |');
  L.push('|---|---:|---:|---:|---:|---|:-:|');
  for (const t of r.throughput) {
    const bad = (t.failed.tollgate ?? 0) + (t.failed['http-proxy-3'] ?? 0);
    L.push(`| Throughput, chat JSON, ${t.connections} connections (req/s)${bad ? ` ⚠ ${bad} failed` : ''} | ${f(t.direct, 0)} | ${f(t.baseline, 0)} | ${f(t.tollgate, 0)} | **${f(t.ratio)}×** | ≥ 1.00× | ${mark(t.ratio >= 1)} |`);
  }
  for (const t of r.throughput) {
    const b = t.cpuUsPerRequest['http-proxy-3'] ?? NaN;
    const g = t.cpuUsPerRequest.tollgate ?? NaN;
    L.push(`| Proxy CPU time per request, ${t.connections} connections (µs) | – | ${f(b, 0)} | ${f(g, 0)} | ${f(b / g)}× as efficient | – | |`);
  }
  for (const k of ['p50', 'p99'] as const) {
    const goal = k === 'p50' ? 1 : 5;
    L.push(
      `| Latency ${k} at ${r.latency.rate} req/s, ${r.latency.upstreamMs} ms upstream (ms; added over direct) | ${f(lat.direct?.[k])} | ${f(lat['http-proxy-3']?.[k])} (${plus(dir('http-proxy-3', k))}) | ${f(lat.tollgate?.[k])} (**${plus(dir('tollgate', k))}**) | ${plus(dir('tollgate', k) - dir('http-proxy-3', k))} | ≤ +${goal} ms | ${mark(dir('tollgate', k) <= goal)} |`,
    );
  }
  const sseRow = (label: string, k: 'ttfbP50' | 'ttfbP99' | 'chunkP50' | 'chunkP99', goal?: number) =>
    L.push(
      `| ${label} (ms; added over direct) | ${f(sse.direct?.[k], 3)} | ${f(sse['http-proxy-3']?.[k], 3)} (${plus(sdir('http-proxy-3', k), 3)}) | ${f(sse.tollgate?.[k], 3)} (**${plus(sdir('tollgate', k), 3)}**) | ${plus(sdir('tollgate', k) - sdir('http-proxy-3', k), 3)} | ${goal !== undefined ? `≤ +${goal} ms` : '–'} | ${goal !== undefined ? mark(sdir('tollgate', k) <= goal) : ''} |`,
    );
  sseRow('SSE time to first byte p50', 'ttfbP50', 1);
  sseRow('SSE time to first byte p99', 'ttfbP99');
  sseRow('SSE per-chunk delivery p50', 'chunkP50');
  sseRow('SSE per-chunk delivery p99', 'chunkP99');
  const bs = mem['http-proxy-3']?.streams;
  const ts = mem.tollgate?.streams;
  L.push(
    `| RSS per open SSE stream, ${r.memory.streams.toLocaleString('en-US')} open (KB)${ts && ts.opened < r.memory.streams ? ` ⚠ only ${ts.opened} opened` : ''} | – | ${f(bs?.kbPerStream, 1)} | **${f(ts?.kbPerStream, 1)}** | ${plus((ts?.kbPerStream ?? NaN) - (bs?.kbPerStream ?? NaN), 1)} | ≤ 30 KB | ${mark((ts?.kbPerStream ?? Infinity) <= 30 && ts?.opened === r.memory.streams)} |`,
  );
  const bu = mem['http-proxy-3']?.upload;
  const tu = mem.tollgate?.upload;
  L.push(
    `| Peak RSS growth, ${r.memory.uploadMb} MB upload streamed through, ${r.memory.upload} (MB) | – | ${f(bu?.peakGrowthMb, 1)} | **${f(tu?.peakGrowthMb, 1)}** | ${plus((tu?.peakGrowthMb ?? NaN) - (bu?.peakGrowthMb ?? NaN), 1)} | < 64 MB | ${mark((tu?.peakGrowthMb ?? Infinity) < 64 && tu?.receivedMb === r.memory.uploadMb)} |`,
  );
  L.push(`| Upload speed (MB/s) | – | ${f(bu?.mbPerSecond, 0)} | ${f(tu?.mbPerSecond, 0)} | – | – | |`);
  L.push(
    `| Redis commands per metered request: JSON / SSE | – | – | **${f(r.redis.perRequest)} / ${f(r.redis.perStream)}** | – | ≤ 2 | ${mark(r.redis.perRequest <= 2 && r.redis.perStream <= 2)} |`,
  );
  L.push(`| Redis commands run per request, inside the Lua scripts included | – | – | ${f(r.redis.allPerRequest)} | – | – | |`);
  L.push(`| Redis auth lookups per request (steady state) | – | – | **${f(r.redis.authLookupsPerRequest, 3)}** | – | 0 | ${mark(r.redis.authLookupsPerRequest < 0.01)} |`);
  L.push('');
  L.push(
    `Redis round trips per JSON request, by command: ${Object.entries(r.redis.byCommand)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none'} (${r.redis.requests} requests one at a time, then ${r.redis.streamed} streams; MONITOR counts what tollgate sends, INFO commandstats everything Redis ran).`,
  );
  L.push('');
  const m = r.machine;
  L.push(
    `Machine: ${m.nproc} CPUs, ${m.cpu}, Linux ${m.kernel}, Node ${m.node}. Load generator: ${r.options.loadGenerator}. ` +
      `${r.options.pinned ? 'Pinned: the proxy under test on CPU 0; load generator, upstream and redis-server on CPU 1.' : 'No CPU pinning.'} ` +
      `tollgate workers: ${r.options.workers}${r.options.workers > 1 ? ` (${r.options.workersSeen} child processes seen)` : ''}. ` +
      `Load average (1 min) at start / end: ${r.options.loadAverage.map((x) => f(x)).join(' / ')}${Math.max(...r.options.loadAverage) > 1.5 ? ' ⚠ other work was running on the machine' : ''}. ` +
      `${r.options.quick ? 'Quick run. ' : ''}Run ${r.date}, ${r.seconds ?? '?'} s.`,
  );
  return L.join('\n');
}
