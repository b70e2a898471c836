// GET /v1/usage: the seed's shape (credits, breakdown, requestCount) plus period, overage,
// carryover and byok. Credits are decimal numbers exact to 6 places (µcr / 1e6).

import type { Modality } from '../../pricing/types.js';
import type { Ledger, UsageSnapshot, UsageUnits } from '../../ledger/types.js';
import type { AdminRouter } from './router.js';

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

export function registerUsageRoutes(router: AdminRouter, ledger: Ledger): void {
  router.add('GET', '/v1/usage', 'customer', async (ctx) => ({ body: usageBody(await ledger.usage(ctx.accountId)) }));
}
