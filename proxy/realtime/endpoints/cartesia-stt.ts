// Cartesia STT `/stt/websocket` (manual finalize) and `/stt/turns/websocket` (auto finalize): the
// binary audio, at Cartesia's STT row (`model` row first), counted to the sample from the
// `encoding` / `sample_rate` query (mono), cut to the sample.
// https://docs.cartesia.ai/api-reference/stt/stt
//
// Wire (@cartesia/cartesia-js 4.2 resources/stt/{manual,auto}-finalize/*): audio is raw binary
// frames; commands are text frames and pass free: plain `finalize` / `close` (legacy SDKs: `done`)
// on `/stt/websocket`, JSON `{"type":"close"}` / `{"type":"config",…}` on the turns socket. The
// server's `transcript.duration` is a per-chunk cross-check, not a total: not billed. Errors are
// `{type:"error", status_code, title, message}` (cartesia-tts.ts builds the cut notice).

import { binaryAudioVerdict, pass, pcmCounter } from '../meter-kit.js';
import type { PcmFormat } from '../../meters/audio.js';
import { cartesiaCutFrame, cartesiaVersionHeader } from './cartesia-tts.js';
import type { RealtimeEndpoint, SessionMeter } from '../types.js';

/** Seconds of audio reserved per step. */
const STEP_SECONDS = 5;

/** Bytes per sample of Cartesia's raw encodings (STTEncoding). */
const ENCODINGS: Readonly<Record<string, number>> = {
  pcm_s16le: 2,
  pcm_s32le: 4,
  pcm_f16le: 2,
  pcm_f32le: 4,
  pcm_mulaw: 1,
  pcm_alaw: 1,
};

export const cartesiaStt: RealtimeEndpoint = {
  provider: 'cartesia',
  path: /^\/stt(?:\/turns)?\/websocket$/,
  providerIdleMs: 300_000,
  prepareUpstream: cartesiaVersionHeader,
  open(ctx): SessionMeter {
    const q = ctx.query;
    const model = q.get('model') || undefined;
    const rate = ctx.sttRate(model);
    const encoding = q.get('encoding') ?? '';
    const bytesPerSample = ENCODINGS[encoding] ?? ctx.fail('invalid_request', `encoding "${encoding}" is required and must be one of ${Object.keys(ENCODINGS).join(', ')}`);
    const sampleRate = Number(q.get('sample_rate'));
    if (!Number.isSafeInteger(sampleRate) || sampleRate <= 0) ctx.fail('invalid_request', 'sample_rate (Hz) is required for raw audio');
    const pcm: PcmFormat = { sampleRate, channels: 1, bytesPerSample };
    const counter = pcmCounter(pcm, rate);
    return {
      modality: 'stt',
      ...(model ? { model } : {}),
      stepMicro: ctx.pricing.sttCost(rate, STEP_SECONDS * 1000),
      client: (frame, budget) => (frame.binary ? binaryAudioVerdict(frame, counter, budget) : pass(frame)),
      provider: pass,
      totals: () => ({ microCredits: counter.microCredits, units: { audioMs: counter.audioMs() } }),
      cutFrame: (reason) => cartesiaCutFrame(reason),
    };
  },
};
