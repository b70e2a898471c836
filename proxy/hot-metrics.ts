// The metrics updated on every request (upstream and ledger latency, requests, credits), kept as
// plain numbers per label set and exported in prom-client's metric format.
//
// prom-client's Histogram and Counter hash a labels object on every update, children included
// (2.7% of the proxy's CPU in the bench profile, for five updates a request). These keep one
// child per label set, found once by the caller, and update it with a few number writes. They
// register on the same prom-client Registry, so /metrics text, the default metrics and the
// cluster aggregation (AggregatorRegistry over getMetricsAsJSON) are prom-client's, unchanged.

import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A metric with one child per label set; children are made on first use. */
abstract class Labelled<C> {
  private readonly children = new Map<string, { labels: Labels; child: C }>();
  abstract readonly type: 'histogram' | 'counter';
  readonly aggregator = 'sum' as const;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    registers: readonly Registry[],
  ) {
    for (const r of registers) r.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  protected abstract make(): C;
  protected abstract export(labels: Labels, child: C, out: MetricValue[]): void;

  /** The child for a label set (every label name, as in prom-client's `labels()`). */
  labels(labels: Labels): C {
    let key = '';
    for (const n of this.labelNames) {
      const v = labels[n];
      if (typeof v !== 'string') throw new Error(`${this.name}: label "${n}" is missing`);
      key += `${v}\u0000`;
    }
    let e = this.children.get(key);
    if (!e) {
      const own: Labels = {};
      for (const n of this.labelNames) own[n] = labels[n]!;
      this.children.set(key, (e = { labels: own, child: this.make() }));
    }
    return e.child;
  }

  /** prom-client's metric object (what Registry and AggregatorRegistry read). */
  async get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: 'sum' }> {
    const values: MetricValue[] = [];
    for (const { labels, child } of this.children.values()) this.export(labels, child, values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.children.clear();
  }
}

export class HistogramChild {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class HotHistogram extends Labelled<HistogramChild> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];

  constructor(o: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[]; registers: readonly Registry[] }) {
    super(o.name, o.help, o.labelNames, o.registers);
    this.bounds = [...o.buckets].sort((a, b) => a - b);
  }

  protected make(): HistogramChild {
    return new HistogramChild(this.bounds);
  }

  // As prom-client writes a histogram: cumulative buckets with `le` first, +Inf, sum, count.
  protected export(labels: Labels, c: HistogramChild, out: MetricValue[]): void {
    const bucket = `${this.name}_bucket`;
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += c.counts[i]!;
      out.push({ labels: { le: this.bounds[i]!, ...labels }, value: acc, metricName: bucket });
    }
    out.push({ labels: { le: '+Inf', ...labels }, value: c.count, metricName: bucket });
    out.push({ labels: { ...labels }, value: c.sum, metricName: `${this.name}_sum` });
    out.push({ labels: { ...labels }, value: c.count, metricName: `${this.name}_count` });
  }
}

export class CounterChild {
  value = 0;

  inc(by = 1): void {
    if (!(by >= 0) || !Number.isFinite(by)) throw new Error(`a counter only goes up (by ${by})`);
    this.value += by;
  }
}

export class HotCounter extends Labelled<CounterChild> {
  readonly type = 'counter';

  constructor(o: { name: string; help: string; labelNames: readonly string[]; registers: readonly Registry[] }) {
    super(o.name, o.help, o.labelNames, o.registers);
  }

  protected make(): CounterChild {
    return new CounterChild();
  }

  protected export(labels: Labels, c: CounterChild, out: MetricValue[]): void {
    out.push({ labels: { ...labels }, value: c.value });
  }
}
