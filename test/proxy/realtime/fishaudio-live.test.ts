// Fish Audio live TTS through tollgate, binary MessagePack frames both ways (a plain `ws` client,
// as fish-audio's SDK uses): code points of `start.request.text` and every `text` event bill at
// Fish Audio's row (10 credits per 1,000), exactly; a Free account is cut at the exact code point
// with Fish's own `finish` error event and close 4402; non-msgpack frames never reach Fish.

import t from 'tap';
import WebSocket from 'ws';
import { decode, encode } from '@msgpack/msgpack';
import { fishaudioLive } from '../../../proxy/realtime/endpoints/fishaudio-live.js';
import { startFakeFishAudio } from '../../helpers/realtime/fake-fishaudio.js';
import { binary, openMeter, SessionSim, text } from '../../helpers/realtime/meter-harness.js';
import { eventually, startTollgate, TEST_KEY } from '../../helpers/tollgate.js';

const PLATFORM = 'fish-platform-key-0001';
/** 50 code points, 75 UTF-8 bytes. */
const CHUNK = 'Grüße 🐟 k '.repeat(5);

async function session(t: { teardown(fn: () => unknown): void }, raw: Record<string, unknown> = {}) {
  const fake = await startFakeFishAudio({ apiKey: PLATFORM });
  const tg = await startTollgate({ providers: { fishaudio: { baseUrl: fake.url, apiKey: PLATFORM } }, ...raw });
  t.teardown(async () => {
    await tg.close();
    await fake.close();
  });
  const ws = new WebSocket(`${tg.base('fishaudio').replace('http', 'ws')}/v1/tts/live`, { headers: { authorization: `Bearer ${TEST_KEY}`, model: 's1' } });
  const got: Array<Record<string, unknown>> = [];
  ws.on('message', (d, isBinary) => got.push(isBinary ? (decode(d as Buffer) as Record<string, unknown>) : { text: d.toString() }));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  return { fake, tg, ws, got, closed };
}

t.test('start text + 19 text events = 1,000 code points = 10 credits; flush and stop free', async (t) => {
  t.equal([...CHUNK].length, 50);
  t.equal(Buffer.byteLength(CHUNK), 75);
  const { fake, tg, ws, got, closed } = await session(t);
  ws.send(encode({ event: 'start', request: { text: CHUNK, format: 'pcm', latency: 'balanced', reference_id: 'voice-1', chunk_length: 200 } }));
  for (let i = 0; i < 19; i++) ws.send(encode({ event: 'text', text: CHUNK }));
  ws.send(encode({ event: 'flush' }));
  ws.send(encode({ event: 'stop' }));
  t.same(await closed, { code: 1000, reason: '' });
  t.equal(got.filter((e) => e.event === 'audio').length, 20);
  t.same(got.at(-1), { event: 'finish', reason: 'stop' });
  const c = fake.connections[0]!;
  t.equal(fake.textChars(c), 1000);
  t.equal(c.headers.authorization, `Bearer ${PLATFORM}`);
  t.equal(c.headers.model, 's1', 'the backend header passes through');
  t.ok(c.frames.every((f) => f.binary), 'every frame stays binary');
  await eventually(async () => (await tg.usage()).credits.used === 10, 10_000);
  t.equal((await tg.usage()).reserved, 0);
});

t.test('a Free account with 3 credits: cut at code point 300, finish error event, close 4402', async (t) => {
  const { fake, tg, ws, got, closed } = await session(t, { tiers: { free: { includedCredits: 3 } } });
  ws.send(encode({ event: 'start', request: { text: '', format: 'pcm' } }));
  for (let i = 0; i < 8; i++) ws.send(encode({ event: 'text', text: CHUNK }));
  t.same(await closed, { code: 4402, reason: 'insufficient_credits' });
  t.same(got.at(-1), { event: 'finish', reason: 'error', message: 'This account has no credits left for this session.' });
  await fake.closedCount(1);
  t.equal(fake.textChars(fake.connections[0]!), 300);
  await eventually(async () => (await tg.usage()).reserved === 0, 10_000);
  t.equal((await tg.usage()).credits.used, 3);
});

t.test('meter: text frames and non-map msgpack are dropped; a cut keeps the start request', async (t) => {
  const meter = openMeter(fishaudioLive, { provider: 'fishaudio', path: '/v1/tts/live', headers: { model: 's1' } });
  const s = new SessionSim(meter, 5_000_000 + 30_000);
  s.client(text(JSON.stringify({ event: 'text', text: 'sneaky' })));
  s.client(binary(Buffer.from(encode('text'))));
  s.client(binary(Buffer.from([0xc1]))); // never-used msgpack byte: not decodable
  t.equal(s.upstream.length, 0);
  const ref = new Uint8Array([1, 2, 3]);
  s.client(binary(Buffer.from(encode({ event: 'start', request: { text: 'a'.repeat(510), references: [{ audio: ref, text: 'ref' }] } }))));
  t.equal(s.cut, true);
  const sent = decode(s.upstream[0]!.data) as any;
  t.equal(sent.request.text, 'a'.repeat(503));
  t.same(sent.request.references[0].audio, ref);
  t.same(meter.totals(), { microCredits: 5_030_000, units: { chars: 503 } });
});
