// Picks the duration meter for an upload: raw PCM when the request declares it (parameters or
// Content-Type) and the first bytes carry no container magic number, else the container parser.

import { containerDuration } from './audio-container.js';
import { pcmDuration, pcmFromContentType } from './audio-pcm.js';
import type { AudioDuration, AudioDurationOptions, PcmFormat } from './audio-types.js';

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
