// `npm run bench:instructions`: user-space instructions per request, counted by valgrind's
// callgrind, for tollgate (metered, Redis ledger), the plain http-proxy-3 pass-through and the
// bare forwarder, each driven by the same chat requests against the same instant upstream.
//
// Instructions are counted, not timed, so the figure barely moves with whatever else the
// machine is doing, where CPU time per request in `npm run bench` moves ±10% on this shared VM.
// Between runs here: the pass-through within 2%; tollgate within ±5% at 8 at a time (how
// many ledger calls share a batch depends on timing, and valgrind slows everything 50-fold),
// with --concurrency 1 within 1.3% while every settle went alone, and 4% since a paid account's
// settles wait up to 5 ms (openSettleDelayMs) and back-to-back requests share one by timing
// (611,680-653,865 in four runs of one build pair). Compare builds with --concurrency 1
// --requests 4000, several runs of each, for a change of more than a few percent.
// What it leaves out: kernel time (every proxy here makes the same 2 reads and 2 writevs per
// request) and waiting; it is a cost per request, not a throughput.
//
// Options: --requests N (measured, default 6000), --warm N (before, default 5000),
//          --concurrency N (default 8), --log-level L (tollgate's, default info),
//          --only LIST (of tollgate,http-proxy-3,floor), --md-append FILE (add the table to
//          a Markdown file, e.g. bench/RESULTS.md).
// Needs valgrind (apt-get install -y valgrind) and redis-server. About 1 minute per proxy.

import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { hasValgrind, startCallgrind } from './callgrind.js';
import { BENCH_KEY as KEY, benchConfig, forkBench, freePort, startRedis } from './procs.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '6000' },
    warm: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '8' },
    'log-level': { type: 'string', default: 'info' },
    only: { type: 'string', default: 'tollgate,http-proxy-3,floor' },
    'md-append': { type: 'string' },
  },
});
const N = Number(args.requests);
const WARM = Number(args.warm);
const C = Number(args.concurrency);
const DIST = fileURLToPath(new URL('../', import.meta.url));
const BODY = JSON.stringify({
  model: 'gpt-4.1',
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Say hello to the benchmark in one short sentence, please.' },
  ],
  max_tokens: 64,
});
const log = (s: string) => process.stderr.write(`${s}\n`);

async function drive(port: number, n: number): Promise<void> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: C });
  let left = n;
  let bad = 0;
  let firstBad = '';
  const worker = async () => {
    while (left-- > 0) {
      const r = await pool.request({ path: '/openai/v1/chat/completions', method: 'POST', body: BODY, headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` } });
      const text = await r.body.text();
      if (r.statusCode !== 200 && bad++ === 0) firstBad = `${r.statusCode} ${text.slice(0, 300)}`;
    }
  };
  await Promise.all(Array.from({ length: C }, worker));
  await pool.close();
  if (bad > 0) throw new Error(`${bad} of ${n} requests did not answer 200; the first: ${firstBad}`);
}

/** Runs `script args` under callgrind with instrumentation off, warms, counts N requests. */
async function count(name: string, script: string, scriptArgs: string[], port: number, env: NodeJS.ProcessEnv, dir: string): Promise<number> {
  const cg = await startCallgrind(name, script, scriptArgs, port, env, dir);
  try {
    await drive(port, WARM);
    cg.ctl('--instr=on');
    await drive(port, N);
    cg.ctl('--dump');
    cg.ctl('--instr=off');
    return cg.totals(1);
  } finally {
    cg.stop();
  }
}

async function main(): Promise<void> {
  if (!hasValgrind()) throw new Error('valgrind is not installed (apt-get install -y valgrind)');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-instr-'));
  const up = await forkBench('upstream', 'upstream.js', []);
  const redis = await startRedis(dir);
  const upUrl = `http://127.0.0.1:${up.port}`;
  const only = new Set(args.only.split(','));
  const rows: Array<[string, number]> = [];
  try {
    if (only.has('tollgate')) {
      const port = await freePort();
      const cfg = join(dir, 'tollgate.yaml');
      writeFileSync(cfg, benchConfig({ proxyPort: port, adminPort: await freePort(), redisUrl: redis.url, upstreamUrl: upUrl, logLevel: args['log-level'], workers: 1 }));
      log('tollgate under callgrind…');
      rows.push(['tollgate (metered, Redis ledger)', await count('tollgate', join(DIST, 'bin/tollgate.js'), ['serve', '--config', cfg], port, {}, dir)]);
    }
    for (const [name, file, label] of [
      ['http-proxy-3', 'baseline.js', 'http-proxy-3 pass-through'],
      ['floor', 'floor.js', 'bare node:http + undici forwarder'],
    ] as const) {
      if (!only.has(name)) continue;
      const port = await freePort();
      log(`${name} under callgrind…`);
      rows.push([label, await count(name, join(DIST, 'bench', file), [upUrl], port, { BENCH_PORT: String(port) }, dir)]);
    }
  } finally {
    await up.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = rows.find(([l]) => l.startsWith('http-proxy-3'))?.[1];
  const lines = [
    `### User-space instructions per request (callgrind)`,
    '',
    `\`npm run bench:instructions\`: ${N} chat requests after ${WARM} to warm up, ${C} at a time, against the instant upstream; tollgate with \`logging.level: ${args['log-level']}\`. Counted, not timed: between runs the pass-through moves up to 2%, tollgate up to ±5% at 8 at a time (the ledger's batches depend on timing) and 1.3% one at a time. Kernel time (the same 2 reads and 2 writevs a request for each proxy) is not counted.`,
    '',
    '| proxy | instructions per request | ÷ http-proxy-3 |',
    '|---|---:|---:|',
    ...rows.map(([label, total]) => `| ${label} | ${Math.round(total / N).toLocaleString('en-US')} | ${base ? `${(total / base).toFixed(2)}×` : '–'} |`),
    '',
  ];
  console.log(`\n${lines.join('\n')}`);
  if (args['md-append']) appendFileSync(args['md-append'], `\n${lines.join('\n')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
