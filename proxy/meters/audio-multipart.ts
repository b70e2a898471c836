// Measures the audio part of a streamed `multipart/form-data` upload (OpenAI-style STT): busboy
// splits the parts as bytes pass, the file part goes to the duration meter, small text fields are
// kept. Nothing here holds the file.

import busboy from 'busboy';
import type { UploadMeter } from '../providers/types.js';
import { createAudioDuration } from './audio-duration.js';
import { PARSE_TIMEOUT_MS, withTimeout } from './audio-parse-timeout.js';
import type { AudioDuration, AudioMeasure, PcmFormat } from './audio-types.js';

export interface MultipartAudioMeasure extends AudioMeasure {
  /** A file part named in `fileFields` was present. */
  hasFile: boolean;
  /** Bytes of that file part (for raw PCM declared by a field that follows the file). */
  bytes?: number;
}

export interface MultipartAudioMeter {
  /** Give this to the pipeline as the plan's `upload`. */
  upload: UploadMeter;
  /** The small text fields seen so far (complete once `result()` resolved). */
  fields(): Record<string, string>;
  /** Ends parsing if the upload was cut, then measures the first file part. Never rejects. */
  result(): Promise<MultipartAudioMeasure>;
}

export interface MultipartAudioOptions {
  /** Names of the part holding the audio (`file`, `audio`); the first one present is measured. */
  fileFields: readonly string[];
  /** Text fields to keep (model, response_format, …); others are skipped. Default: all. */
  textFields?: readonly string[];
  /** Raw PCM parameters, when the request declares them outside the file. */
  pcm?: PcmFormat;
}

/** Text fields are small; a larger value is dropped (it is not a parameter tollgate reads). */
const MAX_FIELD_BYTES = 16 * 1024;

/** Measures the audio part of a streamed `multipart/form-data` upload with busboy. */
export function createMultipartAudioMeter(contentType: string, opts: MultipartAudioOptions): MultipartAudioMeter {
  const fields: Record<string, string> = {};
  let duration: AudioDuration | undefined;
  let broken = false;
  let closed = false;
  let ended = false;
  let lagging: Promise<void> | undefined;
  let bb: busboy.Busboy | undefined;
  let resolveClosed!: () => void;
  const whenClosed = new Promise<void>((r) => (resolveClosed = r));
  const close = () => {
    closed = true;
    resolveClosed();
  };
  try {
    bb = busboy({ headers: { 'content-type': contentType }, limits: { fieldSize: MAX_FIELD_BYTES, fields: 100, parts: 200 } });
  } catch {
    broken = true; // not multipart, or no boundary
    close();
  }
  if (bb) {
    bb.on('file', (name, stream, info) => {
      if (duration || !opts.fileFields.includes(name)) {
        stream.resume();
        return;
      }
      const d = createAudioDuration(opts.pcm ? { pcm: opts.pcm } : { contentType: info.mimeType });
      duration = d;
      stream.on('data', (c: Buffer) => {
        const p = d.push(c);
        if (p && !lagging) lagging = p.then(() => void (lagging = undefined));
      });
      stream.on('end', () => d.end());
      stream.on('error', () => d.end());
    });
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) return;
      if (opts.textFields && !opts.textFields.includes(name)) return;
      if (!(name in fields)) fields[name] = value;
    });
    bb.on('error', () => {
      broken = true;
      close();
    });
    bb.on('close', close);
  }

  const endInput = () => {
    if (ended) return;
    ended = true;
    if (bb && !broken) bb.end();
  };
  let outcome: Promise<MultipartAudioMeasure> | undefined;
  return {
    upload: {
      onChunk(chunk) {
        if (!bb || broken || ended) return undefined;
        // busboy parses synchronously in write(); file parts are consumed in flowing mode, so
        // nothing accumulates in it. The audio parser may lag: its promise is returned for a
        // pipeline that awaits it (UploadMeter's type says void; see AudioDuration.push).
        bb.write(chunk);
        return lagging;
      },
      onEnd: endInput,
    },
    fields: () => fields,
    result() {
      endInput();
      outcome ??= (async () => {
        if (!closed) await withTimeout(whenClosed, PARSE_TIMEOUT_MS);
        const d = duration;
        if (!d) return { ms: undefined, hasFile: false };
        d.end();
        const m = await d.result();
        return { ...m, hasFile: true, bytes: d.bytes };
      })();
      return outcome;
    },
  };
}
