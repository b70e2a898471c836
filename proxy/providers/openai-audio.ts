// OpenAI-style audio routes the voice adapters share — text-to-speech (`POST …/audio/speech`,
// JSON `input`) and transcription (`POST …/audio/transcriptions`, multipart, below) — and the
// helpers every character-metered TTS adapter uses: code points, SSML text, small forms.
// https://platform.openai.com/docs/api-reference/audio
//
// TTS billing: the characters (Unicode code points) of the text the provider synthesizes, read
// from the request, so the exact cost is reserved before forwarding and the Free hard cap is
// exact. What a provider reports about the same request (its own character count, audio
// duration, tokens) is recorded beside it as `reported`, never billed: the seed's rates are per
// 1,000 characters of text, and a report can be missing (a cut stream) or weighted by the
// provider's own rules (DashScope counts CJK twice). A 2xx answer is charged in full even if the
// audio stream is cut: the provider synthesizes (and bills) the whole text.

import busboy from 'busboy';
import type { UsageUnits } from '../../ledger/types.js';
import { createMultipartAudioMeter, sttReserveMs } from '../meters/audio.js';
import { secondsToMs } from '../meters/audio-stt.js';
import { JsonFieldCapture } from '../meters/json-capture.js';
import { SseParser, type SseEvent } from '../meters/sse.js';
import { jsonObject } from './openai-compatible.js';
import type { MeterPlan, MeterResult, RequestBody, ResponseMeter, RouteContext, RouteSpec, UpstreamResponseHead } from './types.js';

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

/** A string field of the request, or a 400 naming it. */
export function requiredText(ctx: RouteContext, value: unknown, name: string): string {
  if (typeof value !== 'string') ctx.fail('invalid_request', `\`${name}\` (the text to synthesize) is required`);
  return value;
}

/** Reads what a provider reports about a TTS request from its 2xx answer, as it passes. */
export interface TtsReport {
  onChunk(chunk: Buffer): void;
  onEnd?(): void;
  reported(): UsageUnits | undefined;
}

export interface TtsPlanOptions {
  /** Model (or voice model) as requested: a `provider:model` price row wins over the provider's. */
  model?: string | undefined;
  /** Reads the provider's own count from the answer, to record beside tollgate's. */
  report?(head: UpstreamResponseHead): TtsReport | undefined;
  upstreamHeaders?: Record<string, string>;
}

/** The plan of a TTS request whose text is known: reserve and charge exactly its characters. */
export function ttsPlan(ctx: RouteContext, text: string, opts: TtsPlanOptions = {}): MeterPlan {
  const chars = codePoints(text);
  const micro = ctx.pricing.ttsCost(ctx.ttsRate(opts.model), chars);
  const plan: MeterPlan = {
    modality: 'tts',
    estimateMicro: micro,
    response(head) {
      const report = opts.report?.(head);
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
  if (opts.model) plan.model = opts.model;
  if (opts.upstreamHeaders) plan.upstreamHeaders = opts.upstreamHeaders;
  return plan;
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

export const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined);

/**
 * OpenAI's `speech.audio.done` event (`stream_format: "sse"`), also sent by Chatterbox TTS API:
 * `usage{input_tokens, output_tokens}` — tokens, recorded only.
 */
export function speechDoneReport(head: UpstreamResponseHead): TtsReport | undefined {
  if (!isEventStreamHead(head)) return undefined;
  let usage: UsageUnits | undefined;
  return sseReport(
    (ev) => {
      if (!ev.data.includes('speech.audio.done')) return;
      const u = eventJson(ev)?.usage as Record<string, unknown> | undefined;
      if (!u || typeof u !== 'object') return;
      const inputTokens = count(u.input_tokens);
      const outputTokens = count(u.output_tokens);
      usage = {};
      if (inputTokens !== undefined) usage.inputTokens = inputTokens;
      if (outputTokens !== undefined) usage.outputTokens = outputTokens;
    },
    () => usage,
  );
}

export interface SpeechRouteOptions {
  path: string | RegExp;
  /** `model` must be present (OpenAI); self-hosted servers default it. */
  requireModel?: boolean;
  /** The server strips the text before synthesizing it (Chatterbox TTS API's validator). */
  trim?: boolean;
  /** The text of the request when it is not simply `input` (SSML, dialogue turns). */
  text?(ctx: RouteContext, obj: Record<string, unknown>): string;
}

/** `POST …/audio/speech`: JSON `{model, input, voice, …}`, audio (or SSE) back. */
export function speechRoute(o: SpeechRouteOptions): RouteSpec {
  return {
    method: 'POST',
    path: o.path,
    body: 'json',
    plan(ctx, body) {
      const obj = jsonObject(ctx, body);
      const model = typeof obj.model === 'string' && obj.model !== '' ? obj.model : undefined;
      if (o.requireModel && !model) ctx.fail('invalid_request', '`model` is required');
      let text = o.text ? o.text(ctx, obj) : requiredText(ctx, obj.input, 'input');
      if (o.trim) text = text.trim();
      return ttsPlan(ctx, text, { model, report: speechDoneReport });
    },
  };
}

/**
 * The text fields of a small form body (`multipart/form-data` or urlencoded) read whole in
 * 'buffer' mode; file parts (voice samples) are skipped. busboy parses a Buffer synchronously,
 * so the fields are complete when this returns.
 */
export function formFields(ctx: RouteContext, body: RequestBody, names: readonly string[]): Record<string, string> {
  if (body.kind !== 'buffer') ctx.fail('invalid_request', 'the request body must be a form');
  const ct = ctx.headers['content-type'];
  const fields: Record<string, string> = {};
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: { 'content-type': typeof ct === 'string' ? ct : '' }, limits: { fieldSize: body.raw.length + 1 } });
  } catch {
    return ctx.fail('invalid_request', 'the request body must be multipart/form-data or application/x-www-form-urlencoded');
  }
  let broken = false;
  bb.on('field', (name, value) => {
    if (names.includes(name) && !(name in fields)) fields[name] = value;
  });
  // A flowing consumer keeps busboy parsing synchronously past a file part.
  bb.on('file', (_name, stream) => stream.on('data', () => {}));
  bb.on('error', () => {
    broken = true;
  });
  bb.end(body.raw);
  if (broken) ctx.fail('invalid_request', 'the form body is malformed');
  return fields;
}

// ─── Transcription (STT) ────────────────────────────────────────────────────────────────────────
//
// `POST …/audio/transcriptions` (and `/translations`): a multipart upload with the audio in `file`
// (OpenAI, Groq, Mistral, whisper-compatible servers). The upload streams through ('stream' body)
// while the multipart audio meter (meters/audio.ts) measures the file part; nothing holds the file.
//
// Billing: the seconds tollgate measures from the file (container headers, music-metadata). When
// it cannot — audio given by reference (Groq `url`, Mistral `file_url`/`file_id`) or a file it
// cannot parse — the provider's report bills: `usage{type:"duration",seconds}` (OpenAI),
// `usage.prompt_audio_seconds` (Mistral), `duration` (`verbose_json`), from the JSON answer or the
// final SSE event. Both figures are recorded (units and `reported`). With neither (a reference
// answered as `text`/`srt`/`vtt`, or Groq's plain `json`), the reservation bills.
//
// Reservation: from Content-Length (sttReserveMs: proxy.sttReserveBytesPerSecond, capped at
// sttMaxReserveSeconds). A body too small to hold audio, sent to a provider that takes audio by
// reference, reserves the cap: its audio is elsewhere and of unknown length, and the Free hard
// cap must hold before the provider sees it.

/** Smaller than any audio upload worth a transcription (0.5 s of 32 kbit/s MP3). */
const REFERENCE_BODY_BYTES = 2048;

/** The provider's duration in a transcription answer or a stream's final event, in ms. */
function reportedAudioMs(o: Record<string, unknown>): number | undefined {
  const u = o.usage;
  if (u && typeof u === 'object') {
    const usage = u as Record<string, unknown>;
    const ms = usage.type === 'duration' ? secondsToMs(usage.seconds) : secondsToMs(usage.prompt_audio_seconds);
    if (ms !== undefined) return ms;
  }
  return secondsToMs(o.duration);
}

/** Token usage some models report instead (gpt-4o-transcribe): recorded, not billed. */
function reportedTokens(o: Record<string, unknown>): UsageUnits | undefined {
  const u = o.usage as Record<string, unknown> | undefined;
  if (!u || typeof u !== 'object' || u.type === 'duration') return undefined;
  const inputTokens = count(u.input_tokens ?? u.prompt_tokens);
  const outputTokens = count(u.output_tokens ?? u.completion_tokens);
  if (inputTokens === undefined && outputTokens === undefined) return undefined;
  const r: UsageUnits = {};
  if (inputTokens !== undefined) r.inputTokens = inputTokens;
  if (outputTokens !== undefined) r.outputTokens = outputTokens;
  return r;
}

interface ProviderSttReport {
  onChunk(chunk: Buffer): void;
  onEnd(): void;
  audioMs(): number | undefined;
  tokens(): UsageUnits | undefined;
}

/** Reads the provider's report from a JSON answer (captured field by field) or an SSE stream. */
function sttReport(head: UpstreamResponseHead): ProviderSttReport | undefined {
  if (isEventStreamHead(head)) {
    let ms: number | undefined;
    let tokens: UsageUnits | undefined;
    const parser = new SseParser((ev) => {
      // transcript.text.done (OpenAI), transcription.done (Mistral): only final events carry these.
      if (!ev.data.includes('"usage"') && !ev.data.includes('"duration"')) return;
      const o = eventJson(ev);
      if (!o) return;
      ms = reportedAudioMs(o) ?? ms;
      tokens = reportedTokens(o) ?? tokens;
    });
    return { onChunk: (c) => void parser.push(c), onEnd: () => void parser.end(), audioMs: () => ms, tokens: () => tokens };
  }
  const ct = head.headers['content-type'];
  if (typeof ct !== 'string' || !ct.includes('json')) return undefined; // text, srt, vtt: no report
  const capture = new JsonFieldCapture(new Set(['usage', 'duration']));
  return {
    onChunk: (c) => capture.push(c),
    onEnd: () => {},
    audioMs: () => reportedAudioMs(capture.result()),
    tokens: () => reportedTokens(capture.result()),
  };
}

export interface TranscriptionRouteOptions {
  path: string;
  /** Form fields that give the audio by reference instead of `file` (Groq `url`, Mistral `file_url`). */
  referenceFields?: readonly string[];
}

export function transcriptionRoute(o: TranscriptionRouteOptions): RouteSpec {
  const refs = o.referenceFields ?? [];
  return {
    method: 'POST',
    path: o.path,
    body: 'stream',
    plan(ctx, body): MeterPlan {
      const header = ctx.headers['content-type'];
      const ct = typeof header === 'string' && /^multipart\/form-data\s*;/i.test(header) ? header : ctx.fail('invalid_request', 'a transcription request is a multipart/form-data upload');
      const rate = ctx.sttRate();
      const length = body.kind === 'stream' ? body.contentLength : undefined;
      const byReference = refs.length > 0 && length !== undefined && length < REFERENCE_BODY_BYTES;
      const reservedMs = byReference ? ctx.limits.sttMaxReserveSeconds * 1000 : sttReserveMs(ctx.limits, length);
      const upload = createMultipartAudioMeter(ct, { fileFields: ['file'], textFields: ['model'] });
      const pricing = ctx.pricing;
      const provider = ctx.provider;
      return {
        modality: 'stt',
        estimateMicro: pricing.sttCost(rate, reservedMs),
        upload: upload.upload,
        response(head): ResponseMeter {
          const report = sttReport(head);
          return {
            onChunk(chunk) {
              report?.onChunk(chunk);
              return undefined;
            },
            onEnd() {
              report?.onEnd();
              return undefined;
            },
            async result(): Promise<MeterResult> {
              const measured = await upload.result();
              const model = upload.fields().model;
              // A `provider:model` row the operator priced wins over the provider's row.
              const r = (model && !ctx.byok ? pricing.sttRate(provider, model) : undefined) ?? rate;
              const reportedMs = report?.audioMs();
              const reported: UsageUnits = { ...report?.tokens() };
              if (reportedMs !== undefined) reported.audioMs = reportedMs;
              let ms: number;
              let source: MeterResult['source'];
              if (measured.ms !== undefined) [ms, source] = [measured.ms, 'measured'];
              else if (reportedMs !== undefined) [ms, source] = [reportedMs, 'provider'];
              else [ms, source] = [reservedMs, 'estimate'];
              const result: MeterResult = { microCredits: pricing.sttCost(r, ms), units: { audioMs: ms }, source };
              if (Object.keys(reported).length) result.reported = reported;
              if (model) result.model = model;
              return result;
            },
          };
        },
      };
    },
  };
}
