// ElevenLabs `stream-input` through tollgate with a plain `ws` client (the ElevenLabs SDK has no
// client for it), the key in the first message: 1,000 code points (emoji included) = exactly 166
// credits, the key never reaches the provider; a Free account is cut at the exact code point its
// credits cover, with ElevenLabs' own error message and close 4402.

import t from 'tap';
import WebSocket from 'ws';
import { startFakeElevenLabs } from '../../helpers/realtime/fake-elevenlabs.js';
import { eventually, startTollgate, TEST_KEY } from '../../helpers/tollgate.js';

const PLATFORM = 'xi-platform-key-0001';
/** 100 code points, 120 UTF-16 units: "Hi 👋 " is 5 code points. */
const CHUNK = 'Hi 👋 '.repeat(20);

function open(url: string): Promise<{ ws: WebSocket; got: any[]; closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(url);
  const got: any[] = [];
  ws.on('message', (d) => got.push(JSON.parse(d.toString())));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, got, closed }));
    ws.once('error', reject);
  });
}

t.test('1,000 code points with the key in the first message = 166 credits; the key never upstream', async (t) => {
  const fake = await startFakeElevenLabs({ apiKey: PLATFORM });
  const tg = await startTollgate({ providers: { elevenlabs: { baseUrl: fake.url, apiKey: PLATFORM } } });
  t.teardown(async () => {
    await tg.close();
    await fake.close();
  });
  const { ws, got, closed } = await open(`${tg.base('elevenlabs').replace('http', 'ws')}/v1/text-to-speech/voice-1/stream-input?model_id=eleven_flash_v2_5&output_format=pcm_16000`);
  ws.send(JSON.stringify({ text: ' ', 'xi-api-key': TEST_KEY, voice_settings: { stability: 0.5, similarity_boost: 0.8 } }));
  for (let i = 0; i < 10; i++) ws.send(JSON.stringify({ text: CHUNK, try_trigger_generation: true }));
  ws.send(JSON.stringify({ text: '' }));
  t.same(await closed, { code: 1000, reason: '' });
  t.equal(got.length, 11, '10 audio messages and isFinal');
  t.equal(got.at(-1).isFinal, true);

  const c = fake.connections[0]!;
  t.equal(fake.textChars(c), 1000);
  t.equal(c.headers['xi-api-key'], PLATFORM, 'the platform key goes in the header');
  const everything = JSON.stringify({ h: c.headers, q: [...c.query], p: c.protocols, f: c.frames.map((f) => f.text) });
  t.notOk(everything.includes(TEST_KEY), 'the customer key is nowhere in what ElevenLabs received');
  t.same(JSON.parse(c.frames[0]!.text), { text: ' ', voice_settings: { stability: 0.5, similarity_boost: 0.8 } });

  await eventually(async () => (await tg.usage()).credits?.used === 166, 10_000).catch(() => {});
  const usage = await tg.usage();
  t.equal(usage.credits.used, 166);
  t.equal(usage.breakdown.tts, 166);
  t.equal(usage.reserved, 0, 'nothing stays reserved');
});

t.test('a Free account with 100 credits: cut at the 602nd code point, error message, close 4402', async (t) => {
  // 166 credits per 1,000 code points = 0.166 a code point: 602 cost 99.932, 603 would be 100.098.
  const fake = await startFakeElevenLabs({ apiKey: PLATFORM });
  const tg = await startTollgate({ providers: { elevenlabs: { baseUrl: fake.url, apiKey: PLATFORM } }, tiers: { free: { includedCredits: 100 } } });
  t.teardown(async () => {
    await tg.close();
    await fake.close();
  });
  const { ws, got, closed } = await open(`${tg.base('elevenlabs').replace('http', 'ws')}/v1/text-to-speech/voice-1/stream-input?model_id=eleven_flash_v2_5`);
  ws.send(JSON.stringify({ text: ' ', xi_api_key: TEST_KEY }));
  for (let i = 0; i < 10; i++) ws.send(JSON.stringify({ text: CHUNK }));
  t.same(await closed, { code: 4402, reason: 'insufficient_credits' });
  t.same(got.at(-1), { message: 'This account has no credits left for this session.', error: 'insufficient_credits', code: 4402 });
  await fake.closedCount(1);
  const c = fake.connections[0]!;
  t.equal(fake.textChars(c), 602, 'ElevenLabs received exactly the code points the credits cover');
  t.equal(JSON.parse(c.frames.at(-1)!.text).text, 'Hi', 'the last message was cut to its first 2 code points');
  t.equal(c.closed?.code, 1000);
  await eventually(async () => (await tg.usage()).reserved === 0, 10_000);
  const usage = await tg.usage();
  t.equal(usage.credits.used, 99.932);
  t.equal(usage.credits.remaining, 0.068);
});

t.test('BYOK: the customer key for ElevenLabs goes upstream, characters counted, zero credits', async (t) => {
  const BYOK = 'xi-customer-own-key-0001';
  const fake = await startFakeElevenLabs({ apiKey: BYOK });
  const tg = await startTollgate({ providers: { elevenlabs: { baseUrl: fake.url, apiKey: PLATFORM } } });
  t.teardown(async () => {
    await tg.close();
    await fake.close();
  });
  const ws = new WebSocket(`${tg.base('elevenlabs').replace('http', 'ws')}/v1/text-to-speech/voice-1/stream-input`, {
    headers: { 'xi-api-key': TEST_KEY, 'x-provider-key-elevenlabs': BYOK },
  });
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  ws.send(JSON.stringify({ text: ' ' }));
  ws.send(JSON.stringify({ text: CHUNK }));
  ws.send(JSON.stringify({ text: '' }));
  t.equal(await closed, 1000);
  const c = fake.connections[0]!;
  t.equal(c.headers['xi-api-key'], BYOK);
  t.notOk(JSON.stringify(c.headers).includes(TEST_KEY));
  t.equal(fake.textChars(c), 100);
  await eventually(async () => (await tg.usage()).byok.requestCount > 0, 10_000);
  const u = await tg.usage();
  t.equal(u.credits.used, 0);
  t.same(u.byok, { requestCount: 1, usage: { tts: { characters: 100 }, stt: {}, llm: {}, rag: {} } });
});
