// Prometheus metrics (prom-client), one registry per app: fed by the pipeline's ProxyEvents
// (the pipeline itself never imports prom-client) and read from the flusher's stats at scrape time.
// Under --workers the admin port answers with every worker's series summed (proxy/cluster.ts).

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { HotCounter, HotHistogram } from './hot-metrics.js';
import type { FlusherStats } from '../ledger/flusher.js';
import type { AlertDelivererStats } from '../ledger/alert-deliverer.js';
import type { AlertType } from '../ledger/alert-rules.js';
import type { ProxyEvents, SettledRecord } from './pipeline.js';
import type { RealtimeEvents } from './realtime/relay.js';

export interface Metrics {
  readonly registry: Registry;
  /** Hooks to pass to the pipeline. */
  readonly events: ProxyEvents;
  /** Hooks to pass to the realtime server. */
  readonly realtime: RealtimeEvents;
  /** Report the flusher's counters and lag (read at scrape time); call once. */
  watchFlusher(stats: () => FlusherStats): void;
  /** Report the alert deliverer (read at scrape time). */
  watchAlerts(stats: () => AlertDelivererStats): void;
  /** Report requests in flight (read at scrape time). */
  watchInFlight(count: () => number): void;
  /** Report the bytes of request bodies held before their reservation (read at scrape time). */
  watchBufferedBytes(held: () => number): void;
  /** A connection to the proxy port was closed at once: proxy.maxConnections were open. */
  connectionDropped(): void;
  /** The exposition text of this registry. */
  render(): Promise<string>;
  readonly contentType: string;
}

/** Codes the pipeline sends after it already settled the request (counted by `settled`). */
const SETTLED_FAILURES = new Set(['upstream_error', 'upstream_timeout']);
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const LEDGER_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new HotCounter({
    name: 'tollgate_requests_total',
    help: 'Data-plane requests by provider, modality and HTTP status (refusals before the provider have modality "none"; status 0: the client left before any answer)',
    labelNames: ['provider', 'modality', 'status'] as const,
    registers,
  });
  const rejected = new Counter({
    name: 'tollgate_rejected_total',
    help: 'Requests answered with a tollgate error, by provider and error code',
    labelNames: ['provider', 'code'] as const,
    registers,
  });
  // By code and the account's tier (4 tiers, `none` before a key is known): who is being refused.
  const refusals = new Counter({
    name: 'tollgate_refusals_total',
    help: 'Requests refused by tollgate (a tollgate error code), by code and account tier ("none": no valid key)',
    labelNames: ['code', 'tier'] as const,
    registers,
  });
  const credits = new HotCounter({
    name: 'tollgate_credits_total',
    help: 'Credits metered (1 credit = $0.001), by modality; the ledger charged this less tollgate_written_off_credits_total',
    labelNames: ['modality'] as const,
    registers,
  });
  const upstreamLatency = new HotHistogram({
    name: 'tollgate_upstream_latency_seconds',
    help: "Time from the request's arrival to the provider's response headers",
    labelNames: ['provider'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const ttfb = new HotHistogram({
    name: 'tollgate_stream_ttfb_seconds',
    help: "Streamed answers: time from the request's arrival to the first byte of the stream",
    labelNames: ['provider'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const openStreams = new Gauge({ name: 'tollgate_open_streams', help: 'Streamed answers in progress', labelNames: ['provider'] as const, registers });
  const ledgerSeconds = new HotHistogram({
    name: 'tollgate_ledger_script_seconds',
    help: 'Latency of the ledger calls on the request path (one Lua script each on Redis)',
    labelNames: ['op'] as const,
    buckets: LEDGER_BUCKETS,
    registers,
  });
  const ledgerErrors = new Counter({ name: 'tollgate_ledger_errors_total', help: 'Ledger calls on the request path that failed', labelNames: ['op'] as const, registers });
  const writtenOff = new Counter({
    name: 'tollgate_written_off_credits_total',
    help: 'Credits not charged because the account is capped (Free, or a spend limit): what the provider cost past the cap',
    labelNames: ['provider', 'modality'] as const,
    registers,
  });

  // Per-label children, resolved once per label value.
  const byLabel = <T>(make: (label: string) => T) => {
    const m = new Map<string, T>();
    return (label: string): T => {
      let c = m.get(label);
      if (!c) m.set(label, (c = make(label)));
      return c;
    };
  };
  const upstreamLatencyOf = byLabel((provider) => upstreamLatency.labels({ provider }));
  const ledgerSecondsOf = byLabel((op) => ledgerSeconds.labels({ op }));
  const creditsOf = byLabel((modality) => credits.labels({ modality }));
  const ttfbOf = byLabel((provider) => ttfb.labels({ provider }));
  const requestsOf = byLabel((k) => {
    const [provider, modality, status] = k.split('\t') as [string, string, string];
    return requests.labels({ provider, modality, status });
  });

  const sessionsOpen = new Gauge({ name: 'tollgate_realtime_sessions_open', help: 'Realtime (WebSocket) sessions open', labelNames: ['provider'] as const, registers });
  const sessionsEnded = new Counter({
    name: 'tollgate_realtime_sessions_total',
    help: 'Realtime sessions ended, by how (client_close, provider_close, client_gone, provider_gone, cut, idle, shutdown, error)',
    labelNames: ['provider', 'end'] as const,
    registers,
  });
  const rtFrames = new Counter({ name: 'tollgate_realtime_frames_total', help: 'WebSocket frames relayed, by direction (client: to the provider)', labelNames: ['provider', 'direction'] as const, registers });
  const rtBytes = new Counter({ name: 'tollgate_realtime_bytes_total', help: 'WebSocket payload bytes relayed, by direction', labelNames: ['provider', 'direction'] as const, registers });
  const rtCuts = new Counter({ name: 'tollgate_realtime_cutoffs_total', help: 'Sessions cut off (close 4402) when credits or the spend limit ran out', labelNames: ['provider', 'reason'] as const, registers });
  const realtime: RealtimeEvents = {
    sessionOpened: (provider) => sessionsOpen.inc({ provider }),
    sessionClosed(provider, end) {
      sessionsOpen.dec({ provider });
      sessionsEnded.inc({ provider, end });
    },
    frames(provider, direction, n, bytes) {
      rtFrames.inc({ provider, direction }, n);
      rtBytes.inc({ provider, direction }, bytes);
    },
    cut: (provider, reason) => rtCuts.inc({ provider, reason }),
  };

  const events: ProxyEvents = {
    settled(rec: SettledRecord) {
      // A session's interim settles charge credits; the session counts once, at its end.
      if (rec.session !== 'interim') requestsOf(`${rec.provider}\t${rec.modality}\t${rec.status}`).inc();
      creditsOf(rec.modality).inc(rec.microCredits / 1_000_000);
    },
    freeRequest(rec: SettledRecord) {
      requestsOf(`${rec.provider}\t${rec.modality}\t${rec.status}`).inc();
    },
    rejected(provider, code, status, tier) {
      rejected.inc({ provider, code });
      refusals.inc({ code, tier: tier ?? 'none' });
      if (!SETTLED_FAILURES.has(code)) requestsOf(`${provider}\tnone\t${status}`).inc();
    },
    upstreamHeaders(provider, _status, seconds) {
      upstreamLatencyOf(provider).observe(seconds);
    },
    firstByte(provider, seconds, stream) {
      if (stream) ttfbOf(provider).observe(seconds);
    },
    streamOpened(provider) {
      openStreams.inc({ provider });
    },
    streamClosed(provider) {
      openStreams.dec({ provider });
    },
    writtenOff(rec, microCredits) {
      writtenOff.inc({ provider: rec.provider, modality: rec.modality }, microCredits / 1_000_000);
    },
    ledgerCall(op, seconds, ok) {
      ledgerSecondsOf(op).observe(seconds);
      if (!ok) ledgerErrors.inc({ op });
    },
  };

  const dropped = new Counter({ name: 'tollgate_connections_dropped_total', help: 'Connections to the proxy port closed on arrival because proxy.maxConnections were open', registers });
  let buffered: (() => number) | undefined;
  new Gauge({
    name: 'tollgate_buffered_body_bytes',
    help: 'Bytes of request bodies held before their reservation (bounded by proxy.maxBufferedBytes)',
    registers,
    collect() {
      this.set(buffered?.() ?? 0);
    },
  });
  let inFlight: (() => number) | undefined;
  new Gauge({
    name: 'tollgate_requests_in_flight',
    help: 'Data-plane requests reserved and not yet settled',
    registers,
    collect() {
      this.set(inFlight?.() ?? 0);
    },
  });

  // Registered only when there is a flusher (stripe: configured), so no series says "0 lag"
  // for a flusher that does not exist. Cumulative counters in the flusher's stats are mirrored
  // into prom counters by their increase since the last scrape.
  function registerFlusher(stats: () => FlusherStats): void {
    const mirrored = (name: string, help: string, read: (s: FlusherStats) => number) => {
      let last = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const v = read(stats());
          if (v > last) this.inc(v - last);
          last = v;
        },
      });
    };
    mirrored('tollgate_flusher_runs_total', 'Overage flush runs', (s) => s.runs);
    mirrored('tollgate_flusher_failures_total', 'Overage flush failures (the batch stays in the outbox for the next run)', (s) => s.failures);
    mirrored('tollgate_flusher_retries_total', 'Retried sends of a meter event', (s) => s.retries);
    mirrored('tollgate_flusher_batches_total', 'Meter events Stripe accepted (delivered or duplicate)', (s) => s.batches);
    mirrored('tollgate_flusher_credits_reported_total', 'Overage credits reported to Stripe', (s) => s.credits);
    new Gauge({
      name: 'tollgate_flusher_lag_seconds',
      help: 'Seconds since the last flush run that finished with nothing failed (how far overage reporting may lag)',
      registers,
      aggregator: 'max',
      collect() {
        this.set(stats().lagMs / 1000);
      },
    });
  }

  function registerAlerts(stats: () => AlertDelivererStats): void {
    const byType = (name: string, help: string, read: (s: AlertDelivererStats) => Record<AlertType, number>) => {
      const last = new Map<string, number>();
      new Counter({
        name,
        help,
        labelNames: ['type'] as const,
        registers,
        collect() {
          for (const [type, v] of Object.entries(read(stats()))) {
            const was = last.get(type) ?? 0;
            if (v > was) this.inc({ type }, v - was);
            else if (!last.has(type)) this.inc({ type }, 0);
            last.set(type, v);
          }
        },
      });
    };
    byType('tollgate_alerts_sent_total', 'Alert events the webhook took (2xx), by type', (s) => s.sent);
    byType('tollgate_alerts_failures_total', 'Alert webhook sends that failed (non-2xx, timeout, network; each retry counts), by type', (s) => s.failed);
    new Gauge({
      name: 'tollgate_alerts_deferred',
      help: 'Alert events whose retries all failed, waiting for a later run (this process)',
      registers,
      collect() {
        this.set(stats().deferred);
      },
    });
  }

  return {
    registry,
    events,
    realtime,
    watchFlusher(stats) {
      registerFlusher(stats);
    },
    watchAlerts(stats) {
      registerAlerts(stats);
    },
    watchInFlight(count) {
      inFlight = count;
    },
    watchBufferedBytes(held) {
      buffered = held;
    },
    connectionDropped() {
      dropped.inc();
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

/** Calls every hook of `a`, then of `b` (tests pass their own events beside the metrics). */
export function combineEvents(a: ProxyEvents, b: ProxyEvents | undefined): ProxyEvents {
  if (!b) return a;
  const out: ProxyEvents = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof ProxyEvents>) {
    const fa = a[k] as ((...args: unknown[]) => void) | undefined;
    const fb = b[k] as ((...args: unknown[]) => void) | undefined;
    (out as Record<string, (...args: unknown[]) => void>)[k] = (...args: unknown[]) => {
      fa?.(...args);
      fb?.(...args);
    };
  }
  return out;
}
