// Test helper for the voice tests: WAV/PCM bytes written in the test, the committed container
// fixtures (test/fixtures/audio, made once with ffmpeg: see its README), multipart bodies.

import { readFileSync } from 'node:fs';
import type { ProxyEvents, SettledRecord } from '../proxy/pipeline.js';

export interface PcmSpec {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

export const PCM16K: PcmSpec = { sampleRate: 16_000, channels: 1, bitsPerSample: 16 };

/** `ms` of a 440 Hz tone as raw little-endian PCM. */
export function pcmBytes(ms: number, spec: PcmSpec = PCM16K): Buffer {
  const bytesPerSample = spec.bitsPerSample / 8;
  const frames = Math.round((spec.sampleRate * ms) / 1000);
  const buf = Buffer.alloc(frames * spec.channels * bytesPerSample);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(Math.sin((2 * Math.PI * 440 * i) / spec.sampleRate) * 8000);
    for (let c = 0; c < spec.channels; c++) {
      const off = (i * spec.channels + c) * bytesPerSample;
      if (bytesPerSample === 2) buf.writeInt16LE(v, off);
      else buf[off] = (v >> 8) + 128;
    }
  }
  return buf;
}

/** A canonical 44-byte RIFF/WAVE header; `dataSize` may lie (0xFFFFFFFF: a streamed WAV). */
export function wavHeader(dataSize: number, spec: PcmSpec = PCM16K): Buffer {
  const h = Buffer.alloc(44);
  const blockAlign = spec.channels * (spec.bitsPerSample / 8);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(Math.min(0xffffffff, 36 + dataSize), 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(spec.channels, 22);
  h.writeUInt32LE(spec.sampleRate, 24);
  h.writeUInt32LE(spec.sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(spec.bitsPerSample, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataSize, 40);
  return h;
}

/** A complete WAV file of `ms` of tone. */
export function wavBytes(ms: number, spec: PcmSpec = PCM16K): Buffer {
  const pcm = pcmBytes(ms, spec);
  return Buffer.concat([wavHeader(pcm.length, spec), pcm]);
}

/** A committed fixture under test/fixtures/ (read from the source tree; tsc does not copy them). */
export function fixture(path: string): Buffer {
  return readFileSync(new URL(`../../test/fixtures/${path}`, import.meta.url));
}

/** Splits `buf` into chunks of varying size, as a network would deliver it. */
export function* chunked(buf: Buffer, sizes: readonly number[] = [1, 7, 4096, 1000, 65536, 13]): Generator<Buffer> {
  let i = 0;
  let k = 0;
  while (i < buf.length) {
    const n = sizes[k++ % sizes.length]!;
    yield buf.subarray(i, i + n);
    i += n;
  }
}

export interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
  contentType?: string;
}

/** A multipart/form-data body and its Content-Type. */
export function multipart(parts: readonly Part[], boundary = '----tollgate-test-boundary-7MA4YWxkTrZu0gW'): { body: Buffer; contentType: string } {
  const out: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += '\r\n';
    if (p.contentType) head += `Content-Type: ${p.contentType}\r\n`;
    out.push(Buffer.from(`${head}\r\n`), typeof p.value === 'string' ? Buffer.from(p.value) : p.value, Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(out), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A committed JSON fixture. */
export function fixtureJson<T = any>(path: string): T {
  return JSON.parse(fixture(path).toString('utf8')) as T;
}

/** Exactly `n` Unicode code points of text, one in ten an emoji (two UTF-16 units each). */
export function textOfCodePoints(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += i % 10 === 9 ? '👋' : 'abcdefghi é'[i % 10];
  return s;
}

/** Collects the pipeline's settled records (units, reported figures, source) for assertions. */
export function settledLog(): { events: ProxyEvents; records: SettledRecord[] } {
  const records: SettledRecord[] = [];
  return { records, events: { settled: (r) => records.push(r) } };
}
