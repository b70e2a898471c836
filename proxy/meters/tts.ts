// TTS metering for every voice adapter: the text's code points, read from the request, billed.
//
// Billing: the characters (Unicode code points) of the text the provider synthesizes, read from
// the request, so the exact cost is reserved before forwarding and the Free hard cap is exact.
// What a provider reports about the same request (its own character count, audio duration,
// tokens) is recorded beside it as `reported`, never billed: the seed's rates are per 1,000
// characters of text, and a report can be missing (a cut stream) or weighted by the provider's
// own rules (ElevenLabs' `character-cost` is 0.5 a character on Flash; DashScope counts CJK
// twice). A 2xx answer is charged in full even if the audio stream is cut: the provider
// synthesizes (and bills) the whole text.

import type { UsageUnits } from '../../ledger/types.js';
import { headerString } from '../providers/headers.js';
import type { MeterPlan, MeterResult, RouteContext, UpstreamResponseHead } from '../providers/types.js';
import { JsonFieldCapture } from './json-capture.js';
import { SseParser, type SseEvent } from './sse.js';

/** Unicode code points of `s` (what `[...s].length` counts), without building an array. */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

const XML_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The spoken text of an SSML document: tags removed, the XML entities decoded. */
export function ssmlText(ssml: string): string {
  return ssml
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isInteger(cp) && cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
      }
      return XML_ENTITIES[e.toLowerCase()] ?? m;
    });
}

/** The text field `name` of the request (`value`), or a 400 `invalid_request` naming it. */
export function requiredText(ctx: RouteContext, value: unknown, name: string): string {
  if (typeof value !== 'string') ctx.fail('invalid_request', `\`${name}\` (the text to synthesize) is required`);
  return value;
}

/** A model named in the request, or undefined when absent or empty (the provider's rate row). */
export function optionalModel(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A finite non-negative number, rounded; else undefined. */
export const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined);

/** Reads what a provider reports about a TTS request from its 2xx answer, as it passes. */
export interface TtsReport {
  onChunk(chunk: Buffer): void;
  onEnd?(): void;
  reported(): UsageUnits | undefined;
}

/** A TTS request as its adapter reads it: everything `ttsPlan` needs. */
export interface TtsRequest {
  /** The text the provider synthesizes (markup it does not speak already removed). */
  text: string;
  /** Model (or voice model) as requested: a `provider:model` price row wins over the provider's. */
  model?: string | undefined;
  /** Reads the provider's own count from the answer, to record beside tollgate's. */
  report?(head: UpstreamResponseHead): TtsReport | undefined;
  /**
   * false: the audio comes whole once synthesized (a JSON answer, a buffered file), so a client
   * that leaves before it does not stop the provider's billed work (MeterPlan.streamed). Default
   * true: streamed audio, cut upstream when the client leaves (a 2xx is charged in full anyway).
   */
  streamed?: boolean;
}

/** The plan of a TTS request whose text is known: reserve and charge exactly its characters. */
export function ttsPlan(ctx: RouteContext, req: TtsRequest): MeterPlan {
  const chars = codePoints(req.text);
  const micro = ctx.pricing.ttsCost(ctx.ttsRate(req.model), chars);
  const plan: MeterPlan = {
    modality: 'tts',
    estimateMicro: micro,
    streamed: req.streamed !== false,
    response(head) {
      const report = req.report?.(head);
      return {
        onChunk(chunk) {
          report?.onChunk(chunk);
          return undefined;
        },
        onEnd() {
          report?.onEnd?.();
          return undefined;
        },
        result(): MeterResult {
          const r: MeterResult = { microCredits: micro, units: { chars }, source: 'request' };
          const reported = report?.reported();
          if (reported) r.reported = reported;
          return r;
        },
      };
    },
  };
  if (req.model) plan.model = req.model;
  return plan;
}

/** A non-negative integer response header, else undefined. */
function intHeader(head: UpstreamResponseHead, name: string): number | undefined {
  const v = headerString(head.headers[name]);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? Math.round(n) : undefined;
}

/** The provider's character count in a response header (`character-cost`, `dg-char-count`). */
export function headerCharsReport(name: string): (head: UpstreamResponseHead) => TtsReport | undefined {
  return (head) => {
    const chars = intHeader(head, name);
    return chars === undefined ? undefined : { onChunk: () => {}, reported: () => ({ chars }) };
  };
}

export function isEventStreamHead(head: UpstreamResponseHead): boolean {
  const ct = head.headers['content-type'];
  return typeof ct === 'string' && ct.includes('text/event-stream');
}

export function isJsonHead(head: UpstreamResponseHead): boolean {
  const ct = head.headers['content-type'];
  return typeof ct === 'string' && ct.includes('json') && !ct.includes('ndjson') && !ct.includes('jsonl');
}

/** Captures top-level `keys` of a JSON answer (never the audio) and reads a report from them. */
export function jsonReport(keys: readonly string[], read: (fields: Record<string, unknown>) => UsageUnits | undefined): TtsReport {
  const capture = new JsonFieldCapture(new Set(keys));
  return {
    onChunk: (chunk) => capture.push(chunk),
    reported: () => read(capture.result()),
  };
}

/** Parses an SSE answer event by event (holding at most one); `visit` keeps what it needs. */
export function sseReport(visit: (ev: SseEvent) => void, reported: () => UsageUnits | undefined): TtsReport {
  const parser = new SseParser((ev) => {
    visit(ev);
  });
  return {
    onChunk: (chunk) => void parser.push(chunk),
    onEnd: () => void parser.end(),
    reported,
  };
}

/** JSON of an SSE event, or undefined (bad JSON in a stream is skipped, never thrown). */
export function eventJson(ev: SseEvent): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(ev.data) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
