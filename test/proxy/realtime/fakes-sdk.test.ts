// The fake realtime providers speak what the official SDKs expect: each SDK, pointed straight at
// its fake (no tollgate), completes a session. Guards the fakes the end-to-end tests rely on.

import t from 'tap';
import { encode } from '@msgpack/msgpack';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { ElevenLabsClient, AudioFormat, RealtimeEvents } from '@elevenlabs/elevenlabs-js';
import WebSocket from 'ws';
import { startFakeOpenAIRealtime, type RealtimeUsage } from '../../helpers/realtime/fake-openai.js';
import { startFakeCartesia } from '../../helpers/realtime/fake-cartesia.js';
import { startFakeElevenLabs } from '../../helpers/realtime/fake-elevenlabs.js';
import { startFakeFishAudio } from '../../helpers/realtime/fake-fishaudio.js';
import { Cartesia, plainTcp } from '../../helpers/realtime/sdk.js';

const KEY = 'sk-platform-key-0001';

const usage: RealtimeUsage = {
  input_tokens: 1200,
  output_tokens: 300,
  total_tokens: 1500,
  input_token_details: { text_tokens: 200, audio_tokens: 1000, cached_tokens: 100, cached_tokens_details: { text_tokens: 100, audio_tokens: 0 } },
  output_token_details: { text_tokens: 60, audio_tokens: 240 },
};

t.test('openai OpenAIRealtimeWS: session.created, response.done with the queued usage', async (t) => {
  const fake = await startFakeOpenAIRealtime({ apiKey: KEY, usages: [usage] });
  t.teardown(() => fake.close());
  const client = new OpenAI({ apiKey: KEY, baseURL: `${fake.url}/v1` });
  const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime', options: { createConnection: plainTcp } }, client);
  const created = await new Promise<any>((r) => rt.on('session.created', r));
  t.equal(created.session.model, 'gpt-realtime-2025-08-28');
  rt.send({ type: 'response.create' });
  const done = await new Promise<any>((r) => rt.on('response.done', r));
  t.same(done.response.usage, usage);
  rt.close();
  await fake.closedCount(1);
  t.equal(fake.connections[0]!.query.get('model'), 'gpt-realtime');
  t.equal(fake.connections[0]!.headers.authorization, `Bearer ${KEY}`);
  t.same(fake.connections[0]!.closed, { code: 1000, reason: 'OK' });
});

t.test('cartesia TTS websocket: context push, no_more_inputs, chunks until done', async (t) => {
  const fake = await startFakeCartesia({ apiKey: KEY });
  t.teardown(() => fake.close());
  const client = new Cartesia({ apiKey: KEY, baseURL: fake.url });
  const ws = await client.tts.websocket({ createConnection: plainTcp });
  const ctx = ws.context({ model_id: 'sonic-3', voice: { mode: 'id', id: 'voice-1' }, output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 } });
  await ctx.push({ transcript: 'Hello ' });
  await ctx.push({ transcript: 'world 🌍' });
  await ctx.no_more_inputs();
  const types: string[] = [];
  for await (const ev of ctx.receive()) types.push(String(ev.type));
  t.same(types, ['chunk', 'chunk', 'done']);
  ws.close();
  await fake.closedCount(1);
  const c = fake.connections[0]!;
  t.equal(c.path, '/tts/websocket');
  t.equal(c.headers.authorization, `Bearer ${KEY}`);
  t.equal(fake.transcriptChars(c), 13);
});

t.test('cartesia STT manual finalize: binary audio, finalize, close', async (t) => {
  const fake = await startFakeCartesia({ apiKey: KEY });
  t.teardown(() => fake.close());
  const client = new Cartesia({ apiKey: KEY, baseURL: fake.url });
  const ws = client.stt.manualFinalize.websocket({ model: 'ink-whisper', encoding: 'pcm_s16le', sample_rate: 16000 });
  const events: any[] = [];
  ws.on('event', (e: any) => events.push(e));
  // Sent before the socket opens: the SDK queues them and flushes on open.
  ws.sendRaw(Buffer.alloc(32_000));
  ws.send('finalize');
  ws.send('close');
  await fake.closedCount(1);
  const c = fake.connections[0]!;
  t.equal(c.query.get('encoding'), 'pcm_s16le');
  t.equal(fake.audioBytes(c), 32_000);
  t.same(c.frames.filter((f) => !f.binary).map((f) => f.text), ['finalize', 'close']);
  t.same(events.map((e) => e.type), ['transcript', 'flush_done', 'transcript', 'done']);
  t.equal(events[0].duration, 1);
});

t.test('elevenlabs Scribe realtime: session_started, audio chunks, commit', async (t) => {
  const fake = await startFakeElevenLabs({ apiKey: KEY });
  t.teardown(() => fake.close());
  const client = new ElevenLabsClient({ apiKey: KEY, baseUrl: fake.url });
  const conn = await client.speechToText.realtime.connect({ modelId: 'scribe_v2_realtime', audioFormat: AudioFormat.PCM_16000, sampleRate: 16000 });
  await new Promise<void>((r) => conn.on(RealtimeEvents.SESSION_STARTED, () => r()));
  conn.send({ audioBase64: Buffer.alloc(3200).toString('base64') });
  conn.commit();
  const committed = await new Promise<any>((r) => conn.on(RealtimeEvents.COMMITTED_TRANSCRIPT, r));
  t.equal(committed.text, 'heard 3200 bytes');
  conn.close();
  await fake.closedCount(1);
  const c = fake.connections[0]!;
  t.equal(c.headers['xi-api-key'], KEY);
  t.same(c.query.getAll('audio_format'), ['pcm_16000']);
  t.equal(fake.audioBytes(c), 3200);
});

t.test('elevenlabs stream-input (plain ws): key in the first message, audio, isFinal', async (t) => {
  const fake = await startFakeElevenLabs({ apiKey: KEY });
  t.teardown(() => fake.close());
  const ws = new WebSocket(`${fake.url.replace('http', 'ws')}/v1/text-to-speech/voice-1/stream-input?model_id=eleven_flash_v2_5`);
  const got: any[] = [];
  ws.on('message', (d) => got.push(JSON.parse(d.toString())));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ text: ' ', 'xi-api-key': KEY }));
  ws.send(JSON.stringify({ text: 'Hello 👋 ' }));
  ws.send(JSON.stringify({ text: '' }));
  const closed = await new Promise<number>((r) => ws.once('close', r));
  t.equal(closed, 1000);
  t.equal(got.length, 2);
  t.equal(got[1].isFinal, true);
  t.equal(fake.textChars(fake.connections[0]!), 8);
});

t.test('fish audio live (plain ws + msgpack): start, text, stop, finish', async (t) => {
  const fake = await startFakeFishAudio({ apiKey: KEY });
  t.teardown(() => fake.close());
  const ws = new WebSocket(`${fake.url.replace('http', 'ws')}/v1/tts/live`, { headers: { authorization: `Bearer ${KEY}`, model: 's1' } });
  const got: Buffer[] = [];
  ws.on('message', (d) => got.push(d as Buffer));
  await new Promise((r) => ws.once('open', r));
  ws.send(encode({ event: 'start', request: { text: '', format: 'pcm', latency: 'balanced' } }));
  ws.send(encode({ event: 'text', text: 'héllo ' }));
  ws.send(encode({ event: 'stop' }));
  await new Promise((r) => ws.once('close', r));
  t.equal(got.length, 2);
  t.equal(fake.textChars(fake.connections[0]!), 6);
  t.same(fake.events(fake.connections[0]!).map((e) => e.event), ['start', 'text', 'stop']);
});
