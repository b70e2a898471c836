// OpenAI Realtime through tollgate with the `openai` SDK's OpenAIRealtimeWS: two `response.done`
// usages bill exactly at the operator's rates (text, cached, audio in and out); a model with no
// price is refused at the handshake with 400 unpriced_model; on a Free account a turn the credits
// cannot cover is refused with OpenAI's own `error` event and close 4402, never reaching OpenAI.

import t from 'tap';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import WebSocket from 'ws';
import { startFakeOpenAIRealtime, type RealtimeUsage } from '../../helpers/realtime/fake-openai.js';
import { plainTcp } from '../../helpers/realtime/sdk.js';
import { eventually, startTollgate, TEST_KEY } from '../../helpers/tollgate.js';

const PLATFORM = 'sk-platform-openai-0001';
// gpt-realtime list prices, credits per 1,000 tokens ($ per 1M ÷ 1): text in 4, cached 0.4,
// out 16; audio in 32, out 64.
const PRICING = { llm: { 'openai:gpt-realtime': { input: 4, output: 16, cacheRead: 0.4, audioInput: 32, audioOutput: 64 } } };

const usage = (input: [number, number], cached: [number, number], output: [number, number]): RealtimeUsage => ({
  input_tokens: input[0] + input[1],
  output_tokens: output[0] + output[1],
  total_tokens: input[0] + input[1] + output[0] + output[1],
  input_token_details: { text_tokens: input[0], audio_tokens: input[1], cached_tokens: cached[0] + cached[1], cached_tokens_details: { text_tokens: cached[0], audio_tokens: cached[1] } },
  output_token_details: { text_tokens: output[0], audio_tokens: output[1] },
});
// Turn 1: 100 text + 1,000 audio in (100 text cached), 60 text + 240 audio out:
//   100×4 + 100×0.4 + 1,000×32 + 60×16 + 240×64 = 48,760 / 1,000 = 48.76 credits.
// Turn 2: 100 text + 800 audio uncached, 1,100 cached (400 text + 700 audio), 100 + 400 out:
//   100×4 + 1,100×0.4 + 800×32 + 100×16 + 400×64 = 53,640 / 1,000 = 53.64 credits.
const TURNS = [usage([200, 1000], [100, 0], [60, 240]), usage([500, 1500], [400, 700], [100, 400])];

async function stack(t: { teardown(fn: () => unknown): void }, raw: Record<string, unknown> = {}) {
  const fake = await startFakeOpenAIRealtime({ apiKey: PLATFORM, usages: TURNS });
  const tg = await startTollgate({ providers: { openai: { baseUrl: fake.url, apiKey: PLATFORM } }, pricing: PRICING, ...raw });
  t.teardown(async () => {
    await tg.close();
    await fake.close();
  });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('openai')}/v1` });
  return { fake, tg, client };
}

function events(rt: OpenAIRealtimeWS) {
  const got: any[] = [];
  const errors: any[] = [];
  rt.on('event', (e: any) => got.push(e));
  rt.on('error', (e: any) => errors.push(e));
  const closed = new Promise<{ code: number; reason: string }>((r) => rt.socket.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  const next = (type: string) =>
    new Promise<any>((r) => {
      const seen = got.length;
      const poll = () => {
        const e = got.slice(seen).find((x) => x.type === type);
        if (e) r(e);
        else setTimeout(poll, 5);
      };
      poll();
    });
  return { got, errors, closed, next };
}

t.test('two response.done usages = 48.76 + 53.64 = 102.4 credits at the configured rates', async (t) => {
  const { fake, tg, client } = await stack(t);
  const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime', options: { createConnection: plainTcp } }, client);
  const ev = events(rt);
  const created = await ev.next('session.created');
  t.equal(created.session.model, 'gpt-realtime-2025-08-28');
  rt.send({ type: 'input_audio_buffer.append', audio: Buffer.alloc(4800).toString('base64') });
  rt.send({ type: 'input_audio_buffer.commit' });
  rt.send({ type: 'response.create' });
  t.same((await ev.next('response.done')).response.usage, TURNS[0]);
  rt.send({ type: 'response.create', response: { max_output_tokens: 500 } });
  await ev.next('response.done');
  await eventually(async () => (await tg.usage()).credits.used === 48.76 + 53.64, 10_000).catch(() => {});
  t.equal((await tg.usage()).credits.used, 102.4, 'interim settle while the session is open');
  rt.close();
  t.same(await ev.closed, { code: 1000, reason: 'OK' });
  await fake.closedCount(1);
  const c = fake.connections[0]!;
  t.equal(c.headers.authorization, `Bearer ${PLATFORM}`);
  t.notOk(JSON.stringify([c.headers, [...c.query], c.protocols]).includes(TEST_KEY));
  t.same(fake.eventTypes(c), ['input_audio_buffer.append', 'input_audio_buffer.commit', 'response.create', 'response.create']);
  await eventually(async () => (await tg.usage()).reserved === 0, 10_000);
  const u = await tg.usage();
  t.equal(u.credits.used, 102.4);
  t.equal(u.breakdown.llm, 102.4);
  t.same(ev.errors, []);
});

t.test('a model with no price is refused at the handshake: 400 unpriced_model', async (t) => {
  const { fake, tg, client } = await stack(t);
  const rt = new OpenAIRealtimeWS({ model: 'gpt-4o-realtime-preview', options: { createConnection: plainTcp } }, client);
  const err = await new Promise<any>((r) => rt.on('error', r));
  t.match(err.message, /Unexpected server response: 400/);
  // The body, read with a plain ws client: the usual JSON error.
  const ws = new WebSocket(`${tg.base('openai').replace('http', 'ws')}/v1/realtime?model=gpt-4o-realtime-preview`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  const res = await new Promise<any>((r) => ws.on('unexpected-response', (_req, res) => r(res)));
  let body = '';
  for await (const chunk of res) body += chunk;
  t.equal(res.statusCode, 400);
  t.equal(JSON.parse(body).error.code, 'unpriced_model');
  // A priced text model without audio rates is refused the same way.
  const ws2 = new WebSocket(`${tg.base('openai').replace('http', 'ws')}/v1/realtime?model=gpt-4.1`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  const res2 = await new Promise<any>((r) => ws2.on('unexpected-response', (_req, res) => r(res)));
  let body2 = '';
  for await (const chunk of res2) body2 += chunk;
  t.equal(res2.statusCode, 400);
  t.match(JSON.parse(body2).error, { code: 'unpriced_model', message: /no audio token rates: add audioInput and audioOutput to pricing\.llm\["openai:gpt-4\.1"\]/ });
  t.equal(fake.connections.length, 0, 'nothing reached OpenAI');
});

t.test('Free: the turn the credits cannot cover is refused with an error event, then 4402', async (t) => {
  // llmDefaultMaxTokens 1,000: a turn holds context × 32 + 1,000 × 64 / 1,000 credits.
  // Turn 1 holds 64, bills 48.76 (101.24 left of 150); turn 2 would hold 1,500 × 0.032 + 64 = 112.
  const { fake, tg, client } = await stack(t, { tiers: { free: { includedCredits: 150 } }, proxy: { llmDefaultMaxTokens: 1000 } });
  const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime', options: { createConnection: plainTcp } }, client);
  const ev = events(rt);
  await ev.next('session.created');
  rt.send({ type: 'response.create' });
  await ev.next('response.done');
  rt.send({ type: 'response.create', event_id: 'evt_client_2' });
  const err = await ev.next('error');
  t.same(err.error, { type: 'invalid_request_error', code: 'insufficient_credits', message: 'This account has no credits left for this session: the request was not sent.', param: null, event_id: 'evt_client_2' });
  t.same(await ev.closed, { code: 4402, reason: 'insufficient_credits' });
  await fake.closedCount(1);
  t.same(fake.eventTypes(fake.connections[0]!), ['response.create'], 'the refused turn never reached OpenAI');
  await eventually(async () => (await tg.usage()).reserved === 0, 10_000);
  t.equal((await tg.usage()).credits.used, 48.76);
});

t.test('intent=transcription with whisper-1: 30 s of appended 24 kHz PCM = 6 credits', async (t) => {
  const { fake, tg } = await stack(t);
  const ws = new WebSocket(`${tg.base('openai').replace('http', 'ws')}/v1/realtime?intent=transcription`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  const got: any[] = [];
  ws.on('message', (d) => got.push(JSON.parse(d.toString())));
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  ws.send(JSON.stringify({ type: 'session.update', session: { type: 'transcription', audio: { input: { format: { type: 'audio/pcm', rate: 24000 }, transcription: { model: 'whisper-1' } } } } }));
  for (let i = 0; i < 300; i++) ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: Buffer.alloc(4800, i).toString('base64') }));
  ws.send(JSON.stringify({ type: 'input_audio_buffer.commit' }));
  await eventually(() => got.some((e) => e.type === 'conversation.item.input_audio_transcription.completed'), 20_000);
  ws.close();
  await fake.closedCount(1);
  t.equal(fake.appendedBytes(fake.connections[0]!), 1_440_000);
  await eventually(async () => (await tg.usage()).reserved === 0, 10_000);
  const u = await tg.usage();
  t.equal(u.credits.used, 6, 'Whisper: 12 credits a minute');
  t.equal(u.breakdown.stt, 6);
});

t.test("browser form: ['realtime', 'openai-insecure-api-key.KEY', 'openai-beta.realtime-v1']", async (t) => {
  const { fake, tg } = await stack(t);
  const ws = new WebSocket(`${tg.base('openai').replace('http', 'ws')}/v1/realtime?model=gpt-realtime`, ['realtime', `openai-insecure-api-key.${TEST_KEY}`, 'openai-beta.realtime-v1']);
  const first = new Promise<any>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  t.equal(ws.protocol, 'realtime', 'the answer selects the subprotocol the browser needs, never the key');
  t.equal((await first).type, 'session.created');
  ws.close();
  await fake.closedCount(1);
  const c = fake.connections[0]!;
  t.equal(c.headers.authorization, `Bearer ${PLATFORM}`);
  t.equal(c.headers['openai-beta'], 'realtime=v1');
  t.notOk(JSON.stringify([c.headers, c.protocols]).includes(TEST_KEY));
});
