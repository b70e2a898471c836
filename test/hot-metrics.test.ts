// The request path's histograms and counters (proxy/hot-metrics.ts) write exactly what
// prom-client's own Histogram and Counter write for the same updates: the /metrics text, and
// the sums of several workers through AggregatorRegistry.

import t from 'tap';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from '../proxy/hot-metrics.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];
const OBSERVED: Array<[string, number]> = [
  ['reserve', 0.0004],
  ['reserve', 0.0005], // on a bound: counted in it (le is "less or equal")
  ['settle', 0.003],
  ['reserve', 0.07],
  ['settle', 7], // above every bound: only +Inf, sum and count
  ['reserve', 0.001],
];
const INCS: Array<[Record<string, string>, number]> = [
  [{ provider: 'openai', status: '200' }, 1],
  [{ provider: 'openai', status: '200' }, 1],
  [{ provider: 'groq', status: '429' }, 1],
  [{ provider: 'openai', status: '200' }, 0.25],
];

function fill(kind: 'prom' | 'hot', scale = 1): Registry {
  const registry = new Registry();
  const h = { name: 'x_seconds', help: 'latency', labelNames: ['op'] as const, buckets: BUCKETS, registers: [registry] };
  const c = { name: 'x_total', help: 'requests "quoted" \\ help', labelNames: ['provider', 'status'] as const, registers: [registry] };
  if (kind === 'prom') {
    const hist = new Histogram(h);
    const count = new Counter(c);
    for (const [op, v] of OBSERVED) hist.observe({ op }, v * scale);
    for (const [labels, by] of INCS) count.inc(labels, by * scale);
  } else {
    const hist = new HotHistogram(h);
    const count = new HotCounter(c);
    for (const [op, v] of OBSERVED) hist.labels({ op }).observe(v * scale);
    for (const [labels, by] of INCS) count.labels(labels).inc(by * scale);
  }
  return registry;
}

t.test('the /metrics text is byte for byte prom-client’s', async (t) => {
  const prom = await fill('prom').metrics();
  const hot = await fill('hot').metrics();
  t.equal(hot, prom);
  t.match(hot, /^x_seconds_bucket\{le="0.0005",op="reserve"\} 2$/m, 'a value on a bound counts in that bucket');
  t.match(hot, /^x_seconds_bucket\{le="\+Inf",op="settle"\} 2$/m);
  t.match(hot, /^x_seconds_bucket\{le="0.1",op="settle"\} 1$/m, '7 s is above every bound');
  t.match(hot, /^x_seconds_count\{op="reserve"\} 4$/m);
  t.match(hot, /^x_total\{provider="openai",status="200"\} 2.25$/m);
});

t.test('summed over workers as prom-client sums its own', async (t) => {
  const workers = async (kind: 'prom' | 'hot') =>
    AggregatorRegistry.aggregate([await fill(kind, 1).getMetricsAsJSON(), await fill(kind, 2).getMetricsAsJSON()] as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
  const hot = await workers('hot');
  t.equal(hot, await workers('prom'));
  t.match(hot, /^x_seconds_count\{op="reserve"\} 8$/m);
  t.match(hot, /^x_total\{provider="groq",status="429"\} 3$/m, '1 + 2');
});

t.test('reset empties every series; a label left out is an error; a counter only goes up', async (t) => {
  const registry = new Registry();
  const hist = new HotHistogram({ name: 'y_seconds', help: 'h', labelNames: ['op'], buckets: [1], registers: [registry] });
  const count = new HotCounter({ name: 'y_total', help: 'c', labelNames: ['op'], registers: [registry] });
  hist.labels({ op: 'a' }).observe(0.5);
  hist.labels({ op: 'a' }).observe(Number.NaN);
  count.labels({ op: 'a' }).inc();
  t.match(await registry.metrics(), /^y_seconds_count\{op="a"\} 1$/m, 'NaN is not observed');
  registry.resetMetrics();
  t.equal(await registry.metrics(), '# HELP y_seconds h\n# TYPE y_seconds histogram\n\n# HELP y_total c\n# TYPE y_total counter\n');
  t.throws(() => hist.labels({}), /label "op" is missing/);
  t.throws(() => count.labels({ op: 'a' }).inc(-1), /only goes up/);
  t.equal(count.labels({ op: 'a' }), count.labels({ op: 'a' }), 'one child per label set');
});
