// Seconds of audio measured from bytes as they stream past: container headers via music-metadata
// (WAV, MP3, FLAC, OGG/Opus, WebM, M4A), raw PCM from its declared format; multipart uploads via
// busboy; and the STT reservation bound. Nothing here holds a whole file.

import { PassThrough } from 'node:stream';
import busboy from 'busboy';
import { parseBuffer, parseStream, type IAudioMetadata, type IFormat, type IMetadataEvent } from 'music-metadata';
import type { PlanLimits, UploadMeter } from '../providers/types.js';

export interface PcmFormat {
  sampleRate: number;
  channels: number;
  bytesPerSample: number;
}

export interface AudioMeasure {
  /** Milliseconds of audio, undefined when the bytes could not be measured. */
  ms: number | undefined;
  /** Short container/codec name: wav, mp3, flac, ogg, webm, m4a, pcm, … */
  format?: string;
}

export interface AudioDuration {
  /**
   * Feeds bytes. Returns a promise while the parser is behind the upload: a caller that can wait
   * should (backpressure); one that cannot may keep pushing up to MAX_PARSER_LAG_BYTES.
   */
  push(chunk: Buffer): Promise<void> | undefined;
  end(): void;
  /** Ends the input if the caller did not (a cut upload), then waits for the parser. Never rejects. */
  result(): Promise<AudioMeasure>;
  /** Bytes pushed so far. */
  readonly bytes: number;
  /** The parser has stopped reading (done or failed): further bytes are counted and dropped. */
  readonly finished: boolean;
}

export interface AudioDurationOptions {
  /** The upload's Content-Type; `audio/l16;rate=…;channels=…` and `audio/pcm` declare raw PCM. */
  contentType?: string;
  /** Raw PCM: the duration is bytes ÷ (rate × channels × bytes per sample). */
  pcm?: PcmFormat;
}

/**
 * Bytes the parser may fall behind the upload before tollgate stops feeding it. The pipeline
 * gives UploadMeter no way to apply backpressure, and music-metadata parses asynchronously: past
 * this bound the measurement is abandoned (the provider's report bills) rather than the upload
 * buffered in memory.
 */
export const MAX_PARSER_LAG_BYTES = 16 * 1024 * 1024;
/** RIFF + fmt + data headers of a plain PCM WAV. */
const WAV_HEADER_BYTES = 44;
/** A parser still busy this long after the upload ended is abandoned. */
const PARSE_TIMEOUT_MS = 10_000;

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

export function createAudioDuration(opts: AudioDurationOptions = {}): AudioDuration {
  if (opts.pcm) return declaredPcm(opts.pcm);
  const pcm = pcmFromContentType(opts.contentType);
  return pcm ? pcmDuration(pcm) : containerDuration();
}

/**
 * Raw PCM declared by request parameters (Deepgram's `encoding=linear16`), which clients also set
 * for audio that has a container: the first bytes decide. Only container magic numbers are
 * checked here, never content sniffing of the samples (PCM near silence looks like MPEG sync).
 */
function declaredPcm(pcm: PcmFormat): AudioDuration {
  let head: Buffer[] = [];
  let headLen = 0;
  let inner: AudioDuration | undefined;
  const decide = (): AudioDuration => {
    const first = Buffer.concat(head, headLen);
    inner = hasContainerMagic(first) ? containerDuration() : pcmDuration(pcm);
    head = [];
    inner.push(first);
    return inner;
  };
  return {
    push(chunk) {
      if (inner) return inner.push(chunk);
      head.push(chunk);
      headLen += chunk.length;
      if (headLen >= MAGIC_BYTES) decide();
      return undefined;
    },
    end() {
      (inner ?? decide()).end();
    },
    result() {
      return (inner ?? decide()).result();
    },
    get bytes() {
      return inner ? inner.bytes : headLen;
    },
    get finished() {
      return inner ? inner.finished : false;
    },
  };
}

const MAGIC_BYTES = 12;
function hasContainerMagic(b: Buffer): boolean {
  if (b.length < 4) return false;
  const ascii = (from: number, to: number) => b.toString('latin1', from, to);
  return (
    ascii(0, 4) === 'RIFF' ||
    ascii(0, 4) === 'fLaC' ||
    ascii(0, 4) === 'OggS' ||
    ascii(0, 3) === 'ID3' ||
    ascii(4, 8) === 'ftyp' ||
    b.readUInt32BE(0) === 0x1a45dfa3 // EBML: WebM, Matroska
  );
}

function pcmDuration(pcm: PcmFormat): AudioDuration {
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

function containerDuration(): AudioDuration {
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

function measureOf(f: IFormat, bytes: number): AudioMeasure {
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

/**
 * The audio milliseconds to reserve before forwarding an STT request: the duration when it is
 * known up front (raw PCM with a Content-Length, a declared duration), else Content-Length at
 * `sttReserveBytesPerSecond`, capped at `sttMaxReserveSeconds` (also the bound when the length
 * is unknown, e.g. a chunked upload).
 */
export function sttReserveMs(limits: PlanLimits, contentLength: number | undefined, knownMs?: number): number {
  if (knownMs !== undefined && Number.isFinite(knownMs) && knownMs >= 0) return Math.ceil(knownMs);
  const capMs = limits.sttMaxReserveSeconds * 1000;
  if (contentLength === undefined || !Number.isFinite(contentLength) || contentLength < 0) return capMs;
  return Math.min(Math.ceil((contentLength * 1000) / limits.sttReserveBytesPerSecond), capMs);
}

/** Raw PCM duration from a byte count, for a reservation when the length is known. */
export function pcmMs(pcm: PcmFormat, bytes: number): number {
  return Math.round((bytes * 1000) / (pcm.sampleRate * pcm.channels * pcm.bytesPerSample));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      () => {
        clearTimeout(t);
        resolve(undefined);
      },
    );
  });
}
