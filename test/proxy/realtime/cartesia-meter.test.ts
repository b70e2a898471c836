// Cartesia TTS and STT realtime meters, driven frame by frame as the session core does: code
// points of `transcript` (per-message model rows), binary audio to the sample from the query,
// exact credits and cuts, commands free, the version header for browser clients.

import t from 'tap';
import { cartesiaTts } from '../../../proxy/realtime/endpoints/cartesia-tts.js';
import { cartesiaStt } from '../../../proxy/realtime/endpoints/cartesia-stt.js';
import { binary, json, openMeter, SessionSim, text } from '../../helpers/realtime/meter-harness.js';

const gen = (transcript: string, extra: Record<string, unknown> = {}) =>
  text({ context_id: 'c1', model_id: 'sonic-3', transcript, voice: { mode: 'id', id: 'v' }, output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 }, continue: true, ...extra });

t.test('TTS: 1,000 code points = 78 credits; flush / no_more_inputs / cancel free', async (t) => {
  const meter = openMeter(cartesiaTts, { provider: 'cartesia', path: '/tts/websocket' });
  const s = new SessionSim(meter, Infinity);
  for (let i = 0; i < 10; i++) s.client(gen('Ça va 🎧 '.repeat(12) + 'okok'));
  s.client(gen('', { flush: true }));
  s.client(gen('', { continue: false }));
  s.client(text({ context_id: 'c1', cancel: true }));
  t.equal([...('Ça va 🎧 '.repeat(12) + 'okok')].length, 100);
  t.same(meter.totals(), { microCredits: 78_000_000, units: { chars: 1000 } });
  t.equal(s.upstream.length, 13);
});

t.test('TTS: a cartesia:<model> row prices that message; others the provider row', async (t) => {
  const meter = openMeter(cartesiaTts, { provider: 'cartesia', path: '/tts/websocket', pricing: { tts: { 'cartesia:sonic-turbo': 50 } } });
  const s = new SessionSim(meter, Infinity);
  s.client(gen('a'.repeat(100), { model_id: 'sonic-turbo' }));
  s.client(gen('b'.repeat(100)));
  t.same(meter.totals(), { microCredits: 5_000_000 + 7_800_000, units: { chars: 200 } });
});

t.test('TTS: Free cut at the exact code point, then an error event in Cartesia shape', async (t) => {
  // step: 500 chars = 39 credits; account 40 credits = 512.82 chars → 512 covered.
  const meter = openMeter(cartesiaTts, { provider: 'cartesia', path: '/tts/websocket' });
  const s = new SessionSim(meter, 40_000_000);
  while (!s.cut) s.client(gen('x'.repeat(100)));
  t.equal(s.upstream.length, 6);
  t.equal(json(s.upstream.at(-1)).transcript, 'x'.repeat(12));
  t.equal(s.committed, 512 * 78_000);
  t.same(json(s.cutNotice()), { type: 'error', context_id: 'c1', status_code: 402, title: 'Insufficient credits', message: 'This account has no credits left for this session.', error_code: 'insufficient_credits', done: true });
});

t.test('TTS/STT upstream: cartesia_version query becomes the header when the client sent none', async (t) => {
  const up = { headers: { authorization: 'Bearer platform' } as Record<string, string>, query: [['cartesia_version', '2025-04-16'], ['cartesia_client', 'x']] as Array<[string, string]>, protocols: [] };
  cartesiaTts.prepareUpstream!(up, {} as never);
  t.equal(up.headers['cartesia-version'], '2025-04-16');
  const up2 = { headers: { 'cartesia-version': '2026-08-14' } as Record<string, string>, query: [['cartesia_version', 'x']] as Array<[string, string]>, protocols: [] };
  cartesiaStt.prepareUpstream!(up2, {} as never);
  t.equal(up2.headers['cartesia-version'], '2026-08-14');
});

t.test('STT: 30 s of pcm_s16le 16 kHz = 5 credits; finalize / close / done free', async (t) => {
  const meter = openMeter(cartesiaStt, { provider: 'cartesia', path: '/stt/websocket', query: 'model=ink-whisper&encoding=pcm_s16le&sample_rate=16000' });
  const s = new SessionSim(meter, Infinity);
  for (let i = 0; i < 300; i++) s.client(binary(Buffer.alloc(3200)));
  s.client(text('finalize'));
  s.client(text('close'));
  s.client(text('done'));
  t.same(meter.totals(), { microCredits: 5_000_000, units: { audioMs: 30_000 } });
  t.equal(s.upstream.length, 303);
  t.equal(meter.model, 'ink-whisper');
});

t.test('STT: pcm_f32le at 24 kHz, 4 bytes a sample; the turns socket meters the same', async (t) => {
  const meter = openMeter(cartesiaStt, { provider: 'cartesia', path: '/stt/turns/websocket', query: 'model=ink-2&encoding=pcm_f32le&sample_rate=24000' });
  const s = new SessionSim(meter, Infinity);
  s.client(binary(Buffer.alloc(96_000 * 3))); // 3 s
  s.client(text({ type: 'close' }));
  t.same(meter.totals(), { microCredits: 500_000, units: { audioMs: 3000 } });
});

t.test('STT: Free cut at the exact sample', async (t) => {
  // 10 credits a minute at 16 kHz: cost(n samples) = round(n × 10,000,000 / 960,000).
  // Account 1 credit = 96,000 samples exactly (6 s) → 192,000 bytes forwarded.
  const meter = openMeter(cartesiaStt, { provider: 'cartesia', path: '/stt/websocket', query: 'model=ink-whisper&encoding=pcm_s16le&sample_rate=16000' });
  const s = new SessionSim(meter, 1_000_000);
  while (!s.cut) s.client(binary(Buffer.alloc(3000)));
  t.equal(s.upstream.reduce((n, f) => n + f.data.length, 0), 192_000);
  t.equal(s.committed, 1_000_000);
  t.equal(json(s.cutNotice()).status_code, 402);
});

t.test('STT: a missing or unknown encoding is refused at the handshake', async (t) => {
  t.throws(() => openMeter(cartesiaStt, { provider: 'cartesia', path: '/stt/websocket', query: 'model=ink-whisper&sample_rate=16000' }), { code: 'invalid_request' });
  t.throws(() => openMeter(cartesiaStt, { provider: 'cartesia', path: '/stt/websocket', query: 'model=ink-whisper&encoding=opus&sample_rate=16000' }), { code: 'invalid_request' });
  t.throws(() => openMeter(cartesiaStt, { provider: 'cartesia', path: '/stt/websocket', query: 'model=ink-whisper&encoding=pcm_s16le' }), { code: 'invalid_request' });
});
