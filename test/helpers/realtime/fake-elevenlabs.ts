// Test helper: ElevenLabs' realtime sockets as a local `ws` server. TTS `stream-input` and
// `multi-stream-input` (JSON text both ways, base64 `audio` answers, `{"isFinal":true}`, the key
// in the `xi-api-key` header or the first message) and Scribe realtime STT
// (`/v1/speech-to-text/realtime`: `session_started`, base64 `input_audio_chunk`s, commits).
// Wire shapes: elevenlabs-docs asyncapi.yml; @elevenlabs/elevenlabs-js wrapper/realtime.

import { jsonOf, sendJson, startFakeSocketServer, type FakeConnection, type FakeSocketServer } from './fake-socket.js';

export interface FakeElevenLabs extends FakeSocketServer {
  /** Code points of every `text` the fake received, BOS `" "` of a socket/context excluded. */
  textChars(c: FakeConnection): number;
  /** Decoded bytes of every `audio_base_64` the fake received (STT). */
  audioBytes(c: FakeConnection): number;
}

const STREAM_INPUT = /^\/v1\/text-to-speech\/[^/]+\/(multi-)?stream-input$/;
const STT = '/v1/speech-to-text/realtime';

/** The key the connection authenticated with: the header, the `authorization` query or the first message. */
function keyOf(c: FakeConnection, first?: Record<string, unknown>): string | undefined {
  const h = c.headers['xi-api-key'];
  if (typeof h === 'string') return h;
  const q = c.query.get('authorization') ?? c.query.get('token');
  if (q) return q;
  const m = first?.['xi-api-key'] ?? first?.xi_api_key ?? first?.authorization;
  return typeof m === 'string' ? m.replace(/^Bearer /, '') : undefined;
}

export async function startFakeElevenLabs(opts: { apiKey: string }): Promise<FakeElevenLabs> {
  const fake = await startFakeSocketServer({
    onOpen(c) {
      if (c.path === STT) {
        if (keyOf(c) !== opts.apiKey) {
          sendJson(c, { message_type: 'auth_error', error: 'Invalid API key' });
          c.socket.close(1008, 'auth_error');
          return;
        }
        sendJson(c, { message_type: 'session_started', session_id: 'sess_fake', config: { sample_rate: 16000, audio_format: c.query.get('audio_format') ?? 'pcm_16000', model_id: c.query.get('model_id') } });
      } else if (!STREAM_INPUT.test(c.path)) {
        c.socket.close(1008, 'unknown path');
      }
    },
    onFrame(c, frame) {
      const msg = jsonOf(frame);
      if (c.path === STT) return sttFrame(c, msg);
      if (!msg) {
        sendJson(c, { message: 'Invalid message', error: 'invalid_message', code: 1008 });
        c.socket.close(1008, 'invalid_message');
        return;
      }
      if (c.frames.length === 1 && keyOf(c, msg) !== opts.apiKey) {
        sendJson(c, { message: 'Invalid API key', error: 'invalid_api_key', code: 1008 });
        c.socket.close(1008, 'invalid_api_key');
        return;
      }
      if (c.path.includes('/multi-stream-input')) multiFrame(c, msg);
      else singleFrame(c, msg);
    },
  });
  return {
    ...fake,
    textChars(c) {
      let n = 0;
      const seen = new Set<unknown>();
      for (const f of c.frames) {
        const m = jsonOf(f);
        if (!m || typeof m.text !== 'string') continue;
        const ctx = m.context_id ?? null;
        const first = !seen.has(ctx);
        seen.add(ctx);
        if (first && m.text === ' ') continue;
        n += [...m.text].length;
      }
      return n;
    },
    audioBytes(c) {
      let n = 0;
      for (const f of c.frames) {
        const a = jsonOf(f)?.audio_base_64;
        if (typeof a === 'string') n += Buffer.from(a, 'base64').length;
      }
      return n;
    },
  };
}

/** Two bytes of "audio" per character: the client only needs something base64 to decode. */
function audioFor(text: string): string {
  return Buffer.alloc(2 * [...text].length, 1).toString('base64');
}

function singleFrame(c: FakeConnection, msg: Record<string, unknown>): void {
  const text = msg.text;
  if (text === '') {
    sendJson(c, { audio: null, isFinal: true, normalizedAlignment: null, alignment: null });
    c.socket.close(1000);
    return;
  }
  if (typeof text !== 'string' || text === ' ') return;
  const chars = [...text];
  sendJson(c, {
    audio: audioFor(text),
    isFinal: null,
    normalizedAlignment: { charStartTimesMs: chars.map((_, i) => i * 50), charsDurationsMs: chars.map(() => 50), chars },
    alignment: { charStartTimesMs: chars.map((_, i) => i * 50), charsDurationsMs: chars.map(() => 50), chars },
  });
}

function multiFrame(c: FakeConnection, msg: Record<string, unknown>): void {
  const open = (c.state.contexts ??= new Set<string>()) as Set<string>;
  if (msg.close_socket === true) {
    for (const id of open) sendJson(c, { isFinal: true, contextId: id });
    open.clear();
    c.socket.close(1000);
    return;
  }
  const id = typeof msg.context_id === 'string' ? msg.context_id : 'default';
  if (msg.close_context === true) {
    open.delete(id);
    sendJson(c, { isFinal: true, contextId: id });
    return;
  }
  open.add(id);
  if (open.size > 5) {
    sendJson(c, { message: 'Maximum of 5 contexts per connection', error: 'max_contexts', code: 1008 });
    c.socket.close(1008, 'max_contexts');
    return;
  }
  if (typeof msg.text === 'string' && msg.text.trim() !== '') sendJson(c, { audio: audioFor(msg.text), contextId: id, isFinal: false });
}

function sttFrame(c: FakeConnection, msg: Record<string, unknown> | undefined): void {
  if (!msg || msg.message_type !== 'input_audio_chunk') {
    sendJson(c, { message_type: 'input_error', error: 'Expected an input_audio_chunk message' });
    return;
  }
  const audio = typeof msg.audio_base_64 === 'string' ? Buffer.from(msg.audio_base_64, 'base64').length : 0;
  c.state.pending = ((c.state.pending as number | undefined) ?? 0) + audio;
  if (audio > 0) sendJson(c, { message_type: 'partial_transcript', text: 'hello' });
  if (msg.commit === true) {
    sendJson(c, { message_type: 'committed_transcript', text: `heard ${String(c.state.pending)} bytes` });
    c.state.pending = 0;
  }
}
