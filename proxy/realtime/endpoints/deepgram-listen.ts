// Deepgram live STT `/v1/listen`: binary audio frames, billed at Deepgram's STT row (the HTTP
// route's). Raw encodings (`encoding` + `sample_rate` + `channels`) are counted to the sample
// from the bytes, and cut to the sample. Containerised audio (no `encoding`) is measured by the
// audio parser as it passes, else by the final `Metadata.duration`; while it streams, its bytes
// are held against the budget at `sttReserveBytesPerSecond` (the HTTP STT bound), so a Free
// session cannot run past its credits by more than that estimate's error.
// JSON text frames (KeepAlive, Finalize, CloseStream) pass free, opcode kept.
// https://developers.deepgram.com/docs/lower-level-websockets
// Flux `/v2/listen` is the same meter: binary audio from `encoding`/`sample_rate` (mono), its
// text frames (`Configure`, `CloseStream`) free; it sends no Metadata (no in-band duration), and
// closes without a status code (1005, passed on as such).
// https://developers.deepgram.com/docs/flux/close-stream

import { createAudioDuration, pcmFromEncoding, type AudioDuration } from '../../meters/audio.js';
import { billedAudio, secondsToMs } from '../../meters/audio-stt.js';
import { parseProtocols } from '../handshake.js';
import { binaryAudioVerdict, createCounter, jsonObject, pass, pcmCounter } from '../meter-kit.js';
import type { Frame, FrameVerdict, MeterTotals, RealtimeEndpoint, SessionContext, SessionMeter, UpstreamOpen } from '../types.js';

/** Seconds of audio reserved per step. */
const STEP_SECONDS = 5;
const METADATA = Buffer.from('"Metadata"');

/**
 * Deepgram's SDK names every socket with `x-deepgram-session-id` (a UUID): a header in Node
 * (passed through like any header), the subprotocol pair `['x-deepgram-session-id', ID]` in
 * browsers, which tollgate does not send upstream: the ID goes in the header instead.
 * (deepgram-js-sdk CustomClient.ts getWebSocketOptions)
 */
export function deepgramSessionId(up: UpstreamOpen, ctx: SessionContext): void {
  if (up.headers['x-deepgram-session-id']) return;
  const offered = parseProtocols(ctx.headers['sec-websocket-protocol']);
  const i = offered.findIndex((p) => p.toLowerCase() === 'x-deepgram-session-id');
  const id = i >= 0 ? offered[i + 1] : undefined;
  if (id) up.headers['x-deepgram-session-id'] = id;
}

export const deepgramListen: RealtimeEndpoint = {
  provider: 'deepgram',
  path: '/v1/listen',
  keyProtocols: [{ pair: 'token' }, { pair: 'bearer' }],
  providerIdleMs: 10_000,
  prepareUpstream: deepgramSessionId,
  open(ctx): SessionMeter {
    const q = ctx.query;
    const model = q.get('model') || undefined;
    const rate = ctx.sttRate(model);
    const pcm = pcmFromEncoding(q.get('encoding'), q.get('sample_rate'), q.get('channels'));
    let reportedMs: number | undefined;
    const reportFrom = (frame: Frame): void => {
      if (frame.binary || frame.data.indexOf(METADATA) < 0) return;
      const v = jsonObject(frame);
      if (v?.type === 'Metadata') reportedMs = secondsToMs(v.duration) ?? reportedMs;
    };
    const stepMicro = ctx.pricing.sttCost(rate, STEP_SECONDS * 1000);

    if (pcm) {
      const counter = pcmCounter(pcm, rate);
      return {
        modality: 'stt',
        ...(model ? { model } : {}),
        stepMicro,
        client: (frame, budget) => (frame.binary ? binaryAudioVerdict(frame, counter, budget) : pass(frame)),
        provider(frame) {
          reportFrom(frame);
          return pass(frame);
        },
        totals(): MeterTotals {
          const t: MeterTotals = { microCredits: counter.microCredits, units: { audioMs: counter.audioMs() } };
          if (reportedMs !== undefined) t.reported = { audioMs: reportedMs };
          return t;
        },
      };
    }

    // Containerised or compressed audio: no byte rate. Bytes are held at the reservation rate
    // while they pass; the measurement (or Deepgram's figure) bills at the end.
    const bytesPerSecond = ctx.limits.sttReserveBytesPerSecond;
    const estimate = createCounter((bytes) => ctx.pricing.sttCost(rate, Math.ceil((bytes * 1000) / bytesPerSecond)));
    const parser: AudioDuration | undefined = q.get('encoding') ? undefined : createAudioDuration({});
    let billedMs = 0;
    let billedMicro = 0;
    return {
      modality: 'stt',
      ...(model ? { model } : {}),
      stepMicro,
      client(frame, budget): FrameVerdict {
        if (!frame.binary) return pass(frame);
        const t = estimate.take(frame.data.length, budget);
        if (t.needMicro !== undefined) return { forward: null, microCredits: 0, needMicro: t.needMicro };
        if (t.cut) return { forward: null, microCredits: 0, cut: true };
        // Always pushed, even once the parser has what it needs: it counts every byte, and a WAV's
        // duration is bounded by the samples actually received (proxy/meters/audio-container-measure.ts measureOf).
        if (parser) void parser.push(frame.data);
        return pass(frame);
      },
      provider(frame) {
        reportFrom(frame);
        return pass(frame);
      },
      held: () => estimate.microCredits - billedMicro,
      totals: () => {
        const t: MeterTotals = { microCredits: billedMicro, units: { audioMs: billedMs } };
        if (reportedMs !== undefined) t.reported = { audioMs: reportedMs };
        return t;
      },
      async end() {
        const measured = parser ? (await parser.result()).ms : undefined;
        const estimatedMs = Math.ceil((estimate.units * 1000) / bytesPerSecond);
        billedMs = billedAudio(measured, reportedMs, estimatedMs).ms;
        billedMicro = ctx.pricing.sttCost(rate, billedMs);
        return billedMicro;
      },
    };
  },
};

/** Flux live STT: the same audio meter (Flux reports no duration in-band; Deepgram's STT row). */
export const deepgramListenV2: RealtimeEndpoint = { ...deepgramListen, path: '/v2/listen' };
