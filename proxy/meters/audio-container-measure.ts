// The measurement read from music-metadata's format record: milliseconds (exact from the sample
// count where given) and a short format name, with a WAV bounded by the samples actually received.

import type { IFormat } from 'music-metadata';
import type { AudioMeasure } from './audio-types.js';

/** RIFF + fmt + data headers of a plain PCM WAV. */
const WAV_HEADER_BYTES = 44;

/** `bytes`: the bytes of the upload received, which bound a PCM WAV's duration. */
export function measureOf(f: IFormat, bytes: number): AudioMeasure {
  const format = formatName(f.container, f.codec);
  let ms: number | undefined;
  // numberOfSamples / sampleRate is exact; `duration` is the same as a float.
  if (f.numberOfSamples !== undefined && f.sampleRate) ms = Math.round((f.numberOfSamples * 1000) / f.sampleRate);
  else if (f.duration !== undefined && Number.isFinite(f.duration)) ms = Math.round(f.duration * 1000);
  if (format === 'wav' && f.sampleRate && f.numberOfChannels && f.bitsPerSample && f.codec?.startsWith('PCM')) {
    // A streamed WAV declares a data chunk of 0 or 0xFFFFFFFF bytes (music-metadata then gives no
    // duration), and a cut upload declares more than was sent: the samples actually received,
    // after a canonical 44-byte header, bound the duration.
    const byteRate = f.sampleRate * f.numberOfChannels * Math.ceil(f.bitsPerSample / 8);
    // Rounded as the declared duration is (half up), so a complete WAV bills the same either way.
    const receivedMs = Math.round((Math.max(0, bytes - WAV_HEADER_BYTES) * 1000) / byteRate);
    ms = ms === undefined || ms === 0 ? receivedMs : Math.min(ms, receivedMs);
  }
  if (ms !== undefined && (!Number.isFinite(ms) || ms < 0)) ms = undefined;
  return format ? { ms, format } : { ms };
}

function formatName(container: string | undefined, codec: string | undefined): string | undefined {
  const c = (container ?? '').toLowerCase();
  if (c.includes('wav')) return 'wav';
  if (c === 'mpeg') return 'mp3';
  if (c.includes('flac')) return 'flac';
  if (c.includes('ogg')) return 'ogg';
  if (c.includes('webm')) return 'webm';
  if (c.includes('matroska')) return 'mkv';
  if (c.includes('m4a') || c.includes('mp4') || c.includes('isom') || c.includes('3gp')) return 'm4a';
  if (c) return c;
  return codec?.toLowerCase();
}
