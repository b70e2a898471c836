// Test helper: Fish Audio's live TTS socket (`/v1/tts/live`) as a local `ws` server. Every frame
// is binary MessagePack both ways: client `start` (with `request.text`), `text`, `flush`, `stop`;
// server `audio` (raw bytes) and `finish` (then it closes). The key is `Authorization: Bearer`,
// the backend the required `model` header. Wire shapes: fishaudio/fish-audio-typescript
// src/client/websocket/*, fish-audio-python resources/realtime.py.

import { decode, encode } from '@msgpack/msgpack';
import { startFakeSocketServer, type FakeConnection, type FakeSocketServer } from './fake-socket.js';

export interface FakeFishAudio extends FakeSocketServer {
  /** Every decoded client event, in order. */
  events(c: FakeConnection): Array<Record<string, unknown>>;
  /** Code points of `start.request.text` and every `text` event received. */
  textChars(c: FakeConnection): number;
}

function send(c: FakeConnection, value: unknown): void {
  if (c.socket.readyState === c.socket.OPEN) c.socket.send(encode(value), { binary: true });
}

export function fishEvent(data: Buffer): Record<string, unknown> | undefined {
  try {
    const v = decode(data) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function textOf(ev: Record<string, unknown>): string {
  if (ev.event === 'text' && typeof ev.text === 'string') return ev.text;
  const req = ev.event === 'start' ? (ev.request as Record<string, unknown> | undefined) : undefined;
  return typeof req?.text === 'string' ? req.text : '';
}

export async function startFakeFishAudio(opts: { apiKey: string }): Promise<FakeFishAudio> {
  const fake = await startFakeSocketServer({
    onOpen(c) {
      if (c.headers.authorization !== `Bearer ${opts.apiKey}`) {
        send(c, { event: 'finish', reason: 'error', message: 'Invalid API key' });
        c.socket.close(1008, 'unauthorized');
      }
    },
    onFrame(c, frame) {
      const ev = frame.binary ? fishEvent(frame.data) : undefined;
      if (!ev) {
        send(c, { event: 'finish', reason: 'error', message: 'expected a msgpack frame' });
        c.socket.close(1003, 'invalid frame');
        return;
      }
      const text = textOf(ev);
      if (text !== '') send(c, { event: 'audio', audio: new Uint8Array(3 * [...text].length).fill(7) });
      if (ev.event === 'stop') {
        send(c, { event: 'finish', reason: 'stop' });
        c.socket.close(1000);
      }
    },
  });
  const events = (c: FakeConnection) => c.frames.map((f) => fishEvent(f.data)).filter((e): e is Record<string, unknown> => e !== undefined);
  return {
    ...fake,
    events,
    textChars: (c) => events(c).reduce((n, ev) => n + [...textOf(ev)].length, 0),
  };
}
