import t from 'tap';
import { createAudioDuration } from '../proxy/meters/audio.js';
import { chunked, pcmBytes, wavBytes, wavHeader } from './voice-audio-fixtures.js';

async function measure(bytes: Buffer, opts: Parameters<typeof createAudioDuration>[0] = {}) {
  const d = createAudioDuration(opts);
  for (const c of chunked(bytes)) d.push(c);
  d.end();
  return d.result();
}

t.test('a 60 s 16 kHz mono 16-bit WAV is exactly 60,000 ms', async (t) => {
  t.same(await measure(wavBytes(60_000)), { ms: 60_000, format: 'wav' });
});

t.test('a stereo 44.1 kHz WAV of 2.5 s is 2,500 ms', async (t) => {
  t.same(await measure(wavBytes(2_500, { sampleRate: 44_100, channels: 2, bitsPerSample: 16 })), { ms: 2_500, format: 'wav' });
});

t.test('raw PCM is bytes ÷ (rate × channels × bytes per sample)', async (t) => {
  t.same(await measure(pcmBytes(60_000), { pcm: { sampleRate: 16_000, channels: 1, bytesPerSample: 2 } }), { ms: 60_000, format: 'pcm' });
  t.same(await measure(Buffer.alloc(48_000 * 2 * 2 * 3), { pcm: { sampleRate: 48_000, channels: 2, bytesPerSample: 2 } }), { ms: 3_000, format: 'pcm' });
});

t.test('audio/l16 with rate and channels declares raw PCM', async (t) => {
  t.same(await measure(Buffer.alloc(8_000 * 2 * 10), { contentType: 'audio/L16; rate=8000; channels=1' }), { ms: 10_000, format: 'pcm' });
});

t.test('a streamed WAV declaring a 0xFFFFFFFF data chunk is bounded by the bytes received', async (t) => {
  const bytes = Buffer.concat([wavHeader(0xffffffff), pcmBytes(5_000)]);
  t.same(await measure(bytes), { ms: 5_000, format: 'wav' });
});

t.test('a WAV declaring an empty data chunk (some streamers) is timed by the bytes received', async (t) => {
  const bytes = Buffer.concat([wavHeader(0), pcmBytes(1_500)]);
  t.same(await measure(bytes), { ms: 1_500, format: 'wav' });
});

t.test('declared PCM parameters with a WAV body: the container wins (no header counted as audio)', async (t) => {
  const pcm = { sampleRate: 16_000, channels: 1, bytesPerSample: 2 };
  t.same(await measure(wavBytes(60_000), { pcm }), { ms: 60_000, format: 'wav' });
  t.same(await measure(pcmBytes(60_000), { pcm }), { ms: 60_000, format: 'pcm' });
  t.same(await measure(Buffer.alloc(2), { pcm }), { ms: 0, format: 'pcm' });
});
