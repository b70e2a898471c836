// Test helper: Cartesia's realtime sockets as a local `ws` server. `/tts/websocket` (JSON
// generation requests per `context_id`, `chunk` answers with base64 `data`, `flush_done`, `done`)
// and `/stt/websocket` (binary audio, plain-text `finalize` / `close` / legacy `done`, JSON
// `transcript`, `flush_done`, `done` then close). Wire shapes: @cartesia/cartesia-js 4.2
// (internal/lib/tts/ws.ts, resources/stt/manual-finalize/*); the key is `Authorization: Bearer`
// or `?api_key=` / `?access_token=`.

import { jsonOf, sendJson, startFakeSocketServer, type FakeConnection, type FakeSocketServer } from './fake-socket.js';

export interface FakeCartesia extends FakeSocketServer {
  /** Code points of every `transcript` received. */
  transcriptChars(c: FakeConnection): number;
  /** Bytes of every binary frame received (STT audio). */
  audioBytes(c: FakeConnection): number;
}

function keyOf(c: FakeConnection): string | undefined {
  const h = c.headers.authorization;
  if (typeof h === 'string' && h.startsWith('Bearer ')) return h.slice(7);
  return c.query.get('api_key') ?? c.query.get('access_token') ?? undefined;
}

export async function startFakeCartesia(opts: { apiKey: string }): Promise<FakeCartesia> {
  const fake = await startFakeSocketServer({
    onOpen(c) {
      if (keyOf(c) !== opts.apiKey) {
        sendJson(c, { type: 'error', status_code: 401, title: 'Unauthorized', message: 'Invalid API key', done: true });
        c.socket.close(1008, 'unauthorized');
      }
    },
    onFrame(c, frame) {
      if (c.path === '/stt/websocket') return sttFrame(c, frame.binary ? undefined : frame.text, frame.binary ? frame.data.length : 0);
      const msg = jsonOf(frame);
      if (!msg) return;
      const ctx = String(msg.context_id ?? '');
      if (msg.cancel === true) return;
      const transcript = typeof msg.transcript === 'string' ? msg.transcript : '';
      if (transcript !== '') {
        sendJson(c, { type: 'chunk', context_id: ctx, status_code: 206, done: false, step_time: 12.5, data: Buffer.alloc(4 * [...transcript].length, 2).toString('base64') });
      }
      if (msg.flush === true) {
        const id = ((c.state.flushes as number | undefined) ?? 0) + 1;
        c.state.flushes = id;
        sendJson(c, { type: 'flush_done', context_id: ctx, flush_id: id, done: false, status_code: 206 });
      }
      if (msg.continue !== true) sendJson(c, { type: 'done', context_id: ctx, done: true, status_code: 200 });
    },
  });
  return {
    ...fake,
    transcriptChars(c) {
      let n = 0;
      for (const f of c.frames) {
        const t = jsonOf(f)?.transcript;
        if (typeof t === 'string') n += [...t].length;
      }
      return n;
    },
    audioBytes(c) {
      return c.frames.reduce((n, f) => n + (f.binary ? f.data.length : 0), 0);
    },
  };
}

function sttFrame(c: FakeConnection, command: string | undefined, bytes: number): void {
  const rate = Number(c.query.get('sample_rate'));
  const width = /32|f32/.test(c.query.get('encoding') ?? '') ? 4 : /mulaw|alaw/.test(c.query.get('encoding') ?? '') ? 1 : 2;
  if (command === undefined) {
    c.state.pending = ((c.state.pending as number | undefined) ?? 0) + bytes;
    return;
  }
  const flush = () => {
    const pending = (c.state.pending as number | undefined) ?? 0;
    c.state.pending = 0;
    sendJson(c, { type: 'transcript', request_id: 'req_fake', is_final: true, text: 'hello', duration: pending / (rate * width) });
  };
  if (command === 'finalize') {
    flush();
    sendJson(c, { type: 'flush_done', request_id: 'req_fake' });
  } else if (command === 'close' || command === 'done') {
    flush();
    sendJson(c, { type: 'done', request_id: 'req_fake' });
    c.socket.close(1000);
  } else {
    sendJson(c, { type: 'error', request_id: 'req_fake', status_code: 400, title: 'Bad Request', message: `unknown command ${command}` });
  }
}
