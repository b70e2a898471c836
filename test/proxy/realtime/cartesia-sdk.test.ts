// Cartesia TTS and STT sockets through tollgate with the official `@cartesia/cartesia-js` SDK:
// 1,000 code points of `transcript` = 78 credits; 30 s of 16 kHz pcm_s16le = 5 credits; commands
// pass as plain text; the customer key never reaches Cartesia; a Free STT session is cut at the
// exact sample with Cartesia's error event and 4402.

import t from 'tap';
import { startFakeCartesia } from '../../helpers/realtime/fake-cartesia.js';
import { Cartesia, plainTcp } from '../../helpers/realtime/sdk.js';
import { eventually, startTollgate, TEST_KEY } from '../../helpers/tollgate.js';

const PLATFORM = 'sk_car_platform_0001';

async function stack(t: { teardown(fn: () => unknown): void }, raw: Record<string, unknown> = {}) {
  const fake = await startFakeCartesia({ apiKey: PLATFORM });
  const tg = await startTollgate({ providers: { cartesia: { baseUrl: fake.url, apiKey: PLATFORM } }, ...raw });
  t.teardown(async () => {
    await tg.close();
    await fake.close();
  });
  return { fake, tg, client: new Cartesia({ apiKey: TEST_KEY, baseURL: tg.base('cartesia') }) };
}

t.test('TTS websocket: 10 pushes of 100 code points = 78 credits', async (t) => {
  const { fake, tg, client } = await stack(t);
  const ws = await client.tts.websocket({ createConnection: plainTcp });
  const ctx = ws.context({ model_id: 'sonic-3', voice: { mode: 'id', id: 'voice-1' }, output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 } });
  const words = 'Ça va 🎧 '.repeat(12) + 'okok';
  for (let i = 0; i < 10; i++) await ctx.push({ transcript: words });
  await ctx.no_more_inputs();
  const types: string[] = [];
  for await (const ev of ctx.receive()) types.push(String(ev.type));
  t.equal(types.filter((x) => x === 'chunk').length, 10);
  t.equal(types.at(-1), 'done');
  ws.close();
  await fake.closedCount(1);
  const c = fake.connections[0]!;
  t.equal(fake.transcriptChars(c), 1000);
  t.equal(c.headers.authorization, `Bearer ${PLATFORM}`);
  t.equal(c.headers['cartesia-version'], '2026-08-14');
  t.notOk(JSON.stringify([c.headers, [...c.query]]).includes(TEST_KEY));
  await eventually(async () => (await tg.usage()).reserved === 0 && (await tg.usage()).credits.used > 0, 10_000);
  t.equal((await tg.usage()).credits.used, 78);
});

t.test('STT manual finalize: 30 s of pcm_s16le at 16 kHz = 5 credits; finalize and close pass as text', async (t) => {
  const { fake, tg, client } = await stack(t);
  const ws = client.stt.manualFinalize.websocket({ model: 'ink-whisper', encoding: 'pcm_s16le', sample_rate: 16000 });
  const events: any[] = [];
  ws.on('event', (e: any) => events.push(e));
  for (let i = 0; i < 300; i++) ws.sendRaw(Buffer.alloc(3200, i));
  ws.send('finalize');
  ws.send('close');
  await fake.closedCount(1);
  await eventually(() => events.some((e) => e.type === 'done'), 10_000);
  const c = fake.connections[0]!;
  t.equal(fake.audioBytes(c), 960_000);
  t.same(c.frames.filter((f) => !f.binary).map((f) => f.text), ['finalize', 'close']);
  t.equal(events.find((e) => e.type === 'transcript').duration, 30);
  await eventually(async () => (await tg.usage()).reserved === 0 && (await tg.usage()).credits.used > 0, 10_000);
  t.equal((await tg.usage()).credits.used, 5);
});

t.test('STT on a Free account with 1 credit: cut after exactly 6 s (192,000 bytes), error event, 4402', async (t) => {
  const { fake, tg, client } = await stack(t, { tiers: { free: { includedCredits: 1 } } });
  const ws = client.stt.manualFinalize.websocket({ model: 'ink-whisper', encoding: 'pcm_s16le', sample_rate: 16000 });
  const errors: any[] = [];
  ws.on('error', (e: any) => errors.push(e));
  const closed = new Promise<number>((r) => ws.on('close' as any, (e: any) => r(typeof e === 'number' ? e : e?.code)));
  for (let i = 0; i < 100; i++) ws.sendRaw(Buffer.alloc(3000));
  await fake.closedCount(1);
  t.equal(fake.audioBytes(fake.connections[0]!), 192_000);
  t.equal(await closed, 4402);
  t.equal(errors[0]?.error?.status_code, 402);
  await eventually(async () => (await tg.usage()).reserved === 0, 10_000);
  t.equal((await tg.usage()).credits.used, 1);
});
