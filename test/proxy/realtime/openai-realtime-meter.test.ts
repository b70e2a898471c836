// OpenAI Realtime meter, driven frame by frame as the session core does: usage mapped to disjoint
// token kinds, turns held from `response.create` (or the server's `response.created`) until
// `response.done`, a refused create released, the model pinned, the transcription cut to the sample.

import t from 'tap';
import { openaiRealtime, realtimeUsage } from '../../../proxy/realtime/endpoints/openai-realtime.js';
import { openaiEventType } from '../../../proxy/realtime/endpoints/openai-realtime-transcription.js';
import { json, openMeter, SessionSim, text } from '../../helpers/realtime/meter-harness.js';

const PRICING = { llm: { 'openai:gpt-realtime': { input: 4, output: 16, cacheRead: 0.4, audioInput: 32, audioOutput: 64 } } };
const open = (query = 'model=gpt-realtime', limits = {}) => openMeter(openaiRealtime, { provider: 'openai', path: '/v1/realtime', query, pricing: PRICING, limits });
const done = (id: string, usage: unknown) => text({ type: 'response.done', event_id: 'e', response: { id, status: 'completed', usage } });

t.test('usage → disjoint token kinds (cached a subset of input; audio split out)', async (t) => {
  t.same(
    realtimeUsage({ input_tokens: 2000, output_tokens: 500, input_token_details: { text_tokens: 500, audio_tokens: 1500, cached_tokens: 1100, cached_tokens_details: { text_tokens: 400, audio_tokens: 700 } }, output_token_details: { text_tokens: 100, audio_tokens: 400 } }),
    { inputTokens: 100, cacheReadTokens: 1100, audioInputTokens: 800, outputTokens: 100, audioOutputTokens: 400 },
  );
  t.same(realtimeUsage({ input_tokens: 10, output_tokens: 3 }), { inputTokens: 10, cacheReadTokens: 0, audioInputTokens: 0, outputTokens: 3, audioOutputTokens: 0 });
});

t.test('the event type is read from the first bytes; frames with type elsewhere are parsed', async (t) => {
  t.equal(openaiEventType(text('{"type":"input_audio_buffer.append","audio":"AAAA"}')), 'input_audio_buffer.append');
  t.equal(openaiEventType(text('{"audio":"AAAA","type":"response.create"}')), undefined);
  // A response.create with `type` last is still held.
  const meter = open('model=gpt-realtime', { llmDefaultMaxTokens: 1000 });
  const s = new SessionSim(meter, Infinity);
  s.client(text('{"response":{"max_output_tokens":100},"type":"response.create"}'));
  t.equal(meter.held!(), 6_400_000, '100 tokens × 64 credits / 1,000');
});

t.test('a held turn is released by its response.done, which commits the real usage', async (t) => {
  const meter = open('model=gpt-realtime', { llmDefaultMaxTokens: 1000 });
  const s = new SessionSim(meter, Infinity);
  t.equal(meter.stepMicro, 64_000_000);
  s.client(text({ type: 'response.create' }));
  t.equal(meter.held!(), 64_000_000);
  s.provider(text({ type: 'response.created', response: { id: 'r1' } }));
  t.equal(meter.held!(), 64_000_000, 'created names the held turn, no second hold');
  s.provider(done('r1', { input_tokens: 1000, output_tokens: 1000, input_token_details: { text_tokens: 1000, audio_tokens: 0, cached_tokens: 0 }, output_token_details: { text_tokens: 1000, audio_tokens: 0 } }));
  t.equal(meter.held!(), 0);
  t.same(meter.totals(), { microCredits: 20_000_000, units: { inputTokens: 1000, cacheReadTokens: 0, outputTokens: 1000 } });
  // The next turn holds the whole last context at the dearer input rate: 2,000 × 32 + 1,000 × 64.
  s.client(text({ type: 'response.create' }));
  t.equal(meter.held!(), 128_000_000);
});

t.test('server-started responses (VAD) are held from response.created; an OpenAI error releases a create', async (t) => {
  const meter = open('model=gpt-realtime', { llmDefaultMaxTokens: 1000 });
  const s = new SessionSim(meter, Infinity);
  s.provider(text({ type: 'session.updated', session: { max_output_tokens: 200 } }));
  s.provider(text({ type: 'response.created', response: { id: 'vad1' } }));
  t.equal(meter.held!(), 12_800_000, "the session's max_output_tokens: 200 × 64 / 1,000 credits");
  s.client(text({ type: 'response.create', event_id: 'c1' }));
  s.provider(text({ type: 'error', error: { type: 'invalid_request_error', code: 'conversation_already_has_active_response', event_id: 'c1' } }));
  t.equal(meter.held!(), 12_800_000);
  s.provider(done('vad1', { input_tokens: 0, output_tokens: 0 }));
  t.equal(meter.held!(), 0);
});

t.test('session.update cannot switch the session to another model; the same model stays', async (t) => {
  const meter = open();
  const s = new SessionSim(meter, Infinity);
  s.client(text({ type: 'session.update', session: { type: 'realtime', model: 'gpt-realtime-mini', instructions: 'hi' } }));
  s.client(text({ type: 'session.update', session: { type: 'realtime', model: 'gpt-realtime-2025-08-28' } }));
  t.same(json(s.upstream[0]), { type: 'session.update', session: { type: 'realtime', instructions: 'hi' } });
  t.same(json(s.upstream[1]).session.model, 'gpt-realtime-2025-08-28');
});

t.test('transcription: the cut lands on a whole sample of the session format (g711: 1 byte, 8 kHz)', async (t) => {
  // Whisper 12 credits a minute at 8 kHz = 25 µcr a sample; 5 s step = 1 credit; + 1,010 µcr = 40 samples.
  const meter = openMeter(openaiRealtime, { provider: 'openai', path: '/v1/realtime', query: 'intent=transcription' });
  const s = new SessionSim(meter, 1_000_000 + 1_010);
  s.client(text({ type: 'session.update', session: { input_audio_format: 'g711_ulaw', input_audio_transcription: { model: 'whisper-1' } } }));
  s.client(text({ type: 'input_audio_buffer.append', audio: Buffer.alloc(40_000).toString('base64') })); // 5 s
  s.client(text({ type: 'input_audio_buffer.append', audio: Buffer.alloc(800).toString('base64') }));
  t.equal(s.cut, true);
  t.equal(Buffer.from(json(s.upstream.at(-1)).audio, 'base64').length, 40);
  t.same(meter.totals(), { microCredits: 1_001_000, units: { audioMs: 5005 } });
  t.equal(meter.model, 'whisper-1');
  t.equal(json(s.cutNotice()).error.code, 'insufficient_credits');
});

t.test('input transcription in a conversation bills each completed item at the ASR model price', async (t) => {
  const meter = openMeter(openaiRealtime, {
    provider: 'openai',
    path: '/v1/realtime',
    query: 'model=gpt-realtime',
    pricing: { llm: { ...PRICING.llm, 'openai:gpt-4o-transcribe': { input: 2.5, output: 10 } } },
  });
  const s = new SessionSim(meter, Infinity);
  s.client(text({ type: 'session.update', session: { type: 'realtime', audio: { input: { transcription: { model: 'whisper-1' } } } } }));
  // Whisper: 3 s at 12 credits a minute = 0.6 credits.
  s.provider(text({ type: 'conversation.item.input_audio_transcription.completed', item_id: 'i1', content_index: 0, transcript: 'hi', usage: { type: 'duration', seconds: 3 } }));
  t.equal(s.committed, 600_000);
  s.provider(text({ type: 'session.updated', session: { type: 'realtime', audio: { input: { transcription: { model: 'gpt-4o-transcribe' } } } } }));
  // Tokens: 100 in × 2.5 + 50 out × 10 = 750 / 1,000 = 0.75 credits.
  s.provider(text({ type: 'conversation.item.input_audio_transcription.completed', item_id: 'i2', content_index: 0, transcript: 'hi', usage: { type: 'tokens', input_tokens: 100, output_tokens: 50, total_tokens: 150, input_token_details: { text_tokens: 20, audio_tokens: 80 } } }));
  t.equal(s.committed, 600_000 + 750_000);
  t.same(meter.totals(), { microCredits: 1_350_000, units: { inputTokens: 0, cacheReadTokens: 0, outputTokens: 0, audioMs: 3000 } });
});
