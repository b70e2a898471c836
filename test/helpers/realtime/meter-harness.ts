// Test helper: drives a realtime endpoint's meter without sockets, the way the session core does
// (proxy/realtime/types.ts, steps 3, 5, 6, 7): a SessionContext over real pricing, reservations in
// `stepMicro` steps from an account's remaining µcr, frames offered again after `needMicro`,
// the budget turning final when the account cannot cover a step, and the cut.

import { createPricing } from '../../../pricing/index.js';
import type { LlmRate, PricingOverrides } from '../../../pricing/types.js';
import { createError, type ErrorCode } from '../../../proxy/errors.js';
import type { PlanLimits } from '../../../proxy/providers/types.js';
import type { Budget, Frame, FrameVerdict, RealtimeEndpoint, SessionContext, SessionMeter } from '../../../proxy/realtime/types.js';

export const LIMITS: PlanLimits = { llmDefaultMaxTokens: 4096, sttReserveBytesPerSecond: 4_000, sttMaxReserveSeconds: 3_600 };

export function sessionContext(o: {
  provider: string;
  path?: string;
  query?: string;
  headers?: Record<string, string>;
  pricing?: PricingOverrides;
  byok?: boolean;
  limits?: Partial<PlanLimits>;
}): SessionContext {
  const pricing = createPricing(o.pricing);
  const byok = o.byok ?? false;
  const unpriced = (what: string): never => {
    throw createError('unpriced_model', `${what} has no price in tollgate's table; the operator can add one under pricing:`);
  };
  return {
    provider: o.provider,
    method: 'GET',
    path: o.path ?? '/',
    query: new URLSearchParams(o.query ?? ''),
    headers: o.headers ?? {},
    params: [],
    pricing,
    limits: { ...LIMITS, ...o.limits },
    byok,
    llmRate(model: string): LlmRate {
      return pricing.llmRate(o.provider, model) ?? (byok ? { inputPer1k: 0, outputPer1k: 0 } : unpriced(`model "${model}"`));
    },
    ttsRate(model?: string): number {
      return pricing.ttsRate(o.provider, model) ?? (byok ? 0 : unpriced('text-to-speech'));
    },
    sttRate(model?: string, rateProvider?: string): number {
      return pricing.sttRate(rateProvider ?? o.provider, model) ?? (byok ? 0 : unpriced('speech-to-text'));
    },
    fail(code: ErrorCode, message: string): never {
      throw createError(code, message);
    },
  };
}

export const text = (v: unknown): Frame => ({ data: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)), binary: false });
export const binary = (data: Buffer): Frame => ({ data, binary: true });
export const json = (f: Frame | null | undefined): any => (f ? JSON.parse(f.data.toString('utf8')) : f);

/** The core's side of a session, in memory: an account with `accountMicro` µcr left (Infinity: unlimited). */
export class SessionSim {
  /** Frames sent to the provider / to the client, as forwarded. */
  readonly upstream: Frame[] = [];
  readonly downstream: Frame[] = [];
  reserved = 0;
  final = false;
  cut = false;
  /** µcr the verdicts committed. */
  committed = 0;
  /** The handshake would be refused (402): the account has nothing left. */
  readonly refused: boolean;

  constructor(
    readonly meter: SessionMeter,
    public accountMicro: number,
  ) {
    // As session.ts `open()`: a step, else whatever is left; refused only when nothing is.
    this.reserve(meter.stepMicro);
    this.refused = this.reserved === 0;
  }

  budget(): Budget {
    return { microCredits: this.reserved - (this.meter.held?.() ?? 0), final: this.final };
  }

  private reserve(n: number): void {
    const r = Math.min(n, this.accountMicro);
    this.accountMicro -= r;
    this.reserved += r;
    if (r < n) this.final = true;
  }

  private offer(side: 'client' | 'provider', frame: Frame): FrameVerdict {
    if (this.cut) throw new Error('session already cut');
    for (let i = 0; i < 1000; i++) {
      const v = side === 'client' ? this.meter.client(frame, this.budget()) : this.meter.provider(frame, this.budget());
      if (!Number.isSafeInteger(v.microCredits) || v.microCredits < 0) throw new Error(`bad verdict µcr ${v.microCredits}`);
      if (v.needMicro !== undefined) {
        if (v.microCredits !== 0 || v.forward !== null) throw new Error('a needMicro verdict committed or forwarded');
        if (this.final) throw new Error('needMicro on a final budget');
        this.reserve(Math.max(this.meter.stepMicro, v.needMicro));
        continue;
      }
      this.reserved -= v.microCredits;
      this.committed += v.microCredits;
      if (v.forward) (side === 'client' ? this.upstream : this.downstream).push(v.forward);
      if (v.cut) this.cut = true;
      return v;
    }
    throw new Error('frame never fit');
  }

  client(frame: Frame): FrameVerdict {
    return this.offer('client', frame);
  }

  provider(frame: Frame): FrameVerdict {
    return this.offer('provider', frame);
  }

  /** What the client receives before close 4402, when cut. */
  cutNotice(): Frame | undefined {
    return this.meter.cutFrame?.('insufficient_credits');
  }

  async end(complete = true): Promise<number> {
    const extra = (await this.meter.end?.(complete)) ?? 0;
    this.committed += extra;
    return extra;
  }
}

/** Opens `endpoint` on a context (throws what the handshake would refuse with). */
export function openMeter(endpoint: RealtimeEndpoint, ctx: Parameters<typeof sessionContext>[0]): SessionMeter {
  return endpoint.open(sessionContext(ctx));
}
