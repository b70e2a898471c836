// GET /v1/usage: the seed's shape (credits, breakdown, requestCount) plus period, overage,
// carryover, byok, burnRate and projectedExhaustion. Credits are decimal numbers exact to 6
// places (µcr / 1e6). Also the usage history and receipts, for the customer (their key) and the
// operator (admin token):
//   GET /v1/usage/history?from&to&granularity&groupBy&tz&format   GET /v1/usage/events?limit&cursor
//   GET /admin/accounts/:id/usage/history?...                       GET /admin/accounts/:id/usage/events?...

import type { Modality } from '../../pricing/types.js';
import type { Clock, Ledger, UsageSnapshot, UsageUnits } from '../../ledger/types.js';
import { DEFAULT_HOURLY_RETENTION_DAYS, type Receipt } from '../../ledger/usage-history.js';
import { AdminHttpError, type AdminContext, type AdminRouter } from './router.js';
import { burn, historyCsv, historyJson, parseHistoryQuery, readHistory } from './usage-history.js';

/** Receipts per page at most (GET /v1/usage/events). */
export const MAX_RECEIPTS_PAGE = 1000;

const credits = (micro: number): number => micro / 1_000_000;

function byokUsage(units: UsageUnits): Record<string, number> {
  const out: Record<string, number> = {};
  if (units.chars) out.characters = units.chars;
  if (units.audioMs) out.seconds = units.audioMs / 1000;
  if (units.inputTokens) out.inputTokens = units.inputTokens;
  if (units.outputTokens) out.outputTokens = units.outputTokens;
  if (units.cacheReadTokens) out.cacheReadTokens = units.cacheReadTokens;
  if (units.cacheWriteTokens) out.cacheWriteTokens = units.cacheWriteTokens;
  if (units.queries) out.queries = units.queries;
  return out;
}

export function usageBody(u: UsageSnapshot): Record<string, unknown> {
  const breakdown = {} as Record<Modality, number>;
  const byok = {} as Record<Modality, Record<string, number>>;
  for (const m of ['tts', 'stt', 'llm', 'rag'] as const) {
    breakdown[m] = credits(u.breakdownMicro[m] ?? 0);
    byok[m] = byokUsage(u.byok.units[m] ?? {});
  }
  return {
    credits: { used: credits(u.usedMicro), limit: credits(u.limitMicro), remaining: credits(u.remainingMicro) },
    breakdown,
    requestCount: u.requestCount,
    tier: u.tier,
    period: { start: new Date(u.period.start).toISOString(), end: new Date(u.period.end).toISOString() },
    included: credits(u.includedMicro),
    overage: credits(u.overageMicro),
    reserved: credits(u.reservedMicro),
    carryover: {
      credits: credits(u.carryoverMicro),
      buckets: u.carryover.map((b) => ({ credits: credits(b.remainingMicro), fromPeriodStart: new Date(b.fromPeriodStart).toISOString(), expiresAt: new Date(b.expiresAt).toISOString() })),
    },
    byok: { requestCount: u.byok.requestCount, usage: byok },
  };
}

export function receiptView(r: Receipt): Record<string, unknown> {
  return {
    requestId: r.requestId,
    time: new Date(r.time).toISOString(),
    provider: r.provider,
    model: r.model,
    modality: r.modality,
    units: r.units,
    credits: credits(r.micro),
    outcome: r.outcome,
    byok: r.byok,
    keyId: r.keyId,
  };
}

export interface UsageRouteDeps {
  clock: Clock;
  /** history.hourlyRetentionDays: how far back hourly buckets go. */
  hourlyRetentionDays?: number;
  /** history.enabled: false answers the history and receipts routes 404 history_disabled. */
  historyEnabled?: boolean;
}

export function registerUsageRoutes(router: AdminRouter, ledger: Ledger, deps: UsageRouteDeps): void {
  const { clock } = deps;
  const hourlyRetentionDays = deps.hourlyRetentionDays ?? DEFAULT_HOURLY_RETENTION_DAYS;

  router.add('GET', '/v1/usage', 'customer', async (ctx) => {
    const u = await ledger.usage(ctx.accountId);
    const b = await burn(ledger, ctx.accountId, clock.now(), u);
    return { body: { ...usageBody(u), burnRate: credits(b.burnRateMicro), projectedExhaustion: b.exhaustsAt === null ? null : new Date(b.exhaustsAt).toISOString() } };
  });

  const off = () => {
    if (deps.historyEnabled === false) throw new AdminHttpError(404, 'history_disabled', 'usage history and receipts are off on this tollgate (config history.enabled: false)');
  };
  const history = async (ctx: AdminContext, accountId: string) => {
    off();
    const account = await ledger.getAccount(accountId);
    if (!account) throw new AdminHttpError(404, 'unknown_account', `no account "${accountId}"`);
    const zone = account.timeZone ?? 'UTC';
    const p = ctx.url.searchParams;
    // The current period is the default range: read only when a bound is missing.
    const period = p.has('from') && p.has('to') ? { start: 0, end: 0 } : (await ledger.usage(accountId)).period;
    const q = parseHistoryQuery(p, zone, period);
    const now = clock.now();
    const r = await readHistory(ledger, accountId, zone, q, { now, hourlyRetentionDays });
    if (q.format === 'csv') return { text: historyCsv(r), headers: { 'content-type': 'text/csv; charset=utf-8' } };
    return { body: historyJson(r, now) };
  };
  const events = async (ctx: AdminContext, accountId: string) => {
    off();
    const p = ctx.url.searchParams;
    for (const k of p.keys()) if (k !== 'limit' && k !== 'cursor') throw new AdminHttpError(400, 'invalid_request', `unknown parameter "${k}": limit, cursor`);
    const limit = Number(p.get('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RECEIPTS_PAGE) throw new AdminHttpError(400, 'invalid_request', `limit: 1 to ${MAX_RECEIPTS_PAGE}`);
    const cursor = p.get('cursor') ?? undefined;
    if (cursor !== undefined && !/^\d+-\d+$/.test(cursor)) throw new AdminHttpError(400, 'invalid_request', 'cursor: the nextCursor of the previous page');
    const page = await ledger.receipts(accountId, { limit, ...(cursor ? { cursor } : {}) });
    return { body: { events: page.receipts.map(receiptView), nextCursor: page.next } };
  };
  router.add('GET', '/v1/usage/history', 'customer', (ctx) => history(ctx, ctx.accountId));
  router.add('GET', '/v1/usage/events', 'customer', (ctx) => events(ctx, ctx.accountId));
  router.add('GET', '/admin/accounts/:id/usage/history', 'admin', (ctx) => history(ctx, ctx.params[0]!));
  router.add('GET', '/admin/accounts/:id/usage/events', 'admin', (ctx) => events(ctx, ctx.params[0]!));
}
