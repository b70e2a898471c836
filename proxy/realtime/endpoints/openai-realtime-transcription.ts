// OpenAI Realtime transcription sessions (`/v1/realtime?intent=transcription`): the audio of every
// `input_audio_buffer.append`, counted to the sample and cut to the sample, at the STT row the
// HTTP transcription route uses (an operator's `openai:<model>` STT row for the session's
// transcription model first, else OpenAI's row, else Whisper's). Also OpenAI's shared helpers.
//
// Wire (openai-node resources/realtime/realtime.ts): the format and model come in `session.update`:
// GA `session.audio.input.format` `{type:"audio/pcm", rate:24000}` | `{type:"audio/pcmu"}` |
// `{type:"audio/pcma"}` and `session.audio.input.transcription.model`; beta `input_audio_format`
// (`pcm16` | `g711_ulaw` | `g711_alaw`) and `input_audio_transcription.model`. Default: 24 kHz
// 16-bit mono PCM. Whisper reports `usage:{type:"duration", seconds}` per item (whole seconds):
// recorded, never billed, tollgate's sample count is exact.

import { jsonFrame, jsonObject, pass, pcmCounter } from '../meter-kit.js';
import { base64AudioVerdict, counterSet } from '../frame-units.js';
import type { PcmFormat } from '../../meters/audio.js';
import type { CutReason, Frame, FrameVerdict, SessionContext, SessionMeter } from '../types.js';

/** Seconds of audio reserved per step. */
const STEP_SECONDS = 5;
const PCM24K: PcmFormat = { sampleRate: 24_000, channels: 1, bytesPerSample: 2 };
const G711: PcmFormat = { sampleRate: 8_000, channels: 1, bytesPerSample: 1 };
const TYPE_HEAD = /^\s*\{\s*"type"\s*:\s*"([^"\\]{1,80})"/;

/**
 * The top-level `type` of an event when it is the first key (as the SDKs and OpenAI write it),
 * read from the first bytes without parsing the frame (audio deltas are large and frequent);
 * undefined when it is not first (then the caller parses the frame).
 */
export function openaiEventType(frame: Frame): string | undefined {
  if (frame.binary) return undefined;
  return TYPE_HEAD.exec(frame.data.toString('latin1', 0, Math.min(frame.data.length, 96)))?.[1];
}

/** OpenAI's own `error` event, sent before close 4402. */
export function openaiCutFrame(reason: CutReason, eventId?: string): Frame {
  const message =
    reason === 'spend_limit_reached'
      ? 'The spend limit of this account is reached: the response was not created.'
      : 'This account has no credits left for this session: the request was not sent.';
  return jsonFrame({ type: 'error', event_id: `event_tollgate_${reason}`, error: { type: 'invalid_request_error', code: reason, message, param: null, event_id: eventId ?? null } });
}

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The input format a `session.update` sets, GA or beta shape; undefined when it sets none. */
export function inputFormat(session: Record<string, unknown>): PcmFormat | undefined {
  const ga = obj(obj(obj(session.audio).input).format);
  if (typeof ga.type === 'string') {
    if (ga.type === 'audio/pcmu' || ga.type === 'audio/pcma') return G711;
    const rate = typeof ga.rate === 'number' && Number.isSafeInteger(ga.rate) && ga.rate > 0 ? ga.rate : 24_000;
    return { ...PCM24K, sampleRate: rate };
  }
  const beta = session.input_audio_format;
  if (beta === 'g711_ulaw' || beta === 'g711_alaw') return G711;
  if (beta === 'pcm16') return PCM24K;
  return undefined;
}

/** The transcription model a `session.update` sets (GA or beta shape). */
export function transcriptionModel(session: Record<string, unknown>): string | undefined {
  const m = obj(obj(obj(session.audio).input).transcription).model ?? obj(session.input_audio_transcription).model;
  return typeof m === 'string' && m !== '' ? m : undefined;
}

export function openaiTranscriptionMeter(ctx: SessionContext): SessionMeter {
  const base = ctx.sttRate();
  let rate = base;
  let format = PCM24K;
  let model: string | undefined;
  let reportedMs = 0;
  const counters = counterSet((key) => {
    const [r, sampleRate, bytesPerSample] = key.split('/').map(Number) as [number, number, number];
    return pcmCounter({ sampleRate, channels: 1, bytesPerSample }, r);
  });
  return {
    modality: 'stt',
    stepMicro: ctx.pricing.sttCost(base, STEP_SECONDS * 1000),
    client(frame, budget): FrameVerdict {
      if (frame.binary) return { forward: null, microCredits: 0 };
      const type = openaiEventType(frame);
      if (type !== undefined && type !== 'input_audio_buffer.append' && type !== 'session.update' && type !== 'transcription_session.update') return pass(frame);
      const msg = jsonObject(frame);
      if (!msg) return pass(frame);
      if (msg.type === 'session.update' || msg.type === 'transcription_session.update') {
        const session = obj(msg.session);
        format = inputFormat(session) ?? format;
        const m = transcriptionModel(session);
        if (m !== undefined) {
          model = m;
          // A model's own STT row (operator-priced), as the HTTP transcription route bills it.
          rate = ctx.pricing.sttRate(ctx.provider, m) ?? base;
        }
        return pass(frame);
      }
      if (msg.type !== 'input_audio_buffer.append' || typeof msg.audio !== 'string' || msg.audio === '') return pass(frame);
      const counter = counters.get(`${rate}/${format.sampleRate}/${format.bytesPerSample}`);
      if (!counter) return { forward: null, microCredits: 0 };
      return base64AudioVerdict(frame, msg, 'audio', counter, budget);
    },
    provider(frame) {
      if (openaiEventType(frame) === 'conversation.item.input_audio_transcription.completed') {
        const usage = obj(jsonObject(frame)?.usage);
        if (usage.type === 'duration' && typeof usage.seconds === 'number' && usage.seconds >= 0) reportedMs += Math.round(usage.seconds * 1000);
      }
      return pass(frame);
    },
    totals() {
      let audioMs = 0;
      for (const c of counters.all()) audioMs += c.audioMs();
      return reportedMs > 0 ? { microCredits: counters.microCredits, units: { audioMs }, reported: { audioMs: reportedMs } } : { microCredits: counters.microCredits, units: { audioMs } };
    },
    cutFrame: (reason) => openaiCutFrame(reason),
    get model() {
      return model;
    },
  };
}
