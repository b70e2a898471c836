// Raw PCM (no container): the format a request declares (Content-Type `audio/l16;rate=…`, or
// Deepgram-style `encoding`/`sample_rate`/`channels` parameters) and the duration counted from
// bytes ÷ byte rate as they stream past.

import type { AudioDuration, PcmFormat } from './audio-types.js';

export function pcmDuration(pcm: PcmFormat): AudioDuration {
  const byteRate = pcm.sampleRate * pcm.channels * pcm.bytesPerSample;
  let bytes = 0;
  return {
    push(chunk) {
      bytes += chunk.length;
      return undefined;
    },
    end() {},
    async result() {
      if (!(byteRate > 0) || !Number.isFinite(byteRate)) return { ms: undefined, format: 'pcm' };
      return { ms: Math.round((bytes * 1000) / byteRate), format: 'pcm' };
    },
    get bytes() {
      return bytes;
    },
    finished: true,
  };
}

/** `audio/l16;rate=16000;channels=1` (RFC 2586) and `audio/pcm;rate=…` declare raw PCM. */
export function pcmFromContentType(contentType: string | undefined): PcmFormat | undefined {
  if (!contentType) return undefined;
  const [type, ...params] = contentType.toLowerCase().split(';').map((s) => s.trim());
  const bytesPerSample = type === 'audio/l16' || type === 'audio/pcm' ? 2 : type === 'audio/l8' ? 1 : type === 'audio/l24' ? 3 : 0;
  if (!bytesPerSample) return undefined;
  const p = new Map(params.map((kv) => kv.split('=').map((s) => s.trim()) as [string, string]));
  const sampleRate = Number(p.get('rate'));
  const channels = p.has('channels') ? Number(p.get('channels')) : 1;
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || !Number.isInteger(channels) || channels <= 0) return undefined;
  return { sampleRate, channels, bytesPerSample };
}

/**
 * Raw PCM from query parameters the way Deepgram takes them (`encoding=linear16&sample_rate=16000
 * &channels=1`). Undefined for an encoding that is not linear PCM (then the container is parsed).
 */
export function pcmFromEncoding(encoding: string | null | undefined, sampleRate: string | null | undefined, channels: string | null | undefined): PcmFormat | undefined {
  const bytesPerSample = PCM_ENCODINGS[(encoding ?? '').toLowerCase()];
  if (!bytesPerSample) return undefined;
  const rate = Number(sampleRate);
  const ch = channels === null || channels === undefined || channels === '' ? 1 : Number(channels);
  if (!Number.isInteger(rate) || rate <= 0 || !Number.isInteger(ch) || ch <= 0) return undefined;
  return { sampleRate: rate, channels: ch, bytesPerSample };
}

// Bytes per sample of raw encodings (Deepgram, Cartesia, ElevenLabs names). Compressed raw
// encodings (opus, amr, speex) have no fixed byte rate and are not here.
const PCM_ENCODINGS: Readonly<Record<string, number>> = {
  linear16: 2,
  pcm_s16le: 2,
  pcm_16000: 2,
  linear32: 4,
  pcm_s32le: 4,
  pcm_f32le: 4,
  mulaw: 1,
  pcm_mulaw: 1,
  alaw: 1,
  pcm_alaw: 1,
};

/** Raw PCM duration from a byte count, for a reservation when the length is known. */
export function pcmMs(pcm: PcmFormat, bytes: number): number {
  return Math.round((bytes * 1000) / (pcm.sampleRate * pcm.channels * pcm.bytesPerSample));
}
