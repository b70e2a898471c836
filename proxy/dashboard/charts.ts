// Chart data from history buckets: one series per modality or model (the biggest few, the rest
// folded into "other"), every slot of the window present (zero when idle), amounts in µcr.

export interface UsageGroup {
  modality: string;
  model: string;
  micro: number;
  requests: number;
  units: Record<string, number>;
}

export interface UsageBucket {
  /** ms */
  start: number;
  micro: number;
  requests: number;
  groups: UsageGroup[];
}

export interface ChartSeries {
  label: string;
  /** µcr per slot */
  micro: number[];
}

export interface ChartSpec {
  id: string;
  title: string;
  /** How the table labels a slot. */
  slotLabel: 'Day' | 'Hour';
  kind: 'bars' | 'lines';
  /** Slot starts, ms. */
  slots: number[];
  series: ChartSeries[];
}

export const MODALITY_ORDER = ['llm', 'tts', 'stt', 'rag'];
/** Series past this many fold into "other" (the palette has eight colours). */
const MAX_SERIES = 7;

export function slotsOf(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let s = from; s < to; s += step) out.push(s);
  return out;
}

/** Credits per slot, stacked by `by`; buckets outside the slots are ignored. */
export function stackedChart(opts: { id: string; title: string; slotLabel: ChartSpec['slotLabel']; kind: ChartSpec['kind']; slots: number[]; buckets: UsageBucket[]; by: 'modality' | 'model' }): ChartSpec {
  const index = new Map(opts.slots.map((s, i) => [s, i]));
  const totals = new Map<string, number>();
  const rows = new Map<string, number[]>();
  for (const b of opts.buckets) {
    const i = index.get(b.start);
    if (i === undefined) continue;
    for (const g of b.groups) {
      const key = g[opts.by] || 'unknown';
      let row = rows.get(key);
      if (!row) rows.set(key, (row = opts.slots.map(() => 0)));
      row[i]! += g.micro;
      totals.set(key, (totals.get(key) ?? 0) + g.micro);
    }
  }
  const keys = [...rows.keys()];
  if (opts.by === 'modality') keys.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  else keys.sort((a, b) => totals.get(b)! - totals.get(a)! || a.localeCompare(b));
  let series = keys.map((k) => ({ label: k, micro: rows.get(k)! }));
  if (series.length > MAX_SERIES) {
    const rest = series.slice(MAX_SERIES - 1);
    const other = opts.slots.map((_, i) => rest.reduce((n, s) => n + s.micro[i]!, 0));
    series = [...series.slice(0, MAX_SERIES - 1), { label: 'other', micro: other }];
  }
  return { id: opts.id, title: opts.title, slotLabel: opts.slotLabel, kind: opts.kind, slots: opts.slots, series };
}

const rank = (m: string) => {
  const i = MODALITY_ORDER.indexOf(m);
  return i < 0 ? MODALITY_ORDER.length : i;
};

export interface ModelTotal {
  model: string;
  modality: string;
  micro: number;
  requests: number;
  units: Record<string, number>;
}

/** Models by credits over the buckets (ties by name), units summed. */
export function topModels(buckets: UsageBucket[], limit = 10): ModelTotal[] {
  const by = new Map<string, ModelTotal>();
  for (const b of buckets) {
    for (const g of b.groups) {
      const key = `${g.modality}\u0000${g.model}`;
      let m = by.get(key);
      if (!m) by.set(key, (m = { model: g.model, modality: g.modality, micro: 0, requests: 0, units: {} }));
      m.micro += g.micro;
      m.requests += g.requests;
      for (const [u, n] of Object.entries(g.units)) m.units[u] = (m.units[u] ?? 0) + n;
    }
  }
  return [...by.values()].sort((a, b) => b.micro - a.micro || b.requests - a.requests || a.model.localeCompare(b.model)).slice(0, limit);
}

/** Sums buckets of several accounts slot by slot (the operator's totals). */
export function mergeBuckets(lists: UsageBucket[][]): UsageBucket[] {
  const by = new Map<number, UsageBucket>();
  for (const list of lists) {
    for (const b of list) {
      let m = by.get(b.start);
      if (!m) by.set(b.start, (m = { start: b.start, micro: 0, requests: 0, groups: [] }));
      m.micro += b.micro;
      m.requests += b.requests;
      for (const g of b.groups) {
        const same = m.groups.find((x) => x.modality === g.modality && x.model === g.model);
        if (!same) m.groups.push({ ...g, units: { ...g.units } });
        else {
          same.micro += g.micro;
          same.requests += g.requests;
          for (const [u, n] of Object.entries(g.units)) same.units[u] = (same.units[u] ?? 0) + n;
        }
      }
    }
  }
  return [...by.values()].sort((a, b) => a.start - b.start);
}
