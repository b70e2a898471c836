// ElevenLabs Scribe realtime STT through tollgate with the official `@elevenlabs/elevenlabs-js`
// SDK (`speechToText.realtime.connect`): 45.5 s of pcm_16000 in 0.1 s chunks = 45,500 ms and
// 4.55 credits (6 a minute); a Free account with 3 credits is cut at the exact sample (30 s) with ElevenLabs'
// `quota_exceeded` message and close 4402.

import t from 'tap';
import { ElevenLabsClient, AudioFormat, RealtimeEvents } from '@elevenlabs/elevenlabs-js';
import { startFakeElevenLabs } from '../../helpers/realtime/fake-elevenlabs.js';
import { eventually, startTollgate, TEST_KEY } from '../../helpers/tollgate.js';

const PLATFORM = 'xi-platform-key-0002';

async function stack(t: { teardown(fn: () => unknown): void }, raw: Record<string, unknown> = {}) {
  const fake = await startFakeElevenLabs({ apiKey: PLATFORM });
  const tg = await startTollgate({ providers: { elevenlabs: { baseUrl: fake.url, apiKey: PLATFORM } }, ...raw });
  t.teardown(async () => {
    await tg.close();
    await fake.close();
  });
  const client = new ElevenLabsClient({ apiKey: TEST_KEY, baseUrl: tg.base('elevenlabs') });
  const conn = await client.speechToText.realtime.connect({ modelId: 'scribe_v2_realtime', audioFormat: AudioFormat.PCM_16000, sampleRate: 16000 });
  await new Promise<void>((r) => conn.on(RealtimeEvents.SESSION_STARTED, () => r()));
  return { fake, tg, conn };
}

t.test('45.5 s of 16 kHz PCM = 4.55 credits; the key is swapped for the platform one', async (t) => {
  const { fake, tg, conn } = await stack(t);
  for (let i = 0; i < 455; i++) conn.send({ audioBase64: Buffer.alloc(3200, i).toString('base64') });
  conn.commit();
  const committed = await new Promise<any>((r) => conn.on(RealtimeEvents.COMMITTED_TRANSCRIPT, r));
  t.equal(committed.text, 'heard 1456000 bytes');
  conn.close();
  await fake.closedCount(1);
  const c = fake.connections[0]!;
  t.equal(fake.audioBytes(c), 1_456_000);
  t.equal(c.headers['xi-api-key'], PLATFORM);
  t.notOk(JSON.stringify([c.headers, [...c.query]]).includes(TEST_KEY));
  await eventually(async () => (await tg.usage()).reserved === 0 && (await tg.usage()).credits.used > 0, 10_000);
  const u = await tg.usage();
  t.equal(u.credits.used, 4.55);
  t.equal(u.breakdown.stt, 4.55);
});

t.test('Free with 3 credits: ElevenLabs receives exactly 480,000 samples (30 s), then quota_exceeded and 4402', async (t) => {
  const { fake, tg, conn } = await stack(t, { tiers: { free: { includedCredits: 3 } } });
  const errors: any[] = [];
  conn.on(RealtimeEvents.QUOTA_EXCEEDED, (e: any) => errors.push(e));
  conn.on(RealtimeEvents.ERROR, () => {}); // the SDK emits every server error here too
  const closed = new Promise<void>((r) => conn.on(RealtimeEvents.CLOSE, () => r()));
  for (let i = 0; i < 400; i++) {
    try {
      conn.send({ audioBase64: Buffer.alloc(3334).toString('base64') }); // odd-sized: the cut lands mid-chunk
    } catch {
      break; // the SDK throws once the socket is closed
    }
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
  }
  await closed;
  await fake.closedCount(1);
  t.equal(fake.audioBytes(fake.connections[0]!), 960_000);
  t.same(errors, [{ message_type: 'quota_exceeded', error: 'This account has no credits left for this session.' }]);
  await eventually(async () => (await tg.usage()).reserved === 0, 10_000);
  t.equal((await tg.usage()).credits.used, 3);
});
