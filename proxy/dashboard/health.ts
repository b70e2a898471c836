// Ledger and provider health for the operator's overview, from what already exists: the ledger's
// ping and health(), and the Prometheus text of /metrics (summed over workers under --workers),
// so the dashboard adds no counter of its own.

import type { Ledger } from '../../ledger/types.js';

export interface ProviderHealth {
  provider: string;
  requests: number;
  /** Answers with a 5xx status (the provider's or tollgate's gateway errors). */
  serverErrors: number;
  /** tollgate_rejected_total with upstream_error / upstream_timeout. */
  upstreamFailures: number;
}

/** Alert webhooks by event type (the alert deliverer's counters, when it runs). */
export interface AlertHealth {
  type: string;
  sent: number;
  failures: number;
}

export interface Health {
  ledger: { kind: string; reachable: boolean; ready: boolean; reason?: string; journaled: number };
  providers: ProviderHealth[];
  ledgerErrors: number;
  inFlight: number;
  /** Undefined when /metrics has no alert series (alerts not configured). */
  alerts?: { byType: AlertHealth[]; deferred: number };
}

const LINE = /^([a-z_]+)\{([^}]*)\} ([0-9.eE+-]+)$/;
const LABEL = /([a-z_]+)="((?:[^"\\]|\\.)*)"/g;

function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = LINE.exec(line);
    if (m && m[1] === name) {
      const labels: Record<string, string> = {};
      for (const l of m[2]!.matchAll(LABEL)) labels[l[1]!] = l[2]!;
      out.push({ labels, value: Number(m[3]) });
    } else if (line.startsWith(`${name} `)) out.push({ labels: {}, value: Number(line.slice(name.length + 1)) });
  }
  return out;
}

export function providerHealth(metricsText: string): Pick<Health, 'providers' | 'ledgerErrors' | 'inFlight' | 'alerts'> {
  const by = new Map<string, ProviderHealth>();
  const get = (p: string) => {
    let h = by.get(p);
    if (!h) by.set(p, (h = { provider: p, requests: 0, serverErrors: 0, upstreamFailures: 0 }));
    return h;
  };
  for (const s of samples(metricsText, 'tollgate_requests_total')) {
    const h = get(s.labels.provider ?? 'unknown');
    h.requests += s.value;
    if (/^5\d\d$/.test(s.labels.status ?? '')) h.serverErrors += s.value;
  }
  for (const s of samples(metricsText, 'tollgate_rejected_total')) {
    if (s.labels.code === 'upstream_error' || s.labels.code === 'upstream_timeout') get(s.labels.provider ?? 'unknown').upstreamFailures += s.value;
  }
  const ledgerErrors = samples(metricsText, 'tollgate_ledger_errors_total').reduce((n, s) => n + s.value, 0);
  const inFlight = samples(metricsText, 'tollgate_requests_in_flight').reduce((n, s) => n + s.value, 0);
  const sent = samples(metricsText, 'tollgate_alerts_sent_total');
  const failed = samples(metricsText, 'tollgate_alerts_failures_total');
  const deferred = samples(metricsText, 'tollgate_alerts_deferred');
  let alerts: Health['alerts'];
  if (sent.length || failed.length || deferred.length) {
    const types = new Map<string, AlertHealth>();
    const type = (t: string) => {
      let a = types.get(t);
      if (!a) types.set(t, (a = { type: t, sent: 0, failures: 0 }));
      return a;
    };
    for (const x of sent) type(x.labels.type ?? 'unknown').sent += x.value;
    for (const x of failed) type(x.labels.type ?? 'unknown').failures += x.value;
    alerts = { byType: [...types.values()].sort((a, b) => a.type.localeCompare(b.type)), deferred: deferred.reduce((n, x) => n + x.value, 0) };
  }
  return { providers: [...by.values()].sort((a, b) => a.provider.localeCompare(b.provider)), ledgerErrors, inFlight, ...(alerts ? { alerts } : {}) };
}

export async function readHealth(ledger: Ledger, metricsText: () => Promise<string>): Promise<Health> {
  const reachable = await ledger.ping().catch(() => false);
  const h = ledger.health?.();
  const text = await metricsText().catch(() => '');
  return {
    ledger: { kind: ledger.kind, reachable, ready: reachable && (h?.ready ?? true), ...(h?.reason ? { reason: h.reason } : {}), journaled: h?.journaled ?? 0 },
    ...providerHealth(text),
  };
}
