// The pricing factory: the seed table and tiers with the operator's overrides, behind the `Pricing` interface.

import { llmCost, sttCost, ttsCost } from './cost.js';
import { normalizeModel } from './normalize.js';
import { compileRates } from './overrides.js';
import { STT_PROVIDER_ROWS } from './table.js';
import { findTier, resolveTiers } from './tiers.js';
import type { LlmRate, Pricing, PricingOverrides, TierOverrides } from './types.js';

/** Thrown by `createPricing` for an invalid `pricing:` or `tiers:` section; lists every problem. */
export interface PricingConfigError extends Error {
  code: 'invalid_pricing_config';
  problems: string[];
}

/**
 * A `Pricing` over the seed price table and tiers with `overrides` and `tierOverrides`
 * applied. Validates everything up front and throws a `PricingConfigError` naming each bad
 * key, so a misconfigured price stops the process at start rather than mis-billing later.
 */
export function createPricing(overrides?: PricingOverrides, tierOverrides?: TierOverrides): Pricing {
  const { book, problems } = compileRates(overrides);
  const tiers = resolveTiers(tierOverrides);
  problems.push(...tiers.problems);
  if (problems.length > 0) {
    const error = new Error(`invalid pricing configuration:\n  - ${problems.join('\n  - ')}`) as PricingConfigError;
    error.code = 'invalid_pricing_config';
    error.problems = problems;
    throw error;
  }

  // The book never changes after creation, so a name's canonical form is computed once: the
  // request path asks twice per LLM request (the request's model, the answer's snapshot name).
  const normalized = new Map<string, string>();
  const normalize = (provider: string, model: string): string => {
    const k = `${provider}\n${model}`;
    let n = normalized.get(k);
    if (n === undefined) {
      if (normalized.size >= 4096) normalized.clear(); // client-chosen names: keep it bounded
      normalized.set(k, (n = normalizeModel(provider, model, book.aliases)));
    }
    return n;
  };
  const id = (provider: string): string => provider.trim().toLowerCase();
  const llmRates = new Map<string, Map<string, LlmRate | null>>();
  const modelRow = (rows: ReadonlyMap<string, number>, provider: string, model?: string): number | undefined =>
    model === undefined ? undefined : rows.get(`${provider}:${normalize(provider, model)}`);

  return {
    ttsRate(provider, model) {
      const p = id(provider);
      return modelRow(book.tts, p, model) ?? book.tts.get(p);
    },
    sttRate(provider, model) {
      const p = id(provider);
      const own = modelRow(book.stt, p, model) ?? book.stt.get(p);
      if (own !== undefined) return own;
      const row = STT_PROVIDER_ROWS[p];
      return row === undefined ? undefined : book.stt.get(row);
    },
    llmRate(provider, model) {
      // Looked up by (provider, model) as given, in nested maps: no string is built per call.
      let byModel = llmRates.get(provider);
      if (!byModel) {
        if (llmRates.size >= 256) llmRates.clear();
        llmRates.set(provider, (byModel = new Map()));
      }
      let r = byModel.get(model);
      if (r === undefined) {
        if (byModel.size >= 4096) byModel.clear(); // client-chosen names: keep it bounded
        const p = id(provider);
        byModel.set(model, (r = book.llm.get(`${p}:${normalize(p, model)}`) ?? null));
      }
      return r ?? undefined;
    },
    normalizeModel: normalize,
    ragRate: () => book.rag,
    ttsCost,
    sttCost,
    llmCost,
    tier: (tierId) => findTier(tiers.tiers, tierId),
    tiers: () => tiers.tiers,
  };
}
