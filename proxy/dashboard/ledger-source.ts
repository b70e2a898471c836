// The dashboard's HistorySource on the ledger's usage history (issue 22): the same reading and
// summing as GET /admin/accounts/:id/usage/history (in UTC, so every account's slots line up),
// the same receipts as /v1/usage/events, and the same burn rate as /v1/usage. Its AlertSource is
// ledger.firedAlerts, as GET /admin/accounts/:id/alerts.

import type { Ledger } from '../../ledger/types.js';
import { burn, historyCsv, readHistory, type HistoryQuery } from '../admin/usage-history.js';
import type { UsageBucket } from './charts.js';
import type { AlertSource, HistorySource } from './source.js';

export function ledgerHistorySource(ledger: Ledger, opts: { hourlyRetentionDays: number; now: () => number }): HistorySource {
  return {
    async buckets(accountId, q) {
      const account = await ledger.getAccount(accountId);
      const zone = account?.timeZone ?? 'UTC';
      const query: HistoryQuery = { granularity: q.granularity, tz: 'UTC', from: q.from, to: q.to, byModality: true, byModel: true, format: 'json' };
      const r = await readHistory(ledger, accountId, zone, query, { now: opts.now(), hourlyRetentionDays: opts.hourlyRetentionDays });
      return r.buckets
        .filter((b) => b.sum.requests > 0 || b.sum.micro !== 0)
        .map(
          (b): UsageBucket => ({
            start: b.start,
            micro: b.sum.micro,
            requests: b.sum.requests,
            groups: b.sum.groups.map((g) => ({ modality: g.modality, model: g.model, micro: g.micro, requests: g.requests, units: { ...g.units } as Record<string, number> })),
          }),
        );
    },
    async historyCsv(accountId, q) {
      const zone = (await ledger.getAccount(accountId))?.timeZone ?? 'UTC';
      const query: HistoryQuery = { granularity: 'day', tz: zone, from: q.from, to: q.to, byModality: true, byModel: true, format: 'csv' };
      return historyCsv(await readHistory(ledger, accountId, zone, query, { now: opts.now(), hourlyRetentionDays: opts.hourlyRetentionDays }));
    },
    async receipts(accountId, limit) {
      const page = await ledger.receipts(accountId, { limit });
      return page.receipts.map((r) => ({
        requestId: r.requestId,
        time: r.time,
        provider: r.provider,
        model: r.model,
        modality: r.modality,
        units: { ...r.units } as Record<string, number>,
        micro: r.micro,
        outcome: r.outcome,
        byok: r.byok,
        keyId: r.keyId,
      }));
    },
    async extras(accountId) {
      const u = await ledger.usage(accountId);
      const b = await burn(ledger, accountId, opts.now(), u);
      return { burnRateMicroPerDay: b.burnRateMicro, projectedExhaustion: b.exhaustsAt, lastRequest: u.lastRequestAt ?? null };
    },
  };
}

/** One read of each account's alert key (ledger.firedAlerts), all at once. */
export function ledgerAlertSource(ledger: Ledger): AlertSource {
  return {
    async firedThisPeriod(accountIds) {
      const lists = await Promise.all(accountIds.map((id) => ledger.firedAlerts(id)));
      return lists.flatMap((f, i) => f.alerts.map((a) => ({ accountId: accountIds[i]!, type: a.type, thresholdType: a.thresholdType, threshold: a.threshold, state: a.state, firedAt: a.firedAt })));
    },
  };
}
