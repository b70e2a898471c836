// Seconds of audio in a container (WAV, MP3, FLAC, OGG/Opus, WebM, M4A) measured from its headers
// as the bytes stream past: each chunk is written into music-metadata's stream parser, which is
// dropped once it has the duration or falls too far behind. Nothing here holds a whole file.

import { PassThrough } from 'node:stream';
import { parseBuffer, parseStream, type IAudioMetadata, type IFormat, type IMetadataEvent } from 'music-metadata';
import { measureOf } from './audio-container-measure.js';
import { PARSE_TIMEOUT_MS, withTimeout } from './audio-parse-timeout.js';
import type { AudioDuration, AudioMeasure } from './audio-types.js';

/**
 * Bytes the parser may fall behind the upload before tollgate stops feeding it. The pipeline
 * gives UploadMeter no way to apply backpressure, and music-metadata parses asynchronously: past
 * this bound the measurement is abandoned (the provider's report bills) rather than the upload
 * buffered in memory.
 */
export const MAX_PARSER_LAG_BYTES = 16 * 1024 * 1024;

/**
 * music-metadata imports each container parser on first use. Until that import resolves the
 * first upload after start streams on unparsed, and past MAX_PARSER_LAG_BYTES its measurement is
 * lost; so the parsers are loaded once, when this module is: a parse of a few bytes per type
 * (the parse itself fails; loading the parser is the point). Await it to be sure (tests, start-up).
 */
export function warmAudioParsers(): Promise<void> {
  warming ??= Promise.all(
    ['audio/wav', 'audio/mpeg', 'audio/flac', 'audio/ogg', 'audio/webm', 'audio/mp4', undefined].map((mime) =>
      parseBuffer(new Uint8Array(64), mime).then(
        () => undefined,
        () => undefined,
      ),
    ),
  ).then(() => undefined);
  return warming;
}
let warming: Promise<void> | undefined;
void warmAudioParsers();

export function containerDuration(): AudioDuration {
  // music-metadata reads from a Node stream; we write each chunk in and drop bytes once it is done
  // (FLAC, M4A with moov first, MP3 with an Xing header: it stops early) or too far behind.
  const src = new PassThrough({ highWaterMark: 64 * 1024 });
  let bytes = 0;
  let finished = false; // parser settled: further bytes are dropped
  let ended = false;
  let lagged = false;
  let drained: Promise<void> | undefined; // one waiter for the parser to catch up, shared
  // `duration: true`: an MP3 without an Xing/VBRI header is timed by counting every frame, which
  // needs the whole stream (music-metadata stops after 4 frames otherwise, as it has no file size).
  // Containers whose header states the length (WAV's data chunk, FLAC's STREAMINFO) are final
  // as soon as the parser reports it: stop feeding, rather than let it read through the samples
  // (music-metadata reads a WAV's data chunk to skip it, slower than a local upload arrives).
  let early: IFormat | undefined;
  const observer = (e: IMetadataEvent): void => {
    if (early || e.tag.type !== 'format') return;
    const f = e.metadata.format;
    const container = (f.container ?? '').toLowerCase();
    const final = (container.includes('wav') && (e.tag.id === 'duration' || e.tag.id === 'bitrate')) || (container.includes('flac') && e.tag.id === 'duration');
    if (!final) return;
    early = { ...f };
    finished = true;
    resolveEarly(undefined);
    queueMicrotask(() => src.destroy());
  };
  let resolveEarly!: (v: undefined) => void;
  const earlyDone = new Promise<undefined>((r) => (resolveEarly = r));
  const parsing: Promise<IAudioMetadata | undefined> = parseStream(src, undefined, { duration: true, skipCovers: true, observer }).then(
    (m) => m,
    () => undefined,
  );
  void parsing.then(() => {
    finished = true;
    // The parser stopped reading: free what is queued; later bytes are dropped in push().
    src.destroy();
  });
  src.on('error', () => {});

  const end = () => {
    if (ended) return;
    ended = true;
    src.end();
  };
  let outcome: Promise<AudioMeasure> | undefined;
  return {
    push(chunk) {
      bytes += chunk.length;
      if (finished || lagged || ended) return undefined;
      if (src.writableLength + src.readableLength > MAX_PARSER_LAG_BYTES) {
        lagged = true;
        src.destroy(new Error('audio parser fell behind the upload'));
        return undefined;
      }
      if (src.write(chunk)) return undefined;
      drained ??= new Promise<void>((resolve) => {
        const done = () => {
          src.off('drain', done);
          src.off('close', done);
          drained = undefined;
          resolve();
        };
        src.on('drain', done);
        src.on('close', done);
      });
      return drained;
    },
    end,
    result() {
      end();
      // Once the header gave a final duration, the parser (its stream destroyed) is not awaited.
      const settled = early ? Promise.resolve(undefined) : withTimeout(Promise.race([parsing, earlyDone]), PARSE_TIMEOUT_MS);
      outcome ??= settled.then((m) => {
        if (early) return measureOf(early, bytes);
        if (lagged || !m) return { ms: undefined };
        return measureOf(m.format, bytes);
      });
      return outcome;
    },
    get bytes() {
      return bytes;
    },
    get finished() {
      return finished;
    },
  };
}
