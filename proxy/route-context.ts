// What a route's plan (HTTP) or a realtime endpoint's `open` (sessions) sees of its request:
// the query, headers, capture groups, and the rate helpers that refuse unpriced models.

import type { IncomingHttpHeaders } from 'node:http';
import type { LlmRate, Pricing } from '../pricing/types.js';
import { createError, type ErrorCode } from './errors.js';
import type { PlanLimits, RouteContext } from './providers/types.js';

/**
 * What a route's plan sees of its request. A class, not an object of closures: one allocation
 * per request, its methods shared.
 */
export class Ctx implements RouteContext {
  private q: URLSearchParams | undefined;
  constructor(
    readonly provider: string,
    readonly method: string,
    readonly path: string,
    private readonly search: string,
    readonly headers: IncomingHttpHeaders,
    readonly params: readonly string[],
    readonly pricing: Pricing,
    readonly limits: PlanLimits,
    readonly byok: boolean,
  ) {}

  get query(): URLSearchParams {
    return (this.q ??= new URLSearchParams(this.search));
  }

  llmRate(model: string): LlmRate {
    const r = this.pricing.llmRate(this.provider, model);
    if (r) return r;
    if (this.byok) return { inputPer1k: 0, outputPer1k: 0 };
    return unpriced(`model "${model}" of ${this.provider}`);
  }

  ttsRate(model?: string): number {
    const r = this.pricing.ttsRate(this.provider, model);
    if (r !== undefined) return r;
    if (this.byok) return 0;
    return unpriced(`text-to-speech on ${this.provider}${model ? ` (${model})` : ''}`);
  }

  sttRate(model?: string, rateProvider?: string): number {
    const r = this.pricing.sttRate(rateProvider ?? this.provider, model);
    if (r !== undefined) return r;
    if (this.byok) return 0;
    return unpriced(`speech-to-text on ${rateProvider ?? this.provider}${model ? ` (${model})` : ''}`);
  }

  fail(code: ErrorCode, message: string): never {
    throw createError(code, message);
  }
}

function unpriced(what: string): never {
  throw createError('unpriced_model', `${what} has no price in tollgate's table; the operator can add one under pricing:`);
}

