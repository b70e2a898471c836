// The response side of an STT request: settles to tollgate's own measurement of the upload, or
// to the duration the provider reports when tollgate could not measure (audio by URL, a format
// it cannot parse), recording both. The provider's JSON is captured field by field, never held.

import type { Pricing } from '../../pricing/types.js';
import type { MeterPlan, MeterResult, MeterSource, ResponseMeter, RouteContext, UploadMeter, UpstreamResponseHead } from '../providers/types.js';
import type { AudioDuration, AudioMeasure } from './audio.js';
import { JsonFieldCapture } from './json-capture.js';

export interface ReportedDuration {
  /** Top-level fields of the provider's JSON answer to capture (e.g. `metadata`, `duration`). */
  fields: readonly string[];
  /** The provider's duration in ms, from the captured fields. */
  ms(values: Record<string, unknown>): number | undefined;
}

export interface SttMeterOptions {
  pricing: Pricing;
  /** µcr per minute. */
  rate: number;
  /** tollgate's measurement of the upload; absent when there is nothing to measure (URL). */
  measured?: () => Promise<AudioMeasure>;
  /** Where the provider reports the duration, if it does. */
  reported?: ReportedDuration;
  /** Audio ms reserved: billed when neither measurement nor report is available. */
  reservedMs: number;
}

/** Seconds (a float) to whole ms; undefined unless a finite non-negative number. */
export function secondsToMs(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v * 1000) : undefined;
}

/**
 * Billing rule (the metering spec): tollgate's measurement bills; else the provider's report;
 * else the reservation (estimate). Callers record the other figures in `reported`.
 */
export function billedAudio(measuredMs: number | undefined, reportedMs: number | undefined, reservedMs: number): { ms: number; source: MeterSource } {
  if (measuredMs !== undefined) return { ms: measuredMs, source: 'measured' };
  if (reportedMs !== undefined) return { ms: reportedMs, source: 'provider' };
  return { ms: reservedMs, source: 'estimate' };
}

/** An STT answer's meter: bills per billedAudio, the provider's duration recorded as `reported`. */
export function sttResponseMeter(head: UpstreamResponseHead, o: SttMeterOptions): ResponseMeter {
  const ct = head.headers['content-type'];
  const isJson = typeof ct === 'string' && ct.includes('json');
  const capture = o.reported && isJson ? new JsonFieldCapture(new Set(o.reported.fields)) : undefined;
  return {
    onChunk(chunk) {
      capture?.push(chunk);
      return undefined;
    },
    async result(): Promise<MeterResult> {
      const measured = o.measured ? await o.measured() : undefined;
      const reportedMs = capture && o.reported ? o.reported.ms(capture.result()) : undefined;
      const { ms, source } = billedAudio(measured?.ms, reportedMs, o.reservedMs);
      const r: MeterResult = { microCredits: o.pricing.sttCost(o.rate, ms), units: { audioMs: ms }, source };
      if (reportedMs !== undefined) r.reported = { audioMs: reportedMs };
      return r;
    },
  };
}

export interface SttPlanOptions {
  /** Model as requested, for the rate's model row and logs. */
  model?: string;
  /** Measures the upload as it streams; absent when the audio comes by URL. */
  measure?: { upload: UploadMeter; result(): Promise<AudioMeasure> };
  reported?: ReportedDuration;
  /** Audio ms to reserve (see sttReserveMs). */
  reservedMs: number;
}

/** An STT plan: reserve `reservedMs`, measure the upload, settle per sttResponseMeter. */
export function sttPlan(ctx: RouteContext, o: SttPlanOptions): MeterPlan {
  const rate = ctx.sttRate(o.model);
  const meter: SttMeterOptions = { pricing: ctx.pricing, rate, reservedMs: o.reservedMs };
  if (o.measure) {
    const m = o.measure;
    meter.measured = () => m.result();
  }
  if (o.reported) meter.reported = o.reported;
  const plan: MeterPlan = {
    modality: 'stt',
    estimateMicro: ctx.pricing.sttCost(rate, o.reservedMs),
    response: (head) => sttResponseMeter(head, meter),
  };
  if (o.model !== undefined) plan.model = o.model;
  if (o.measure) plan.upload = o.measure.upload;
  return plan;
}

/** Wraps a bare AudioDuration (raw audio request bodies) as an upload meter. */
export function rawUploadMeter(d: AudioDuration): { upload: UploadMeter; result(): Promise<AudioMeasure> } {
  return {
    upload: { onChunk: (c) => d.push(c), onEnd: () => d.end() },
    result: () => d.result(),
  };
}
