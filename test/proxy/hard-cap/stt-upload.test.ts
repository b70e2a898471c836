// The Free cap holds for a streamed STT upload too (issue 18): its reservation comes from the
// content-length at proxy.sttReserveBytesPerSecond, and audio denser than that rate measures
// longer than was reserved. The settle charges up to the limit and writes off the rest.
import t from 'tap';
import { DeepgramClient } from '@deepgram/sdk';
import { json, startUpstream } from '../../helpers/upstream.js';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';
import { fixtureJson, wavBytes } from '../../voice-audio-fixtures.js';

t.test('Free (5 credits): 60 s of WAV reserved as 30.001 s, measured 60 s: used 5, 4 written off', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, fixtureJson('deepgram/listen-response.json')));
  t.teardown(() => up.close());
  const written: number[] = [];
  const tg = await startTollgate(
    { tiers: { free: { includedCredits: 5 } }, proxy: { sttReserveBytesPerSecond: 64_000 }, providers: { deepgram: { baseUrl: up.url, apiKey: 'dg-platform-key' } } },
    { tier: 'free', events: { writtenOff: (_r, micro) => written.push(micro) } },
  );
  t.teardown(() => tg.close());
  const client = new DeepgramClient({ apiKey: TEST_KEY, baseUrl: tg.base('deepgram') });

  // 16 kHz mono 16-bit: 32,000 bytes a second; 60 s + the 44-byte header = 1,920,044 bytes,
  // reserved as ceil(1,920,044,000 / 64,000) = 30,001 ms × 9 credits a minute = 4.50015 credits.
  const wav = wavBytes(60_000);
  t.equal(wav.length, 1_920_044);
  await client.listen.v1.media.transcribeFile(wav, { model: 'nova-3' });
  t.equal(up.requests.length, 1, 'admitted: 4.50015 fits in 5');
  await tg.app.pipeline.idle(5_000);
  const u = await tg.app.ledger.usage('acct');
  // Measured 60 s = 9,000,000 µcr: 5,000,000 charged, 4,000,000 written off.
  t.equal(u.usedMicro, 5_000_000);
  t.same(u.breakdownMicro, { tts: 0, stt: 5_000_000, llm: 0, rag: 0 });
  t.same(written, [4_000_000]);
});
