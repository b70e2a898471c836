// ElevenLabs Scribe realtime STT `/v1/speech-to-text/realtime`: the audio of every
// `input_audio_chunk`, at ElevenLabs' STT row (`model_id` row first), counted to the sample and
// cut to the sample. https://elevenlabs.io/docs/api-reference/speech-to-text/v-1-speech-to-text-realtime
//
// Wire (@elevenlabs/elevenlabs-js wrapper/realtime/{scribe,connection}.ts): JSON text frames only,
// `{"message_type":"input_audio_chunk","audio_base_64":"…","commit":false,"sample_rate":16000}`;
// a commit is the same message with empty audio. The format is the `audio_format` query
// (`pcm_8000` … `pcm_48000`: 16-bit mono; `ulaw_8000`: 8-bit; default pcm_16000; older SDKs send
// it twice); a chunk's own `sample_rate` wins for its bytes. The key: `xi-api-key` header, or
// `?token=` (browsers). Billing is per second of streamed audio; nothing comes back in-band.
// Errors are `{"message_type": <type>, "error"}` before the close: the cut notice is the
// `quota_exceeded` one. Binary frames are not part of the protocol: dropped.

import { pcmCounter, jsonFrame, jsonObject, pass } from '../meter-kit.js';
import { base64AudioVerdict, counterSet } from '../frame-units.js';
import type { PcmFormat } from '../../meters/audio.js';
import type { FrameVerdict, RealtimeEndpoint, SessionMeter } from '../types.js';

/** Seconds of audio reserved per step. */
const STEP_SECONDS = 5;

/** `pcm_16000` / `ulaw_8000` → its PCM shape; undefined for anything else. */
export function scribeFormat(value: string): PcmFormat | undefined {
  const m = /^(pcm|ulaw)_(\d{4,6})$/.exec(value);
  if (!m) return undefined;
  const sampleRate = Number(m[2]);
  return sampleRate > 0 ? { sampleRate, channels: 1, bytesPerSample: m[1] === 'ulaw' ? 1 : 2 } : undefined;
}

export const elevenlabsRealtimeStt: RealtimeEndpoint = {
  provider: 'elevenlabs',
  path: '/v1/speech-to-text/realtime',
  providerIdleMs: 180_000,
  open(ctx): SessionMeter {
    const q = ctx.query;
    const model = q.get('model_id') || undefined;
    const rate = ctx.sttRate(model);
    const formats = q.getAll('audio_format');
    const name = formats[formats.length - 1] || 'pcm_16000';
    const base = scribeFormat(name) ?? ctx.fail('invalid_request', `audio_format "${name}" is not one tollgate can meter (pcm_<rate> or ulaw_8000)`);
    const counters = counterSet((key) => {
      const [sampleRate, bytesPerSample] = key.split('/').map(Number) as [number, number];
      return pcmCounter({ sampleRate, channels: 1, bytesPerSample }, rate);
    });
    return {
      modality: 'stt',
      ...(model ? { model } : {}),
      stepMicro: ctx.pricing.sttCost(rate, STEP_SECONDS * 1000),
      client(frame, budget): FrameVerdict {
        if (frame.binary) return { forward: null, microCredits: 0 };
        const msg = jsonObject(frame);
        const audio = msg?.audio_base_64;
        if (!msg || typeof audio !== 'string' || audio === '') return pass(frame);
        const sr = msg.sample_rate;
        const sampleRate = typeof sr === 'number' && Number.isSafeInteger(sr) && sr > 0 ? sr : base.sampleRate;
        const counter = counters.get(`${sampleRate}/${base.bytesPerSample}`);
        if (!counter) return { forward: null, microCredits: 0 }; // a ninth sample rate in one session
        return base64AudioVerdict(frame, msg, 'audio_base_64', counter, budget);
      },
      provider: pass,
      totals() {
        let audioMs = 0;
        for (const c of counters.all()) audioMs += c.audioMs();
        return { microCredits: counters.microCredits, units: { audioMs } };
      },
      cutFrame: (reason) =>
        jsonFrame({ message_type: 'quota_exceeded', error: reason === 'spend_limit_reached' ? 'The spend limit of this account is reached.' : 'This account has no credits left for this session.' }),
    };
  },
};
