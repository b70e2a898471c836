// Test helper: runs a provider adapter's own metering plan on a request and a response body
// given as chunks, without a server: what the pipeline does with the bytes, minus the I/O.

import { createPricing } from '../../pricing/index.js';
import type { Pricing } from '../../pricing/types.js';
import { createError } from '../../proxy/errors.js';
import type { MeterPlan, MeterResult, ProviderAdapter, RouteContext } from '../../proxy/providers/types.js';

export interface MeterRun {
  plan: MeterPlan;
  result: MeterResult;
  /** The bytes the client would receive. */
  out: Buffer;
}

export function planFor(adapter: ProviderAdapter, path: string, request: unknown, pricing: Pricing = createPricing({ llm: { 'mistral:mistral-small-latest': { input: 1, output: 3 } } })): MeterPlan {
  const route = adapter.routes.find((r) => r.method === 'POST' && r.path === path);
  if (!route?.plan) throw new Error(`${adapter.id} has no metered POST ${path}`);
  const raw = Buffer.from(JSON.stringify(request));
  const ctx: RouteContext = {
    provider: adapter.id,
    method: 'POST',
    path,
    query: new URLSearchParams(),
    headers: {},
    params: [],
    pricing,
    limits: { llmDefaultMaxTokens: 4096, sttReserveBytesPerSecond: 4000, sttMaxReserveSeconds: 3600 },
    byok: false,
    llmRate(model) {
      const r = pricing.llmRate(adapter.id, model);
      if (!r) throw createError('unpriced_model', model);
      return r;
    },
    ttsRate: () => 0,
    sttRate: () => 0,
    fail(code, message): never {
      throw createError(code, message);
    },
  };
  return route.plan(ctx, { kind: 'json', value: JSON.parse(raw.toString()), raw });
}

/** Feeds `chunks` to the plan's response meter as the pipeline does; `complete` false = cut. */
export async function meter(plan: MeterPlan, contentType: string, chunks: readonly Buffer[], complete = true): Promise<MeterRun> {
  const m = plan.response({ status: 200, headers: { 'content-type': contentType } });
  const out: Buffer[] = [];
  for (const c of chunks) out.push(m.onChunk(c) ?? c);
  if (complete) {
    const tail = m.onEnd?.();
    if (tail) out.push(tail);
  }
  return { plan, result: await m.result(complete), out: Buffer.concat(out) };
}
