// The contract every provider adapter implements: one plain typed object per provider.
// The shared pipeline (proxy/pipeline.ts) never knows which provider it is serving.

import type { IncomingHttpHeaders } from 'node:http';
import type { LlmRate, Modality, Pricing } from '../../pricing/types.js';
import type { UsageUnits } from '../../ledger/types.js';
import type { ErrorCode } from '../errors.js';

/** Where a provider's SDKs put the API key; the customer's tollgate key arrives there. */
export type ClientAuth =
  | 'bearer' // Authorization: Bearer KEY
  | 'token' // Authorization: Token KEY (Deepgram)
  | 'basic' // Authorization: Basic KEY (Inworld)
  | 'x-api-key' // Anthropic, older Cartesia clients
  | 'xi-api-key' // ElevenLabs
  | 'api-key' // Azure-style clients
  | 'x-access-token'; // resemble-node

/** Length bounds of a stored BYOK key for providers that set none. */
export const BYOK_KEY_LENGTH = { min: 8, max: 512 } as const;

/** How the pipeline hands the request body to `plan`. */
export type BodyMode =
  | 'none' // not read (GET, or the body is irrelevant and streamed through)
  | 'json' // read whole (bounded by proxy.maxJsonBodyBytes[modality]) and parsed
  | 'buffer' // read whole (bounded), raw bytes: small forms, msgpack
  | 'stream'; // streamed through; `plan` may return an UploadMeter that sees the chunks

export type RequestBody =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown; raw: Buffer }
  | { kind: 'buffer'; raw: Buffer }
  | { kind: 'stream'; contentLength: number | undefined };

export interface PlanLimits {
  llmDefaultMaxTokens: number;
  sttReserveBytesPerSecond: number;
  sttMaxReserveSeconds: number;
}

export interface RouteContext {
  provider: string;
  method: string;
  /** Upstream path after `/{provider}`, without the query: `/v1/chat/completions`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Capture groups of a RegExp route path. */
  params: readonly string[];
  pricing: Pricing;
  limits: PlanLimits;
  /**
   * BYOK request: units are still measured for `/v1/usage` `byok`, credits are zero. The rate
   * helpers below return zero rates instead of refusing unpriced models.
   */
  byok: boolean;
  /** LLM rate for `model`, or throws 400 `unpriced_model` (zero rate under BYOK). */
  llmRate(model: string): LlmRate;
  /** TTS µcr per 1,000 chars for this provider (model-specific row first), or throws `unpriced_model`. */
  ttsRate(model?: string): number;
  /** STT µcr per minute for this provider (or `rateProvider`'s row), or throws `unpriced_model`. */
  sttRate(model?: string, rateProvider?: string): number;
  /** Throws a TollgateError (400 invalid_request etc.). */
  fail(code: ErrorCode, message: string): never;
}

export interface UpstreamResponseHead {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** Observes the upstream's 2xx response body as it passes; a per-request closure. */
export interface ResponseMeter {
  /** true if onChunk can change the bytes (the pipeline then drops content-length). */
  readonly transforms?: boolean;
  /** Returns the bytes to send in place of `chunk`, or undefined to send `chunk` unchanged. */
  onChunk(chunk: Buffer): Buffer | undefined;
  /** End of body: bytes still held, if any. */
  onEnd?(): Buffer | undefined;
  /**
   * The final count. `complete` is false when the body was cut (abort, reset, timeout).
   * May be async (audio parsers finishing); the pipeline awaits it before settling.
   */
  result(complete: boolean): MeterResult | Promise<MeterResult>;
}

/** Observes a streamed request body (STT uploads) chunk by chunk, never holding it. */
export interface UploadMeter {
  onChunk(chunk: Buffer): void;
  onEnd(): void;
}

export type MeterSource = 'provider' | 'measured' | 'request' | 'estimate';

export interface MeterResult {
  /** Cost in µcr (the pipeline zeroes it for BYOK). */
  microCredits: number;
  /** The units billed. */
  units: UsageUnits;
  /** Where the billed units came from. */
  source: MeterSource;
  /** What the provider reported, recorded beside tollgate's own count. */
  reported?: UsageUnits;
  /** Model as the provider answered it, if it differs from the request. */
  model?: string;
}

export interface MeterPlan {
  modality: Modality;
  /** Model (or voice model) as requested, for logs. */
  model?: string;
  /** µcr reserved before forwarding; the Free hard cap is checked against it. */
  estimateMicro: number;
  /**
   * µcr charged if the request's process dies before it settles (its reservation expires):
   * what the provider was surely sent. Default: estimateMicro (TTS text, STT audio, a RAG
   * query); LLM: the input part (docs/reliability.md, "Crashes").
   */
  floorMicro?: number;
  /** Bytes to send upstream instead of the client's (e.g. stream_options injected). */
  body?: Buffer;
  /**
   * The bytes to send instead when the account is capped (a hard-capped tier or a spend
   * limit; ReserveResult.open absent): the request with the output limit the reservation
   * assumed written in, when the client set none (issue 18). Absent when there is nothing to
   * add. Called once, after the reservation; an open account's request is sent as before.
   */
  boundedBody?(): Buffer;
  /** Headers to set on the upstream request. */
  upstreamHeaders?: Record<string, string>;
  /** For `body: 'stream'` routes. */
  upload?: UploadMeter;
  /**
   * The answer streams to the client (SSE, streamed audio): a client that leaves cuts it
   * upstream, charged what the meter saw. Otherwise (the default) the provider's call is let
   * finish and its answer read for the usage it reports, within proxy.drain* bounds.
   */
  streamed?: boolean;
  /** Called once for a 2xx response. */
  response(head: UpstreamResponseHead): ResponseMeter;
  /** Charge when the upstream answered 2xx but no body byte reached the meter (rare). */
}

export interface RouteSpec {
  method: string;
  /** Exact path, or an anchored RegExp (capture groups become ctx.params). */
  path: string | RegExp;
  /** Explicitly free: forwarded on the platform key, unmetered (listings, token counting). */
  free?: boolean;
  body: BodyMode;
  /** Which proxy.maxJsonBodyBytes limit bounds a body read whole; default: the adapter's modality. */
  modality?: Modality;
  plan?(ctx: RouteContext, body: RequestBody): MeterPlan;
}

export interface ProviderAdapter {
  id: string;
  /** Modality a BYOK request to an unlisted route is counted under. */
  modality: Modality;
  /** Hosted providers have one; self-hosted ones must be configured. */
  defaultBaseUrl?: string;
  /** true when the upstream needs no key (self-hosted servers); metered calls then need no apiKey. */
  keyOptional?: boolean;
  clientAuth: readonly ClientAuth[];
  /** Sets the upstream key (the platform's or the BYOK key) in the provider's own header. */
  setUpstreamKey(headers: Record<string, string>, key: string): void;
  routes: readonly RouteSpec[];
  /** Length bounds of a stored BYOK key (PUT /v1/provider-keys); default BYOK_KEY_LENGTH. */
  byokKeyLength?: { min: number; max: number };
  /** Error body in the shape this provider's SDK understands; default OpenAI-style. */
  errorBody?(code: ErrorCode, message: string, type: string): unknown;
}
