// OpenAI-style audio routes the voice adapters share — text-to-speech (`POST …/audio/speech`,
// JSON `input`, billed by meters/tts.ts) and transcription (`POST …/audio/transcriptions`,
// multipart, below) — and the small-form reader of the form-based TTS servers.
// https://platform.openai.com/docs/api-reference/audio

import busboy from 'busboy';
import type { UsageUnits } from '../../ledger/types.js';
import { createMultipartAudioMeter, sttReserveMs } from '../meters/audio.js';
import { billedAudio, secondsToMs } from '../meters/audio-stt.js';
import { JsonFieldCapture } from '../meters/json-capture.js';
import { SseParser } from '../meters/sse.js';
import { count, eventJson, isEventStreamHead, optionalModel, requiredText, sseReport, type TtsReport } from '../meters/tts.js';
import { jsonTtsRoute } from './tts-route.js';
import type { MeterPlan, MeterResult, RequestBody, ResponseMeter, RouteContext, RouteSpec, UpstreamResponseHead } from './types.js';

const USAGE_AND_DURATION: ReadonlySet<string> = new Set(['usage', 'duration']);

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
  /** Whether the audio streams (TtsRequest.streamed); default: it does. */
  streamed?(obj: Record<string, unknown>): boolean;
}

/** `POST …/audio/speech`: JSON `{model, input, voice, …}`, audio (or SSE) back. */
export function speechRoute(o: SpeechRouteOptions): RouteSpec {
  return jsonTtsRoute(o.path, (ctx, obj) => {
    const model = optionalModel(obj.model);
    if (o.requireModel && !model) ctx.fail('invalid_request', '`model` is required');
    const text = o.text ? o.text(ctx, obj) : requiredText(ctx, obj.input, 'input');
    return { text: o.trim ? text.trim() : text, model, report: speechDoneReport, streamed: o.streamed?.(obj) ?? true };
  });
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
// while the multipart audio meter (meters/audio-multipart.ts) measures the file part; nothing holds the file.
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
  const capture = new JsonFieldCapture(USAGE_AND_DURATION);
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
              const { ms, source } = billedAudio(measured.ms, reportedMs, reservedMs);
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
