// Measures the audio inside a streamed msgpack upload (Fish Audio's `POST /v1/asr` body: a map
// with `audio` as bin): the top-level map is walked as bytes pass, the audio bytes go to the
// duration module, small scalar fields are kept, everything else is skipped. Never holds the body.
// Format: https://github.com/msgpack/msgpack/blob/master/spec.md

import type { UploadMeter } from '../providers/types.js';
import { createAudioDuration, type AudioDuration, type MultipartAudioMeasure } from './audio.js';

export interface MsgpackAudioMeter {
  upload: UploadMeter;
  /** Small top-level scalar fields (strings, numbers, booleans) as strings. */
  fields(): Record<string, string>;
  result(): Promise<MultipartAudioMeasure>;
}

const MAX_KEY = 256;
const MAX_FIELD = 16 * 1024;

type Sink = { kind: 'key' | 'field'; parts: Buffer[]; len: number } | { kind: 'audio' } | { kind: 'skip' };

/** `audioField`: the key whose bin (or str) value is the audio. */
export function createMsgpackAudioMeter(audioField: string): MsgpackAudioMeter {
  const fields: Record<string, string> = {};
  let duration: AudioDuration | undefined;
  // Remaining items of each open container; the top-level map counts keys and values.
  const stack: number[] = [];
  let started = false;
  let done = false; // top-level map complete, or not a map, or malformed
  let hdr: number[] = [];
  let hdrNeed = 0;
  let payload = 0; // bytes of str/bin/ext payload still to pass
  let sink: Sink = { kind: 'skip' };
  let key: string | undefined;
  let lagging: Promise<void> | undefined;

  // Where the value whose header is being read sits: a top-level key, a top-level value, deeper.
  const position = (): 'key' | 'value' | 'deep' => (stack.length !== 1 ? 'deep' : stack[0]! % 2 === 0 ? 'key' : 'value');

  function valueDone(): void {
    while (stack.length > 0) {
      stack[stack.length - 1]!--;
      if (stack[stack.length - 1]! > 0) return;
      stack.pop();
    }
    done = true;
  }

  function finishPayload(): void {
    if (sink.kind === 'key') key = sink.len <= MAX_KEY ? Buffer.concat(sink.parts).toString('utf8') : undefined;
    else if (sink.kind === 'field' && key !== undefined && sink.len <= MAX_FIELD) fields[key] = Buffer.concat(sink.parts).toString('utf8');
    else if (sink.kind === 'audio') duration?.end();
    sink = { kind: 'skip' };
    valueDone();
  }

  /** A complete header: `b` is its first byte, `x` the bytes after it. */
  function onHeader(b: number, x: Buffer): void {
    const pos = position();
    if (!started) {
      started = true;
      const n = mapSize(b, x);
      if (n === undefined) {
        done = true;
        return;
      }
      if (n === 0) done = true;
      else stack.push(2 * n);
      return;
    }
    const len = payloadLength(b, x);
    if (len !== undefined) {
      const isStr = (b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb);
      const isBin = b >= 0xc4 && b <= 0xc6;
      if (pos === 'key') sink = { kind: 'key', parts: [], len: 0 };
      else if (pos === 'value' && key === audioField && (isBin || isStr) && !duration) {
        duration = createAudioDuration({});
        sink = { kind: 'audio' };
      } else if (pos === 'value' && isStr) sink = { kind: 'field', parts: [], len: 0 };
      else sink = { kind: 'skip' };
      payload = len;
      if (len === 0) finishPayload();
      return;
    }
    const items = containerItems(b, x);
    if (items !== undefined) {
      if (pos === 'key') key = undefined;
      if (items === 0) valueDone();
      else stack.push(items);
      return;
    }
    // A scalar.
    if (pos === 'key') key = undefined;
    else if (pos === 'value' && key !== undefined) {
      const v = scalar(b, x);
      if (v !== undefined) fields[key] = v;
    }
    valueDone();
  }

  function feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !done) {
      if (payload > 0) {
        const n = Math.min(payload, chunk.length - i);
        const part = chunk.subarray(i, i + n);
        if (sink.kind === 'audio') {
          const p = duration?.push(part);
          if (p && !lagging) lagging = p.then(() => void (lagging = undefined));
        } else if (sink.kind === 'key' || sink.kind === 'field') {
          sink.len += n;
          if (sink.len <= (sink.kind === 'key' ? MAX_KEY : MAX_FIELD)) sink.parts.push(Buffer.from(part));
        }
        payload -= n;
        i += n;
        if (payload === 0) finishPayload();
        continue;
      }
      if (hdrNeed > 0) {
        hdr.push(chunk[i++]!);
        hdrNeed--;
        if (hdrNeed === 0) {
          const [b, ...rest] = hdr;
          hdr = [];
          onHeader(b!, Buffer.from(rest));
        }
        continue;
      }
      const b = chunk[i++]!;
      const extra = headerExtra(b);
      if (extra === undefined) {
        done = true; // 0xc1 is never used: not msgpack
        break;
      }
      if (extra === 0) onHeader(b, EMPTY);
      else {
        hdr = [b];
        hdrNeed = extra;
      }
    }
  }

  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    duration?.end();
  };
  return {
    upload: {
      onChunk(chunk) {
        if (ended || done) return undefined;
        feed(chunk);
        return lagging;
      },
      onEnd: end,
    },
    fields: () => fields,
    async result() {
      end();
      if (!duration) return { ms: undefined, hasFile: false };
      const m = await duration.result();
      return { ...m, hasFile: true, bytes: duration.bytes };
    },
  };
}

const EMPTY = Buffer.alloc(0);

/** Bytes that follow the first byte of a header (lengths, ext type, fixed-size scalars). */
function headerExtra(b: number): number | undefined {
  if (b <= 0xbf || b >= 0xe0) return 0; // fixint, fixmap, fixarray, fixstr, negative fixint
  switch (b) {
    case 0xc0: case 0xc2: case 0xc3: return 0;
    case 0xc4: case 0xd9: case 0xcc: case 0xd0: return 1;
    case 0xc5: case 0xda: case 0xcd: case 0xd1: case 0xdc: case 0xde: return 2;
    case 0xc6: case 0xdb: case 0xce: case 0xd2: case 0xca: case 0xdd: case 0xdf: return 4;
    case 0xcf: case 0xd3: case 0xcb: return 8;
    case 0xc7: return 2; // ext8: len, type
    case 0xc8: return 3;
    case 0xc9: return 5;
    case 0xd4: return 2; // fixext1: type + 1 byte
    case 0xd5: return 3;
    case 0xd6: return 5;
    case 0xd7: return 9;
    case 0xd8: return 17;
    default: return undefined;
  }
}

function payloadLength(b: number, x: Buffer): number | undefined {
  if (b >= 0xa0 && b <= 0xbf) return b & 0x1f;
  switch (b) {
    case 0xc4: case 0xd9: case 0xc7: return x.readUInt8(0);
    case 0xc5: case 0xda: case 0xc8: return x.readUInt16BE(0);
    case 0xc6: case 0xdb: case 0xc9: return x.readUInt32BE(0);
    default: return undefined;
  }
}

function containerItems(b: number, x: Buffer): number | undefined {
  if (b >= 0x80 && b <= 0x8f) return 2 * (b & 0x0f);
  if (b >= 0x90 && b <= 0x9f) return b & 0x0f;
  switch (b) {
    case 0xdc: return x.readUInt16BE(0);
    case 0xdd: return x.readUInt32BE(0);
    case 0xde: return 2 * x.readUInt16BE(0);
    case 0xdf: return 2 * x.readUInt32BE(0);
    default: return undefined;
  }
}

function mapSize(b: number, x: Buffer): number | undefined {
  if (b >= 0x80 && b <= 0x8f) return b & 0x0f;
  if (b === 0xde) return x.readUInt16BE(0);
  if (b === 0xdf) return x.readUInt32BE(0);
  return undefined;
}

function scalar(b: number, x: Buffer): string | undefined {
  if (b <= 0x7f) return String(b);
  if (b >= 0xe0) return String(b - 0x100);
  switch (b) {
    case 0xc2: return 'false';
    case 0xc3: return 'true';
    case 0xcc: return String(x.readUInt8(0));
    case 0xcd: return String(x.readUInt16BE(0));
    case 0xce: return String(x.readUInt32BE(0));
    case 0xcf: return String(x.readBigUInt64BE(0));
    case 0xd0: return String(x.readInt8(0));
    case 0xd1: return String(x.readInt16BE(0));
    case 0xd2: return String(x.readInt32BE(0));
    case 0xd3: return String(x.readBigInt64BE(0));
    case 0xca: return String(x.readFloatBE(0));
    case 0xcb: return String(x.readDoubleBE(0));
    default: return undefined; // nil, ext
  }
}
