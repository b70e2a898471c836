// LLM metering shared by the adapters: input estimates, usage normalisation, SSE and JSON meters.
//
// Billing source, in order: the provider's usage report; when a stream is cut before the report
// (client abort, upstream reset, idle timeout) an estimate of what was streamed:
//   input  = the request estimate (ceil(characters of message text / 4) + 4 per message; the
//            reservation holds an upper bound instead, see measureInput),
//            or the provider's input count if it reported one before the cut (Anthropic);
//   output = max(number of content deltas streamed, ceil(characters streamed / 4)).
// A content delta is an event that carries text (message content, tool-call arguments,
// reasoning); characters are counted as the client decodes them (`\n` is one). OpenAI-style
// streams carry about one token per delta, so the delta count is close; the character rule
// covers providers that stream several tokens per event.

import type { LlmRate, LlmUsage, Pricing } from '../../pricing/types.js';
import type { UsageUnits } from '../../ledger/types.js';
import { SseParser, type SseEvent } from './sse.js';
import { JsonFieldCapture } from './json-capture.js';
import type { MeterResult, ResponseMeter, UpstreamResponseHead } from '../providers/types.js';

/** What a provider's input counts beyond text: its documented maximum per image, its tool preamble. */
export interface InputBounds {
  /** Tokens an image part costs at most (the provider's documented maximum; see its adapter). */
  imageTokens: number;
  /** Tokens a request with tools costs beyond their definitions (a tool-use system prompt). */
  toolTokens: number;
}

/** Parts whose content is an image, not text: OpenAI chat, OpenAI Responses, Anthropic. */
const IMAGE_PARTS: ReadonlySet<unknown> = new Set(['image_url', 'input_image', 'image']);

/**
 * The input of a chat/messages/responses request, measured in one walk of its text:
 *   estimate = ceil(characters / 4) + 4 per message part: the charge of a stream cut before
 *              the provider's report (see above);
 *   bound    = UTF-8 bytes of the text + 4 per part + each image at the provider's maximum
 *              + tool definitions by their JSON bytes plus the provider's tool preamble: what
 *              the reservation holds. A byte-level BPE token is at least one byte, so the
 *              text's bytes bound its tokens (10,000 CJK characters: 30,000 bytes, where
 *              characters / 4 said 2,500). Input the request does not carry (a
 *              previous_response_id's conversation, a file by id) is not in it: on a capped
 *              account the ledger writes off what exceeds the cap (ledger/account-state.ts).
 */
export function measureInput(body: Record<string, unknown>, bounds: InputBounds): { estimate: number; bound: number } {
  let chars = 0;
  let bytes = 0;
  let parts = 0;
  let images = 0;
  const visit = (v: unknown, depth: number): void => {
    if (depth > 8) return;
    if (typeof v === 'string') {
      chars += v.length;
      bytes += Buffer.byteLength(v, 'utf8');
      return;
    }
    if (Array.isArray(v)) {
      for (const x of v) visit(x, depth + 1);
      return;
    }
    if (v && typeof v === 'object') {
      parts++;
      const o = v as Record<string, unknown>;
      if (IMAGE_PARTS.has(o.type)) {
        images++;
        return;
      }
      for (const k of ['content', 'text', 'input', 'system', 'instructions', 'arguments']) if (k in o) visit(o[k], depth + 1);
    }
  };
  for (const k of ['messages', 'input', 'system', 'instructions', 'prompt', 'tools']) {
    if (k === 'tools' && body.tools !== undefined) {
      const json = JSON.stringify(body.tools);
      chars += json.length;
      bytes += Buffer.byteLength(json, 'utf8') + bounds.toolTokens;
    } else if (k in body) visit(body[k], 0);
  }
  return { estimate: Math.ceil(chars / 4) + 4 * parts, bound: bytes + 4 * parts + images * bounds.imageTokens };
}

export function estimateOutputTokens(deltas: number, chars: number): number {
  return Math.max(deltas, Math.ceil(chars / 4));
}

/**
 * A matcher for the text fields of stream events, e.g. `textFields('content', 'arguments')`
 * finds every `"content":"…"` and `"arguments":"…"` string in an event's raw JSON.
 */
export function textFields(...names: string[]): RegExp {
  return new RegExp(`"(?:${names.join('|')})":"((?:[^"\\\\]|\\\\.)*)"`, 'g');
}

/**
 * Characters of text one stream event carries in `fields` (see textFields), found without
 * parsing the event, counted decoded (`\n` and `\u00e9` are one character each, as the client
 * sees them). Counts toward the cut-stream estimate: an event with text is one content delta.
 */
export function countDeltaText(state: SseUsageState, data: string, fields: RegExp): void {
  let chars = 0;
  fields.lastIndex = 0;
  for (let m = fields.exec(data); m; m = fields.exec(data)) {
    const raw = m[1]!;
    if (!raw.includes('\\')) chars += raw.length;
    else {
      try {
        chars += (JSON.parse(`"${raw}"`) as string).length;
      } catch {
        state.badJson++;
        chars += raw.length;
      }
    }
  }
  if (chars > 0) {
    state.deltas++;
    state.chars += chars;
  }
}

export function isEventStream(head: UpstreamResponseHead): boolean {
  const ct = head.headers['content-type'];
  return typeof ct === 'string' && ct.includes('text/event-stream');
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);

/** OpenAI chat-completions usage (also Groq, Mistral): cached tokens are inside prompt_tokens. */
export function fromChatUsage(u: unknown): LlmUsage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const o = u as Record<string, unknown>;
  if (typeof o.prompt_tokens !== 'number' && typeof o.completion_tokens !== 'number') return undefined;
  const cached = num((o.prompt_tokens_details as Record<string, unknown> | undefined)?.cached_tokens);
  const prompt = num(o.prompt_tokens);
  return { inputTokens: prompt - Math.min(cached, prompt), outputTokens: num(o.completion_tokens), cacheReadTokens: Math.min(cached, prompt) };
}

/** OpenAI Responses API usage: cached tokens are inside input_tokens. */
export function fromResponsesUsage(u: unknown): LlmUsage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const o = u as Record<string, unknown>;
  if (typeof o.input_tokens !== 'number' && typeof o.output_tokens !== 'number') return undefined;
  const cached = num((o.input_tokens_details as Record<string, unknown> | undefined)?.cached_tokens);
  const input = num(o.input_tokens);
  return { inputTokens: input - Math.min(cached, input), outputTokens: num(o.output_tokens), cacheReadTokens: Math.min(cached, input) };
}

export function llmUnits(u: LlmUsage): UsageUnits {
  const units: UsageUnits = { inputTokens: u.inputTokens, outputTokens: u.outputTokens };
  if (u.cacheReadTokens) units.cacheReadTokens = u.cacheReadTokens;
  if (u.cacheWriteTokens) units.cacheWriteTokens = u.cacheWriteTokens;
  return units;
}

export interface LlmMeterOptions {
  pricing: Pricing;
  rate: LlmRate;
  inputEstimate: number;
}

function priced(opts: LlmMeterOptions, usage: LlmUsage, source: MeterResult['source'], model?: string): MeterResult {
  const r: MeterResult = { microCredits: opts.pricing.llmCost(opts.rate, usage), units: llmUnits(usage), source };
  if (source === 'provider') r.reported = llmUnits(usage);
  if (model) r.model = model;
  return r;
}

/** Estimate for a response cut before the provider's report. */
export function estimated(opts: LlmMeterOptions, outputTokens: number, inputTokens = opts.inputEstimate): MeterResult {
  return priced(opts, { inputTokens, outputTokens }, 'estimate');
}

const USAGE_AND_MODEL: ReadonlySet<string> = new Set(['usage', 'model']);

/**
 * A non-streamed JSON answer: captures the top-level `usage` (and `model`) while the body
 * passes. `read` turns the captured usage into LlmUsage for the provider's shape.
 */
export function jsonUsageMeter(opts: LlmMeterOptions, read: (usage: unknown) => LlmUsage | undefined): ResponseMeter {
  const capture = new JsonFieldCapture(USAGE_AND_MODEL);
  return {
    onChunk(chunk) {
      capture.push(chunk);
      return undefined;
    },
    result() {
      const got = capture.result();
      const usage = read(got.usage);
      const model = typeof got.model === 'string' ? got.model : undefined;
      if (usage) return priced(opts, usage, 'provider', model);
      return estimated(opts, 0);
    },
  };
}

export interface SseUsageState {
  usage: LlmUsage | undefined;
  /** Input tokens reported before the final report (Anthropic message_start). */
  earlyInput: LlmUsage | undefined;
  deltas: number;
  chars: number;
  model: string | undefined;
  badJson: number;
}

/**
 * A streamed answer. `visit` reads each event into `state` (usage, deltas, characters) and
 * returns false to drop the event from what the client sees. Bad JSON is counted, never thrown.
 */
export function sseUsageMeter(
  opts: LlmMeterOptions,
  visit: (ev: SseEvent, state: SseUsageState) => boolean | void,
  transforms: boolean,
): ResponseMeter & { state: SseUsageState } {
  const state: SseUsageState = { usage: undefined, earlyInput: undefined, deltas: 0, chars: 0, model: undefined, badJson: 0 };
  const parser = new SseParser((ev) => visit(ev, state), transforms);
  return {
    state,
    transforms,
    onChunk(chunk) {
      return parser.push(chunk);
    },
    onEnd() {
      return parser.end();
    },
    result() {
      if (state.usage) return priced(opts, state.usage, 'provider', state.model);
      const out = estimateOutputTokens(state.deltas, state.chars);
      const r = estimated(opts, out, state.earlyInput?.inputTokens ?? opts.inputEstimate);
      if (state.earlyInput) {
        const u: LlmUsage = { ...state.earlyInput, outputTokens: out };
        return { ...priced(opts, u, 'estimate', state.model), reported: llmUnits(state.earlyInput) };
      }
      return r;
    },
  };
}

/** Parses an event's JSON data; undefined (and counted) when it is not JSON. */
export function parseData(ev: SseEvent, state: SseUsageState): Record<string, unknown> | undefined {
  if (ev.data === '' || ev.data === '[DONE]') return undefined;
  try {
    const v = JSON.parse(ev.data) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    state.badJson++;
    return undefined;
  }
}
