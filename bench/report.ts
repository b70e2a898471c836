// The benchmark's results (bench/results.json) and their Markdown table, with the issue's goals.

import { renderCluster } from './cluster.js';
import { renderHistory } from './history.js';

export interface Results {
  date: string;
  seconds?: number;
  machine: { nproc: number; cpu: string; node: string; kernel: string };
  options: { quick: boolean; workers: number; workersSeen: number; pinned: boolean; loadGenerator: string; loadAverage: [number, number]; logToFile?: boolean };
  throughput: Array<{
    connections: number;
    direct: number;
    baseline: number;
    tollgate: number;
    ratio: number;
    /** The bare node:http + undici forwarder (bench/floor.ts): the floor for a Node proxy. */
    floor?: number;
    /** Portkey's AI gateway (npm package, Node build, headless), same upstream: req/s. */
    portkey?: number;
    portkeyPackage?: string;
    /** CPU time the proxy process used per request (µs): capacity, whatever else the machine runs. */
    cpuUsPerRequest: Record<string, number>;
    runs: Record<string, number[]>;
    failed: Record<string, number>;
    /** During tollgate's runs: script calls Redis received, and the redis-server process's CPU, per request. */
    redis?: { scriptsPerRequest: number; usPerRequest: number };
  }>;
  latency: { rate: number; upstreamMs: number; seconds: number; reserveMs?: Record<string, number>; rows: Record<string, { p50: number; p90: number; p99: number; max: number; n: number; failed: number }> };
  sse: { streams: number; chunks: number; intervalMs: number; reserveMs?: Record<string, number>; rows: Record<string, { ttfbP50: number; ttfbP99: number; chunkP50: number; chunkP99: number; failed: number }> };
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
  /** The cluster phase (bench/cluster.ts). */
  cluster?: import('./cluster.js').ClusterResults;
  /** The history phase (bench/history.ts): Redis per request with the usage history on and off. */
  history?: import('./history.js').HistoryResults;
  /** The realtime phase (bench/realtime.ts). */
  realtime?: import('./realtime.js').RealtimeResults;
  redis: {
    requests: number;
    streamed: number;
    /** Commands tollgate sends per request (round trips; requests one at a time). */
    perRequest: number;
    perStream: number;
    /** Of those, the ledger's scripts (reserve, settle): the paid bench account (admitted locally). */
    ledgerPerRequest: number;
    ledgerPerStream: number;
    /** The ledger's scripts per request of a Free account (reserve + settle), `freeRequests` of them. */
    freeRequests: number;
    ledgerPerFreeRequest: number;
    byCommand: Record<string, number>;
    /** Of those, anything else: auth, stored-key and account-terms cache refreshes (TTL backstops). */
    otherPerRequest: number;
    /** Of those, authentication's (the key cache's refreshes). */
    authPerRequest: number;
    /** Every command Redis ran per request, those inside the Lua scripts included. */
    allPerRequest: number;
  };
}

const f = (n: number | undefined, d = 2) => (n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
/** A ratio to 2 places, or to 3 where 2 would round a miss up to the goal (0.998 is not 1.00). */
const ratioText = (r: number) => (r < 1 && f(r) === '1.00' ? f(r, 3) : f(r));
const plus = (n: number, d = 2) => `${n >= 0 ? '+' : '−'}${f(Math.abs(n), d)}`;
const mark = (ok: boolean) => (ok ? '✅' : '❌');

export function renderMarkdown(r: Results): string {
  const L: string[] = [];
  const lat = r.latency.rows;
  const sse = r.sse.rows;
  const dir = (name: string, k: 'p50' | 'p99') => (lat[name]?.[k] ?? NaN) - (lat.direct?.[k] ?? NaN);
  const sdir = (name: string, k: 'ttfbP50' | 'ttfbP99' | 'chunkP50' | 'chunkP99') => (sse[name]?.[k] ?? NaN) - (sse.direct?.[k] ?? NaN);
  const mem = r.memory.rows;

  const o = r.options;
  L.push(`### tollgate with ${o.workers} worker${o.workers > 1 ? 's' : ''}, ${o.pinned ? 'each proxy pinned to one CPU' : 'no CPU pinning'}${o.quick ? ' (quick run)' : ''}`);
  L.push('');
  L.push('| Measure | direct | http-proxy-3 | tollgate | tollgate ÷ or − http-proxy-3 | goal | met |');
  L.push('|---|---:|---:|---:|---:|---|:-:|');
  for (const t of r.throughput) {
    const bad = (t.failed.tollgate ?? 0) + (t.failed['http-proxy-3'] ?? 0);
    L.push(`| Throughput, chat JSON, ${t.connections} connections (req/s)${bad ? ` ⚠ ${bad} failed` : ''} | ${f(t.direct, 0)} | ${f(t.baseline, 0)} | ${f(t.tollgate, 0)} | **${ratioText(t.ratio)}×** | ≥ 1.00× | ${mark(t.ratio >= 1)} |`);
  }
  for (const t of r.throughput) {
    const b = t.cpuUsPerRequest['http-proxy-3'] ?? NaN;
    const g = t.cpuUsPerRequest.tollgate ?? NaN;
    L.push(`| Proxy CPU time per request, ${t.connections} connections (µs) | – | ${f(b, 0)} | ${f(g, 0)} | ${f(b / g)}× as efficient | – | |`);
  }
  for (const t of r.throughput) {
    const fl = t.cpuUsPerRequest['bare forwarder'];
    if (fl === undefined || t.floor === undefined) continue;
    L.push(`| Reference: bare node:http + undici forwarder, no auth or metering, ${t.connections} connections (req/s; µs CPU per request) | – | – | – | ${f(t.floor, 0)} req/s; ${f(fl, 0)} µs | – | |`);
  }
  for (const t of r.throughput) {
    if (t.portkey === undefined) continue;
    const x = t.tollgate / t.portkey;
    L.push(
      `| Throughput against Portkey's gateway (${t.portkeyPackage}, headless, same upstream), ${t.connections} connections (req/s; µs CPU per request) | – | – | ${f(t.portkey, 0)} req/s; ${f(t.cpuUsPerRequest.Portkey, 0)} µs | **${f(x, 1)}×** tollgate ÷ Portkey | ≥ 8× | ${mark(x >= 8)} |`,
    );
  }
  for (const t of r.throughput) {
    if (!t.redis) continue;
    L.push(`| Redis under that load, ${t.connections} connections: ledger script calls per request; redis-server CPU per request (µs) | – | – | ${f(t.redis.scriptsPerRequest, 3)}; ${f(t.redis.usPerRequest, 1)} µs | – | – | |`);
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
    `| RSS per open SSE stream, ${r.memory.streams.toLocaleString('en-US')} open (KB${r.options.workers > 1 ? ', all workers, no forced GC' : ''})${ts && ts.opened < r.memory.streams ? ` ⚠ only ${ts.opened} opened` : ''} | – | ${f(bs?.kbPerStream, 1)} | **${f(ts?.kbPerStream, 1)}** | ${plus((ts?.kbPerStream ?? NaN) - (bs?.kbPerStream ?? NaN), 1)} | ≤ 30 KB | ${mark((ts?.kbPerStream ?? Infinity) <= 30 && ts?.opened === r.memory.streams)} |`,
  );
  const bu = mem['http-proxy-3']?.upload;
  const tu = mem.tollgate?.upload;
  L.push(
    `| Peak RSS growth, ${r.memory.uploadMb} MB upload streamed through, ${r.memory.upload} (MB) | – | ${f(bu?.peakGrowthMb, 1)} | **${f(tu?.peakGrowthMb, 1)}** | ${plus((tu?.peakGrowthMb ?? NaN) - (bu?.peakGrowthMb ?? NaN), 1)} | < 64 MB | ${mark((tu?.peakGrowthMb ?? Infinity) < 64 && tu?.receivedMb === r.memory.uploadMb)} |`,
  );
  L.push(`| Upload speed (MB/s) | – | ${f(bu?.mbPerSecond, 0)} | ${f(tu?.mbPerSecond, 0)} | – | – | |`);
  L.push(
    `| Redis round trips per metered request, ledger: paid account, no spend limit (settle; admitted locally), JSON / SSE; Free account (reserve + settle), JSON | – | – | **${f(r.redis.ledgerPerRequest)} / ${f(r.redis.ledgerPerStream)}; Free ${f(r.redis.ledgerPerFreeRequest)}** | – | ≤ 2 | ${mark(r.redis.ledgerPerRequest <= 2 && r.redis.ledgerPerStream <= 2 && r.redis.ledgerPerFreeRequest <= 2)} |`,
  );
  L.push(`| Redis commands run per request, inside the Lua scripts included (requests one at a time; CPU under load: the rows above) | – | – | ${f(r.redis.allPerRequest)} | – | – | |`);
  L.push(
    `| Redis calls per request besides the ledger scripts: authentication (key cache refreshes); all (stored-key and account-terms cache refreshes too) | – | – | **${f(r.redis.authPerRequest, 3)}**; ${f(r.redis.otherPerRequest, 3)} | – | 0 for authentication in steady state | ${mark(r.redis.authPerRequest < 0.01)} |`,
  );
  L.push('');
  L.push(
    `Redis round trips per JSON request, by command: ${Object.entries(r.redis.byCommand)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none'} (${r.redis.requests} requests one at a time, then ${r.redis.streamed} streams and ${r.redis.freeRequests} requests of a Free account; MONITOR counts what tollgate sends, INFO commandstats everything Redis ran).`,
  );
  const lt = (x?: Record<string, number>) =>
    x?.settle === undefined ? '–' : `${x.reserve !== undefined ? `reserve ${f(x.reserve, 3)} ms` : 'no reserve (admitted locally)'}, settle ${f(x.settle, 3)} ms`;
  L.push('');
  L.push(`tollgate's own mean ledger round trip (its Prometheus histogram): ${lt(r.latency.reserveMs)} during the 500 req/s run; ${lt(r.sse.reserveMs)} during the SSE run.`);
  if (r.realtime) renderRealtime(L, r.realtime);
  if (r.history) L.push('', renderHistory(r.history));
  if (r.cluster) L.push('', renderCluster(r.cluster));
  L.push('');
  const m = r.machine;
  L.push(
    `Machine: ${m.nproc} CPUs, ${m.cpu}, Linux ${m.kernel}, Node ${m.node}. Load generator: ${r.options.loadGenerator}. ` +
      `${r.options.pinned ? 'Pinned: the proxy under test on CPU 0; load generator, upstream and redis-server on CPU 1.' : 'No CPU pinning.'} ` +
      `tollgate workers: ${r.options.workers}${r.options.workers > 1 ? ` (${r.options.workersSeen} child processes seen)` : ''}. ` +
      `tollgate's log output: ${r.options.logToFile ? 'written to a file by tollgate (--log-to-file)' : 'a pipe the bench copies to a file, as a container runtime collects it'}. ` +
      `Load average (1 min) before the bench started / at its end: ${r.options.loadAverage.map((x) => f(x)).join(' / ')}${r.options.loadAverage[0] > 1 ? ' ⚠ other work was running on the machine' : ''}. ` +
      `${r.options.quick ? 'Quick run. ' : ''}Run ${r.date}, ${r.seconds ?? '?'} s.`,
  );
  return L.join('\n');
}

/** The realtime phase's table: tollgate beside a plain `ws` relay (bench/realtime.ts). */
function renderRealtime(L: string[], rt: NonNullable<Results['realtime']>): void {
  const tp = rt.throughput.rows;
  const lat = rt.latency.rows;
  const mem = rt.memory.rows;
  const ratio = (tp.tollgate?.framesPerSecond ?? NaN) / (tp['ws relay']?.framesPerSecond ?? NaN);
  const add = (name: string, k: 'p50' | 'p99') => (lat[name]?.[k] ?? NaN) - (lat.direct?.[k] ?? NaN);
  L.push('');
  L.push(`Realtime sessions (Deepgram-style \`/v1/listen\`, binary ${rt.frameBytes.toLocaleString('en-US')}-byte frames, metered on a paid account, each answered by a text frame):`);
  L.push('');
  L.push('| Measure | direct | ws relay | tollgate | tollgate ÷ or − ws relay | goal | met |');
  L.push('|---|---:|---:|---:|---:|---|:-:|');
  L.push(`| Frames per second through one worker, ${rt.throughput.sessions} sessions × ${rt.throughput.inFlight} frames in flight | – | ${f(tp['ws relay']?.framesPerSecond, 0)} | ${f(tp.tollgate?.framesPerSecond, 0)} | **${f(ratio)}×** | ≥ 0.80× | ${mark(ratio >= 0.8)} |`);
  L.push(`| Proxy CPU time per frame (µs) | – | ${f(tp['ws relay']?.cpuUsPerFrame, 1)} | ${f(tp.tollgate?.cpuUsPerFrame, 1)} | – | – | |`);
  for (const k of ['p50', 'p99'] as const) {
    L.push(
      `| Frame round trip ${k} at ${rt.latency.framesPerSecond.toLocaleString('en-US')} frames/s over ${rt.latency.sessions} sessions (ms; added over direct) | ${f(lat.direct?.[k], 3)} | ${f(lat['ws relay']?.[k], 3)} (${plus(add('ws relay', k), 3)}) | ${f(lat.tollgate?.[k], 3)} (**${plus(add('tollgate', k), 3)}**) | ${plus(add('tollgate', k) - add('ws relay', k), 3)} | ${k === 'p50' ? '≤ +1 ms' : '–'} | ${k === 'p50' ? mark(add('tollgate', k) <= 1) : ''} |`,
    );
  }
  const mt = mem.tollgate;
  L.push(
    `| RSS per open session, ${rt.memory.sessions.toLocaleString('en-US')} open (KB; both sockets)${mt && mt.opened < rt.memory.sessions ? ` ⚠ only ${mt.opened} opened` : ''} | – | ${f(mem['ws relay']?.kbPerSession, 1)} | **${f(mt?.kbPerSession, 1)}** | ${plus((mt?.kbPerSession ?? NaN) - (mem['ws relay']?.kbPerSession ?? NaN), 1)} | ≤ 64 KB | ${mark((mt?.kbPerSession ?? Infinity) <= 64 && mt?.opened === rt.memory.sessions)} |`,
  );
}

/** The top of bench/RESULTS.md: what the figures are and how to get them again. */
export function renderHeader(): string {
  return [
    '# tollgate benchmark results',
    '',
    'Generated by `npm run bench` (bench/run.ts); every figure in a table comes from one run, tollgate and the',
    'baseline measured alternately in it. The baseline is a plain [http-proxy-3](https://github.com/sagemathinc/http-proxy-3)',
    'pass-through (no auth, no metering, keep-alive agent); "direct" is the upstream without a proxy. tollgate runs as',
    'deployed: `node dist/bin/tollgate.js serve`, Redis ledger, `logging.level: info` (one `settled` line per request),',
    'a paid-tier account, metered `gpt-4.1` chat against a local OpenAI-style upstream; its output goes through a pipe',
    'the bench copies to a file, as a container runtime collects it (`--log-to-file`: tollgate writes the file). The',
    'throughput phase also',
    "measures Portkey's AI gateway (`@portkey-ai/gateway`, its Node build, `--headless`; installed once into",
    'bench/.portkey, `--skip-portkey` leaves it out) and a bare node:http + undici forwarder (bench/floor.ts), the',
    'least a Node proxy can cost.',
    '',
    '## Reproduce',
    '',
    '```sh',
    'npm ci',
    'apt-get install -y wrk redis-server   # wrk optional (autocannon otherwise); redis-server required',
    'npm run bench                          # ~3 min; --quick for ~1 min',
    'npm run bench -- --workers 2           # tollgate on 2 cluster workers (no CPU pinning)',
    'npm run bench -- --profile             # also a CPU profile of tollgate, top self time printed',
    'npm run bench -- --md bench/RESULTS.md && npm run bench -- --workers 2 --md-append bench/RESULTS.md',
    'apt-get install -y valgrind && npm run bench:instructions -- --md-append bench/RESULTS.md   # ~5 min',
    '```',
    '',
    'Read the ratios, not the absolute figures: on a shared machine other work moves both proxies. "Proxy CPU time',
    'per request" (from /proc, per process tree) is the steadiest timed figure, and still moves about 10% between',
    'runs here; the load average printed under each table says how busy the machine was. `npm run bench:instructions`',
    'counts user-space instructions per request under callgrind instead (whatever else the machine does: the',
    'pass-through repeats within 2%, tollgate within 5%, 4% with `--concurrency 1`). Loopback only; Redis on',
    'a private port.',
    '',
  ].join('\n');
}
