// ElevenLabs Scribe realtime meter, driven frame by frame as the session core does: base64 audio
// counted to the sample (per-chunk sample_rate, audio_format query), exact credits, the cut at the
// exact sample with the covered bytes re-encoded, the quota_exceeded notice.

import t from 'tap';
import { elevenlabsRealtimeStt } from '../../../proxy/realtime/endpoints/elevenlabs-realtime-stt.js';
import { json, openMeter, SessionSim, text } from '../../helpers/realtime/meter-harness.js';

const ctx = (query: string) => ({ provider: 'elevenlabs', path: '/v1/speech-to-text/realtime', query });
const chunk = (bytes: number, extra: Record<string, unknown> = {}) =>
  text({ message_type: 'input_audio_chunk', audio_base_64: Buffer.alloc(bytes, 3).toString('base64'), commit: false, sample_rate: 16000, ...extra });

t.test('45.5 s of pcm_16000 in 0.1 s chunks = 4.55 credits (6 credits a minute)', async (t) => {
  const meter = openMeter(elevenlabsRealtimeStt, ctx('model_id=scribe_v2_realtime&audio_format=pcm_16000&audio_format=pcm_16000'));
  const s = new SessionSim(meter, Infinity);
  for (let i = 0; i < 455; i++) s.client(chunk(3200));
  s.client(text({ message_type: 'input_audio_chunk', audio_base_64: '', commit: true, sample_rate: 16000 }));
  t.equal(s.committed, 4_550_000);
  t.same(meter.totals(), { microCredits: 4_550_000, units: { audioMs: 45_500 } });
  t.equal(s.upstream.length, 456);
  t.equal(meter.model, 'scribe_v2_realtime');
});

t.test("a chunk's sample_rate wins; ulaw_8000 is one byte a sample", async (t) => {
  const m1 = openMeter(elevenlabsRealtimeStt, ctx('model_id=scribe_v2_realtime&audio_format=pcm_16000'));
  const s1 = new SessionSim(m1, Infinity);
  s1.client(chunk(16_000, { sample_rate: 8000 })); // 8,000 samples at 8 kHz = 1 s
  s1.client(chunk(32_000)); // 1 s at 16 kHz
  t.same(m1.totals(), { microCredits: 200_000, units: { audioMs: 2000 } });
  const m2 = openMeter(elevenlabsRealtimeStt, ctx('model_id=scribe_v2_realtime&audio_format=ulaw_8000'));
  const s2 = new SessionSim(m2, Infinity);
  s2.client(text({ message_type: 'input_audio_chunk', audio_base_64: Buffer.alloc(24_000).toString('base64'), commit: false }));
  t.same(m2.totals(), { microCredits: 300_000, units: { audioMs: 3000 } });
});

t.test('a Free account with 2.001 credits: cut after exactly 320,160 samples', async (t) => {
  // 6 credits a minute at 16 kHz = 6.25 µcr a sample: 2,001,000 µcr = 320,160 samples = 640,320 bytes.
  const meter = openMeter(elevenlabsRealtimeStt, ctx('model_id=scribe_v2_realtime&audio_format=pcm_16000'));
  const s = new SessionSim(meter, 2_001_000);
  let sent = 0;
  while (!s.cut) {
    s.client(chunk(3200));
    sent++;
  }
  t.equal(sent, 201);
  const bytes = s.upstream.reduce((n, f) => n + Buffer.from(json(f).audio_base_64, 'base64').length, 0);
  t.equal(bytes, 640_320);
  t.equal(Buffer.from(json(s.upstream.at(-1)).audio_base_64, 'base64').length, 320);
  t.equal(s.committed, 2_001_000);
  t.same(json(s.cutNotice()), { message_type: 'quota_exceeded', error: 'This account has no credits left for this session.' });
});

t.test('an odd-length chunk: the cut keeps whole samples only', async (t) => {
  const meter = openMeter(elevenlabsRealtimeStt, ctx('model_id=scribe_v2_realtime'));
  const s = new SessionSim(meter, 500_000 + 20); // 5 s step + 3.2 samples
  s.client(chunk(160_000)); // 5 s
  s.client(chunk(11));
  t.equal(s.cut, true);
  t.equal(Buffer.from(json(s.upstream.at(-1)).audio_base_64, 'base64').length, 6);
  // cost(80,003 samples) = 500,018.75 → 500,019 µcr (rounded once, on the cumulative count).
  t.equal(s.committed, 500_019);
});

t.test('an audio_format tollgate cannot meter is refused at the handshake', async (t) => {
  t.throws(() => openMeter(elevenlabsRealtimeStt, ctx('model_id=scribe_v2_realtime&audio_format=mp3_44100')), { code: 'invalid_request' });
});
