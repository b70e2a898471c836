// Test helper: OpenAI's Realtime socket (`/v1/realtime?model=…` and `?intent=transcription`) as a
// local `ws` server speaking the GA events: `session.created` on open, `session.updated`,
// `input_audio_buffer.committed`, `response.created` … `response.done` with the usage the test
// queues, `conversation.item.input_audio_transcription.completed` (Whisper: `usage.type:
// "duration"`), and `error` events. The key is `Authorization: Bearer` or the browser
// subprotocol `openai-insecure-api-key.KEY` (with `realtime`). Shapes: openai-node
// resources/realtime/realtime.ts.

import { jsonOf, sendJson, startFakeSocketServer, type FakeConnection, type FakeSocketServer } from './fake-socket.js';

export interface RealtimeUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  input_token_details: {
    text_tokens: number;
    audio_tokens: number;
    image_tokens?: number;
    cached_tokens: number;
    cached_tokens_details: { text_tokens: number; audio_tokens: number; image_tokens?: number };
  };
  output_token_details: { text_tokens: number; audio_tokens: number };
}

export interface FakeOpenAIRealtime extends FakeSocketServer {
  /** Decoded bytes of every `input_audio_buffer.append` received. */
  appendedBytes(c: FakeConnection): number;
  /** `type`s of the client events received, in order. */
  eventTypes(c: FakeConnection): string[];
}

let seq = 0;
const id = (p: string) => `${p}_${(++seq).toString(36).padStart(6, '0')}`;

function keyOf(c: FakeConnection): string | undefined {
  const h = c.headers.authorization;
  if (typeof h === 'string' && h.startsWith('Bearer ')) return h.slice(7);
  return c.protocols.find((p) => p.startsWith('openai-insecure-api-key.'))?.slice('openai-insecure-api-key.'.length);
}

/**
 * `usages[i]` answers the i-th `response.create` of any connection (in arrival order);
 * `transcriptionSeconds(bytes)` the `duration` a Whisper transcription reports for a commit.
 */
export async function startFakeOpenAIRealtime(opts: { apiKey: string; usages?: RealtimeUsage[] }): Promise<FakeOpenAIRealtime> {
  let responses = 0;
  const fake = await startFakeSocketServer({
    protocol: (offered) => (offered.includes('realtime') ? 'realtime' : false),
    onOpen(c) {
      if (keyOf(c) !== opts.apiKey) {
        sendJson(c, { type: 'error', event_id: id('event'), error: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.', param: null, event_id: null } });
        c.socket.close(1008, 'invalid_api_key');
        return;
      }
      const transcription = c.query.get('intent') === 'transcription';
      c.state.session = transcription
        ? { type: 'transcription', object: 'realtime.transcription_session', id: id('sess'), audio: { input: { format: { type: 'audio/pcm', rate: 24000 }, transcription: null } } }
        : { type: 'realtime', object: 'realtime.session', id: id('sess'), model: `${c.query.get('model')}-2025-08-28`, output_modalities: ['audio'], max_output_tokens: 'inf', audio: { input: { format: { type: 'audio/pcm', rate: 24000 } }, output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'marin' } } };
      sendJson(c, { type: 'session.created', event_id: id('event'), session: c.state.session });
    },
    onFrame(c, frame) {
      const ev = jsonOf(frame);
      if (!ev || typeof ev.type !== 'string') {
        sendJson(c, { type: 'error', event_id: id('event'), error: { type: 'invalid_request_error', code: 'invalid_json', message: 'The server could not parse the event.', param: null, event_id: null } });
        return;
      }
      switch (ev.type) {
        case 'session.update':
          c.state.session = { ...(c.state.session as object), ...(ev.session as object) };
          sendJson(c, { type: 'session.updated', event_id: id('event'), session: c.state.session });
          break;
        case 'input_audio_buffer.append':
          c.state.buffered = ((c.state.buffered as number | undefined) ?? 0) + Buffer.from(String(ev.audio ?? ''), 'base64').length;
          break;
        case 'input_audio_buffer.commit': {
          const itemId = id('item');
          const bytes = (c.state.buffered as number | undefined) ?? 0;
          c.state.buffered = 0;
          sendJson(c, { type: 'input_audio_buffer.committed', event_id: id('event'), previous_item_id: null, item_id: itemId });
          if (c.query.get('intent') === 'transcription') {
            sendJson(c, { type: 'conversation.item.input_audio_transcription.completed', event_id: id('event'), item_id: itemId, content_index: 0, transcript: 'hello', usage: { type: 'duration', seconds: Math.ceil(bytes / 48_000) } });
          }
          break;
        }
        case 'response.create': {
          const usage = opts.usages?.[responses++];
          const rid = id('resp');
          sendJson(c, { type: 'response.created', event_id: id('event'), response: { object: 'realtime.response', id: rid, status: 'in_progress', output: [], usage: null } });
          sendJson(c, { type: 'response.output_audio_transcript.delta', event_id: id('event'), response_id: rid, item_id: id('item'), output_index: 0, content_index: 0, delta: 'Hi there' });
          sendJson(c, { type: 'response.output_audio.delta', event_id: id('event'), response_id: rid, item_id: id('item'), output_index: 0, content_index: 0, delta: Buffer.alloc(480).toString('base64') });
          sendJson(c, { type: 'response.done', event_id: id('event'), response: { object: 'realtime.response', id: rid, status: 'completed', status_details: null, output: [], usage: usage ?? null } });
          break;
        }
        default:
          break;
      }
    },
  });
  return {
    ...fake,
    appendedBytes(c) {
      let n = 0;
      for (const f of c.frames) {
        const ev = jsonOf(f);
        if (ev?.type === 'input_audio_buffer.append' && typeof ev.audio === 'string') n += Buffer.from(ev.audio, 'base64').length;
      }
      return n;
    },
    eventTypes: (c) => c.frames.map((f) => String(jsonOf(f)?.type ?? '?')),
  };
}
