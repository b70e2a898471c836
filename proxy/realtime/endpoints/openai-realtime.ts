// OpenAI Realtime `/v1/realtime?model=…`: every `response.done` usage at the model's rates
// (text input, cached input, output, and the audio-token rates the operator configures under
// `pricing.llm`); `?intent=transcription` sessions bill their input audio instead
// (openai-realtime-transcription.ts). https://platform.openai.com/docs/guides/realtime-websocket
//
// Wire (openai-node src/realtime/{ws,websocket,internal-base}.ts, resources/realtime/realtime.ts):
// JSON text frames both ways. The key: `Authorization: Bearer` (Node) or the browser subprotocols
// `['realtime', 'openai-insecure-api-key.KEY']` (beta adds `openai-beta.realtime-v1`).
//
// Money: usage is reported after the fact, per response (`response.done.response.usage`, cached
// tokens a subset of input, every turn re-billing the context). So a turn's tokens are reserved
// ahead: a client `response.create` is held at an estimate (the last turn's whole context as
// uncached input at the dearer input rate, plus the turn's `max_output_tokens` — else the
// session's, else proxy.llmDefaultMaxTokens — at the dearer output rate) until its `response.done`
// commits the real usage. A `response.create` the budget cannot cover on a final budget is not
// forwarded: the client gets OpenAI's own `error` event, then close 4402. Responses the server
// starts by itself (server VAD) are held from `response.created`. A model without audio rates is
// refused at the handshake (400 unpriced_model): audio tokens are never priced as text.
// `session.update` may not switch the session to another model: that field is removed.
// With input transcription on, each `conversation.item.input_audio_transcription.completed`
// bills too, as OpenAI does ("billed according to the ASR model's pricing"): `usage.seconds`
// (Whisper) at the model's STT row (else Whisper's), token usage at the model's LLM row if the
// operator priced one (else it is not billed: the seed prices no transcription model by token).

import { llmCost } from '../../../pricing/cost.js';
import type { LlmRate, LlmUsage } from '../../../pricing/types.js';
import { jsonFrame, jsonObject, pass } from '../meter-kit.js';
import { openaiCutFrame, openaiEventType, openaiTranscriptionMeter, transcriptionModel } from './openai-realtime-transcription.js';
import type { Frame, FrameVerdict, RealtimeEndpoint, SessionContext, SessionMeter } from '../types.js';

interface Pending {
  /** The client's `event_id` of its `response.create`, if it sent one. */
  eventId?: string;
  /** The server's response id, once `response.created` named it. */
  responseId?: string;
  micro: number;
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : 0);
const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/**
 * `response.done` usage as disjoint token counts (pricing's LlmUsage): cached input (text, audio
 * and image) at the cache-read rate, uncached audio at the audio rate, the rest of the input
 * (text, images, anything undetailed) at the text rate; audio output at its rate, the rest as text.
 */
export function realtimeUsage(u: Record<string, unknown>): LlmUsage {
  const inDetails = obj(u.input_token_details);
  const cachedDetails = obj(inDetails.cached_tokens_details);
  const cached = count(inDetails.cached_tokens) || count(cachedDetails.text_tokens) + count(cachedDetails.audio_tokens) + count(cachedDetails.image_tokens);
  const audioIn = Math.max(0, count(inDetails.audio_tokens) - count(cachedDetails.audio_tokens));
  const input = Math.max(count(u.input_tokens), cached + audioIn);
  const audioOut = count(obj(u.output_token_details).audio_tokens);
  const output = Math.max(count(u.output_tokens), audioOut);
  return { inputTokens: input - cached - audioIn, cacheReadTokens: cached, audioInputTokens: audioIn, outputTokens: output - audioOut, audioOutputTokens: audioOut };
}

/** `max_output_tokens` (GA) / `max_response_output_tokens` (beta): a count, or undefined ('inf', absent). */
function maxTokens(o: Record<string, unknown>): number | undefined {
  const v = o.max_output_tokens ?? o.max_response_output_tokens;
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/** Server events the conversation meter reads; every other one passes unparsed. */
const PROVIDER_EVENTS = new Set(['response.created', 'response.done', 'error', 'session.created', 'session.updated', 'conversation.item.input_audio_transcription.completed']);

function conversationMeter(ctx: SessionContext, model: string): SessionMeter {
  const rate = ctx.llmRate(model);
  if (!ctx.byok && (rate.audioInputPer1k === undefined || rate.audioOutputPer1k === undefined)) {
    const row = `openai:${ctx.pricing.normalizeModel('openai', model)}`;
    ctx.fail('unpriced_model', `model "${model}" has no audio token rates: add audioInput and audioOutput to pricing.llm["${row}"]`);
  }
  const canonical = ctx.pricing.normalizeModel('openai', model);
  // The turn estimate prices every token at the dearer rate of its side.
  const upper: LlmRate = {
    inputPer1k: Math.max(rate.inputPer1k, rate.audioInputPer1k ?? 0),
    outputPer1k: Math.max(rate.outputPer1k, rate.audioOutputPer1k ?? 0),
  };
  const defaultMax = ctx.limits.llmDefaultMaxTokens;
  let sessionMax: number | undefined;
  let context = 0;
  const pending: Pending[] = [];
  const used: Required<LlmUsage> = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, audioInputTokens: 0, audioOutputTokens: 0 };
  let committed = 0;
  let refusedEventId: string | undefined;
  // Input transcription (a separate ASR model, billed at its own price, per item).
  let asrModel: string | undefined;
  let asrMs = 0;
  const asr = new Map<string, { rate: number; ms: number; tokens: LlmUsage; micro: number }>();
  const asrMicro = (): number => {
    let n = 0;
    for (const a of asr.values()) n += a.micro;
    return n;
  };
  /** A transcription item's usage: seconds at the model's STT row (else Whisper's), tokens at its LLM row if priced. */
  const transcribed = (usage: Record<string, unknown>): number => {
    const m = asrModel ?? 'whisper-1';
    let a = asr.get(m);
    if (!a) asr.set(m, (a = { rate: ctx.byok ? 0 : (ctx.pricing.sttRate(ctx.provider, m) ?? 0), ms: 0, tokens: { inputTokens: 0, outputTokens: 0 }, micro: 0 }));
    let total: number;
    if (usage.type === 'duration' && typeof usage.seconds === 'number' && usage.seconds >= 0) {
      const ms = Math.round(usage.seconds * 1000);
      a.ms += ms;
      asrMs += ms;
      total = ctx.pricing.sttCost(a.rate, a.ms) + tokenCost(m, a.tokens);
    } else {
      const u = realtimeUsage(usage);
      a.tokens = { inputTokens: a.tokens.inputTokens + u.inputTokens + (u.audioInputTokens ?? 0) + (u.cacheReadTokens ?? 0), outputTokens: a.tokens.outputTokens + u.outputTokens + (u.audioOutputTokens ?? 0) };
      total = ctx.pricing.sttCost(a.rate, a.ms) + tokenCost(m, a.tokens);
    }
    const micro = total - a.micro;
    a.micro = total;
    return micro;
  };
  const tokenCost = (m: string, u: LlmUsage): number => {
    const r = ctx.byok ? undefined : ctx.pricing.llmRate(ctx.provider, m);
    return r ? llmCost(r, u) : 0;
  };
  const estimate = (maxOut: number | undefined): number => llmCost(upper, { inputTokens: context, outputTokens: maxOut ?? sessionMax ?? defaultMax });
  const held = (): number => pending.reduce((n, p) => n + p.micro, 0);

  return {
    modality: 'llm',
    model,
    stepMicro: estimate(undefined),
    client(frame, budget): FrameVerdict {
      if (frame.binary) return { forward: null, microCredits: 0 };
      const type = openaiEventType(frame);
      if (type !== undefined && type !== 'session.update' && type !== 'response.create') return pass(frame);
      const msg = jsonObject(frame);
      if (!msg) return pass(frame); // OpenAI answers it with an error event
      if (msg.type === 'session.update') {
        const session = obj(msg.session);
        asrModel = transcriptionModel(session) ?? asrModel;
        sessionMax = maxTokens(session) ?? (session.max_output_tokens === 'inf' || session.max_response_output_tokens === 'inf' ? undefined : sessionMax);
        if (typeof session.model === 'string' && ctx.pricing.normalizeModel('openai', session.model) !== canonical) {
          const { model: _dropped, ...rest } = session;
          return pass(jsonFrame({ ...msg, session: rest }));
        }
        return pass(frame);
      }
      if (msg.type !== 'response.create') return pass(frame);
      const micro = estimate(maxTokens(obj(msg.response)));
      if (micro > budget.microCredits) {
        if (!budget.final) return { forward: null, microCredits: 0, needMicro: micro };
        refusedEventId = typeof msg.event_id === 'string' ? msg.event_id : undefined;
        return { forward: null, microCredits: 0, cut: true };
      }
      pending.push(typeof msg.event_id === 'string' ? { eventId: msg.event_id, micro } : { micro });
      return pass(frame);
    },
    provider(frame, budget): FrameVerdict {
      const type = openaiEventType(frame);
      if (type !== undefined && !PROVIDER_EVENTS.has(type)) return pass(frame);
      const msg = jsonObject(frame);
      if (!msg) return pass(frame);
      const response = obj(msg.response);
      const id = typeof response.id === 'string' ? response.id : undefined;
      switch (msg.type) {
        case 'session.created':
        case 'session.updated': {
          const m = maxTokens(obj(msg.session));
          if (m !== undefined) sessionMax = m;
          asrModel = transcriptionModel(obj(msg.session)) ?? asrModel;
          return pass(frame);
        }
        case 'conversation.item.input_audio_transcription.completed':
          return { forward: frame, microCredits: transcribed(obj(msg.usage)) };
        case 'response.created': {
          const mine = pending.find((p) => p.responseId === undefined);
          if (mine) {
            if (id) mine.responseId = id;
            return pass(frame);
          }
          // Started by the server (VAD): hold its estimate from now; cut if nothing covers it.
          const micro = estimate(maxTokens(response));
          pending.push(id ? { responseId: id, micro } : { micro });
          return micro > budget.microCredits && budget.final ? { forward: frame, microCredits: 0, cut: true } : pass(frame);
        }
        case 'response.done': {
          let i = pending.findIndex((p) => p.responseId !== undefined && p.responseId === id);
          if (i < 0) i = pending.findIndex((p) => p.responseId === undefined);
          const released = i >= 0 ? pending.splice(i, 1)[0]!.micro : 0;
          const usage = obj(response.usage);
          const u = realtimeUsage(usage);
          for (const k of Object.keys(u) as Array<keyof LlmUsage>) used[k] += u[k] ?? 0;
          context = count(usage.input_tokens) + count(usage.output_tokens);
          const total = llmCost(rate, used);
          const micro = total - committed;
          committed = total;
          // Spent whatever the budget says; with nothing left on a final budget, the session ends.
          const left = budget.microCredits + released - micro;
          return budget.final && left <= 0 && pending.length === 0 ? { forward: frame, microCredits: micro, cut: true } : { forward: frame, microCredits: micro };
        }
        case 'error': {
          // OpenAI refused a `response.create` (e.g. a response is already active): release it.
          const eventId = obj(msg.error).event_id;
          const i = typeof eventId === 'string' ? pending.findIndex((p) => p.responseId === undefined && p.eventId === eventId) : -1;
          if (i >= 0) pending.splice(i, 1);
          return pass(frame);
        }
        default:
          return pass(frame);
      }
    },
    held,
    totals: () => ({
      microCredits: committed + asrMicro(),
      units: {
        inputTokens: used.inputTokens + used.audioInputTokens,
        cacheReadTokens: used.cacheReadTokens,
        outputTokens: used.outputTokens + used.audioOutputTokens,
        ...(asrMs > 0 ? { audioMs: asrMs } : {}),
      },
    }),
    cutFrame: (reason) => openaiCutFrame(reason, refusedEventId),
  };
}

export const openaiRealtime: RealtimeEndpoint = {
  provider: 'openai',
  path: '/v1/realtime',
  // `?call_id=` (sideband control of a WebRTC call) carries no media through tollgate: not served.
  accepts: (q) => !!q.get('model') || q.get('intent') === 'transcription',
  keyProtocols: [{ prefix: 'openai-insecure-api-key.' }],
  providerIdleMs: 3_600_000,
  prepareUpstream(up, ctx) {
    // Browser beta clients say so in a subprotocol; OpenAI wants the header.
    const offered = ctx.headers['sec-websocket-protocol'];
    if (typeof offered === 'string' && offered.split(',').some((p) => p.trim() === 'openai-beta.realtime-v1')) up.headers['openai-beta'] ??= 'realtime=v1';
  },
  open(ctx): SessionMeter {
    const model = ctx.query.get('model');
    if (model) return conversationMeter(ctx, model);
    return openaiTranscriptionMeter(ctx);
  },
};

export type { Frame };
