// The shapes shared by the audio duration modules (raw PCM, container, dispatcher, multipart,
// msgpack, STT response): a declared PCM format, a measurement, and the streaming duration meter.

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
