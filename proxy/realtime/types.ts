// The contract between the realtime session core (proxy/realtime/session.ts, relay.ts) and the
// per-endpoint meters (proxy/realtime/endpoints/<provider>-<endpoint>.ts): one typed object per
// endpoint, as the HTTP adapters are. The core knows no provider; an endpoint knows no socket.
//
// Life of a session, as the core runs it:
//  1. Handshake. `parseTarget` gives `/{provider}/{path}?{query}`; the core takes the first
//     endpoint of REALTIME_ENDPOINTS with that `provider` whose `path` matches and whose
//     `accepts(query)` (if any) is true. No match: HTTP 404 `unknown_route`.
//  2. The customer's key is looked up in this order, and removed from every place it is found:
//     the adapter's `clientAuth` headers (Authorization Token/Bearer, xi-api-key, …); the
//     subprotocol forms in `keyProtocols`; the query parameters KEY_QUERY_PARAMS plus the
//     endpoint's `keyQueryParams`; last, when none of those had one and the endpoint has
//     `firstMessageKey`, the client's first frame (the upgrade is then accepted before auth;
//     a bad key closes 1008 `invalid_api_key`). Refusals before the upgrade are HTTP statuses
//     with the usual JSON body: 401 invalid_api_key, 402 insufficient_credits /
//     spend_limit_reached, 404 unknown_route, 400 unpriced_model / invalid_request, 429
//     too_many_sessions, 503 ledger_unavailable / provider_not_configured.
//  3. `open(ctx)` builds the session's meter. It reads the query (model, encoding, …) and the
//     rates through `ctx` (`ctx.sttRate()`, `ctx.ttsRate()`, `ctx.llmRate()` throw 400
//     `unpriced_model` on the platform key and return zero rates under BYOK); it may throw a
//     TollgateError (`ctx.fail(...)`): the handshake is refused with its status.
//  4. The upstream socket: URL = configured origin + basePath + the client's path (or
//     `upstreamPath`) + the client's query minus the key parameters (duplicate keys kept in
//     order). Headers: the client's minus hop-by-hop, `sec-websocket-*`, credential headers and
//     `x-provider-key-*`; then the adapter's `setUpstreamKey(headers, key)` (platform or BYOK
//     key); then `prepareUpstream(up, ctx)` for anything else the provider wants (e.g. Cartesia's
//     `cartesia-version` header from the `cartesia_version` query parameter). No subprotocol
//     goes upstream unless `prepareUpstream` adds one. The client's upgrade is answered (101)
//     only once the provider accepted; a provider refusal is passed on as its HTTP status.
//     The 101 selects the first offered subprotocol that carries no key (`token`, `realtime`).
//  5. Frames. Every client frame goes through `meter.client(frame, budget)`, every provider frame
//     through `meter.provider(frame, budget)`, one at a time, in order. The verdict says what to
//     send on (possibly rewritten; `null`: nothing) and what it cost. See FrameVerdict.
//  6. The core reserves ahead in steps, settles interim amounts every `realtime.settleIntervalMs`
//     (ids `sessionId:n`), and settles the remainder exactly once at the end, from
//     `meter.totals()` and the verdicts' µcr. Meters never touch the ledger.
//  7. Cut: a verdict with `cut: true` ends the session after its `forward` frame: the core
//     sends `meter.cutFrame?.(reason)` to the client (the provider's own error message), then
//     closes the client with 4402 and `insufficient_credits` (or `spend_limit_reached`) and the
//     provider with 1000.
//
// Money is integers (µcr). A meter's cost must be a function of its cumulative units (compute
// the new total cost and return the difference), so interim splits never round twice; the
// helpers in proxy/realtime/meter-kit.ts do that and the exact cut for you.

import type { IncomingHttpHeaders } from 'node:http';
import type { UsageUnits } from '../../ledger/types.js';
import type { Modality } from '../../pricing/types.js';
import type { RouteContext } from '../providers/types.js';

/** One WebSocket message, its opcode kept: text stays text, binary stays binary. */
export interface Frame {
  data: Buffer;
  /** true: binary opcode; false: text (UTF-8 in `data`). */
  binary: boolean;
}

/** What the session may spend on the frame being metered. */
export interface Budget {
  /**
   * µcr the session may still spend now (reserved and not yet consumed, minus `meter.held()`).
   * `Infinity` when nothing limits it (BYOK, or an account no ledger check could refuse).
   */
  readonly microCredits: number;
  /**
   * false: the core can still reserve more. A frame that costs more than `microCredits` must
   * then be answered `{ forward: null, microCredits: 0, needMicro }` WITHOUT committing any unit
   * (no state change): the core pauses that side, reserves at least `needMicro`, and offers the
   * same frame again.
   * true: nothing more can be reserved (the Free cap or the spend limit is reached). A frame that
   * costs more is cut at the exact unit the budget covers (audio to the sample, text to the code
   * point): commit only the covered units, forward the covered part (rewritten; `null` when
   * nothing is covered or the frame cannot be split), return `cut: true`.
   */
  readonly final: boolean;
}

export interface FrameVerdict {
  /** What to send on (the same frame, a rewritten one, or `null`: drop it). */
  forward: Frame | null;
  /** µcr this call committed (≥ 0, an integer): the increase of `totals().microCredits`. */
  microCredits: number;
  /** Budget not final and the frame does not fit: nothing was committed; reserve this much. */
  needMicro?: number;
  /** Budget final and exhausted: `forward` is the covered part, then the session is cut (4402). */
  cut?: boolean;
}

export type CutReason = 'insufficient_credits' | 'spend_limit_reached';

/** The running count of one session. */
export interface MeterTotals {
  /** µcr committed so far (the sum of every verdict's `microCredits` plus `end()`'s). */
  microCredits: number;
  /** Units so far, as the price table writes them (chars, audioMs, tokens). Integers. */
  units: UsageUnits;
  /** What the provider reported in-band (Deepgram `Metadata.duration`, …), recorded beside. */
  reported?: UsageUnits;
}

/**
 * One session's meter: a per-session closure or class instance built by `endpoint.open`.
 * Every method is synchronous and must not throw on bad client input: an unparseable text frame
 * is forwarded unmetered only if it cannot carry billable units for the provider (e.g. JSON that
 * the provider would reject), otherwise it is dropped (`forward: null`).
 */
export interface SessionMeter {
  /** Modality the settlement is recorded under (the price row's): 'stt', 'tts' or 'llm'. */
  readonly modality: Modality;
  /** Model as requested, for logs and `/v1/usage/events`. */
  readonly model?: string;
  /**
   * µcr to reserve per step: a few seconds of audio, a few hundred characters, a turn's tokens
   * at this session's rates (0 under BYOK is fine). The core reserves
   * max(stepMicro, a refused frame's `needMicro`) each time the budget runs low.
   */
  readonly stepMicro: number;
  /** A frame from the customer, before it goes to the provider. */
  client(frame: Frame, budget: Budget): FrameVerdict;
  /**
   * A frame from the provider, before it goes to the customer. Usage reported after the fact
   * (OpenAI `response.done`) is committed here whatever the budget says (it has been spent);
   * `cut: true` may still be returned to end the session when the budget is gone.
   * Most meters return `{ forward: frame, microCredits: 0 }`.
   */
  provider(frame: Frame, budget: Budget): FrameVerdict;
  /**
   * µcr this meter holds back for usage it expects to be reported later (OpenAI: a turn's
   * estimated tokens from `response.create` until its `response.done`). The core subtracts it
   * from the budget it passes. Absent: 0.
   */
  held?(): number;
  /** Cumulative totals; cheap (the core calls it at each interim settle and at the end). */
  totals(): MeterTotals;
  /**
   * The session is ending (any end: close, cut, crash of either side, idle, shutdown). Returns
   * µcr to commit on top (e.g. containerised audio measured only at the end, whatever the
   * budget); absent: 0. `complete`: the session ended cleanly (a close frame from either side).
   * Called once, before the final settle; the core awaits a promise (it must not reject).
   */
  end?(complete: boolean): number | Promise<number>;
  /** The provider's own error message to send the client before close 4402; undefined: none. */
  cutFrame?(reason: CutReason): Frame | undefined;
}

/**
 * The session's view of its handshake: the HTTP adapters' RouteContext (method 'GET'; `query`,
 * `headers`, `params`, `byok`, `pricing`, and the rate helpers that throw `unpriced_model`).
 */
export type SessionContext = RouteContext;

/** A subprotocol form that carries the customer's key. */
export type KeyProtocol =
  /** Two entries: the marker, then the key (Deepgram browsers: `['token', KEY]`, `['bearer', JWT]`). */
  | { pair: string }
  /** One entry: prefix + key (OpenAI browsers: `openai-insecure-api-key.KEY`). */
  | { prefix: string };

/** The request the core is about to open upstream; `prepareUpstream` may edit it. */
export interface UpstreamOpen {
  /** Headers to send (already holding the upstream key). Lower-case names. */
  headers: Record<string, string>;
  /** The query as an ordered multi-map (duplicates kept), key parameters already removed. */
  query: Array<[string, string]>;
  /** Subprotocols to offer upstream; empty by default. */
  protocols: string[];
}

/** Query parameters every endpoint accepts the customer's key in (and removes). */
export const KEY_QUERY_PARAMS: readonly string[] = ['token', 'api_key', 'access_token', 'authorization'];

export interface RealtimeEndpoint {
  /** The adapter id (`deepgram`, `elevenlabs`, `cartesia`, `fishaudio`, `openai`). */
  provider: string;
  /** Exact upstream path, or an anchored RegExp (capture groups become `ctx.params`). */
  path: string | RegExp;
  /** Extra condition on the query (e.g. OpenAI: `model` or `intent=transcription`). */
  accepts?(query: URLSearchParams): boolean;
  /** Subprotocol forms the customer's key may arrive in (browsers). */
  keyProtocols?: readonly KeyProtocol[];
  /** Query parameters beyond KEY_QUERY_PARAMS that carry the key (e.g. `single_use_token`). */
  keyQueryParams?: readonly string[];
  /**
   * The key in the client's first message (ElevenLabs `xi-api-key` / `xi_api_key` /
   * `authorization`). Returns the key found (undefined: none) and the frame with every
   * credential field removed. Called on the first client frame of every session of this
   * endpoint (so a key there is stripped even when another place authenticated); the returned
   * frame then goes through `meter.client` as usual. The meter strips credentials of later
   * frames itself (multi-stream: each context's first message).
   */
  firstMessageKey?(frame: Frame): { key: string | undefined; frame: Frame };
  /** Provider's own idle timeout, ms: the core never closes an idle session sooner. */
  providerIdleMs: number;
  /** Anything beyond the key the provider needs on the upstream handshake. */
  prepareUpstream?(up: UpstreamOpen, ctx: SessionContext): void;
  /** The session's meter; throws a TollgateError to refuse the handshake (unpriced_model, …). */
  open(ctx: SessionContext): SessionMeter;
}

export type { IncomingHttpHeaders };
