// ElevenLabs stream-input / multi-stream-input meters, driven frame by frame as the session core
// does: exact credits for 1,000 code points (emoji included), the key stripped from every
// message, the Free cut at the exact code point, opening " " free per socket / per context.

import t from 'tap';
import { elevenlabsStreamInput } from '../../../proxy/realtime/endpoints/elevenlabs-stream-input.js';
import { elevenlabsMultiStreamInput } from '../../../proxy/realtime/endpoints/elevenlabs-multi-stream-input.js';
import { json, openMeter, SessionSim, text } from '../../helpers/realtime/meter-harness.js';

const KEY = 'tg_test_key_0000000000000000000001';
const PATH = '/v1/text-to-speech/voice-1/stream-input';

/** 1,000 code points in 10 messages of 100 ("Hi 👋 " is 5 code points, 7 UTF-16 units). */
const CHUNK = 'Hi 👋 '.repeat(20);

t.test('1,000 code points with emoji = 166 credits; the key never forwarded', async (t) => {
  t.equal([...CHUNK].length, 100);
  const first = elevenlabsStreamInput.firstMessageKey!(text({ text: ' ', 'xi-api-key': KEY, voice_settings: { stability: 0.5 } }));
  t.equal(first.key, KEY);
  const meter = openMeter(elevenlabsStreamInput, { provider: 'elevenlabs', path: PATH, query: 'model_id=eleven_flash_v2_5' });
  const s = new SessionSim(meter, Infinity);
  s.client(first.frame);
  for (let i = 0; i < 10; i++) s.client(text({ text: CHUNK, try_trigger_generation: true }));
  s.client(text({ text: '' }));
  t.equal(s.committed, 166_000_000);
  t.same(meter.totals(), { microCredits: 166_000_000, units: { chars: 1000 } });
  t.equal(s.upstream.length, 12);
  t.same(json(s.upstream[0]), { text: ' ', voice_settings: { stability: 0.5 } });
  t.notOk(s.upstream.some((f) => f.data.toString().includes(KEY)), 'the key is in no forwarded frame');
  t.equal(meter.model, 'eleven_flash_v2_5');
});

t.test('every credential field, in any message, is removed; the opening " " is free once', async (t) => {
  const meter = openMeter(elevenlabsStreamInput, { provider: 'elevenlabs', path: PATH });
  const s = new SessionSim(meter, Infinity);
  s.client(text({ text: ' ', xi_api_key: KEY }));
  s.client(text({ text: 'abc ', authorization: `Bearer ${KEY}`, flush: true }));
  s.client(text({ text: ' ' })); // the keep-alive: ElevenLabs receives a character
  t.same(s.upstream.map(json), [{ text: ' ' }, { text: 'abc ', flush: true }, { text: ' ' }]);
  t.same(meter.totals().units, { chars: 5 });
  t.equal(s.committed, 5 * 166_000);
});

t.test('a Free account with 100 credits: cut at the 602nd code point, close notice in ElevenLabs shape', async (t) => {
  // 166 credits per 1,000 = 166,000 µcr a code point: 602 = 99,932,000 ≤ 100,000,000 < 603.
  const meter = openMeter(elevenlabsStreamInput, { provider: 'elevenlabs', path: PATH });
  const s = new SessionSim(meter, 100_000_000);
  t.equal(s.refused, false);
  s.client(text({ text: ' ' }));
  let sent = 0;
  while (!s.cut) {
    s.client(text({ text: CHUNK }));
    sent++;
  }
  t.equal(sent, 7);
  const forwarded = s.upstream.slice(1).map((f) => json(f).text as string);
  t.equal(forwarded.reduce((n, x) => n + [...x].length, 0), 602);
  t.equal(forwarded[6], [...CHUNK].slice(0, 2).join(''), 'the last frame holds the 2 covered code points');
  t.equal(s.committed, 99_932_000);
  t.same(json(s.cutNotice()), { message: 'This account has no credits left for this session.', error: 'insufficient_credits', code: 4402 });
});

t.test('a cut after an emoji never splits it', async (t) => {
  // 504 code points covered: the 6th message is cut to "Hi 👋" (4 code points, 5 UTF-16 units).
  t.equal(new SessionSim(openMeter(elevenlabsStreamInput, { provider: 'elevenlabs', path: PATH }), 0).refused, true, 'nothing left: refused at the handshake');
  const meter2 = openMeter(elevenlabsStreamInput, { provider: 'elevenlabs', path: PATH });
  const s2 = new SessionSim(meter2, 83_000_000 + 4 * 166_000 + 165_999);
  s2.client(text({ text: ' ' }));
  for (let i = 0; i < 6; i++) s2.client(text({ text: CHUNK }));
  t.equal(s2.cut, true);
  t.equal(json(s2.upstream.at(-1)).text, 'Hi 👋');
  t.same(meter2.totals(), { microCredits: 504 * 166_000, units: { chars: 504 } });
});

t.test('binary frames are dropped, non-JSON text passes free, unpriced model row falls back', async (t) => {
  const meter = openMeter(elevenlabsStreamInput, { provider: 'elevenlabs', path: PATH, query: 'model_id=eleven_v3' });
  const s = new SessionSim(meter, Infinity);
  s.client({ data: Buffer.from('{"text":"free?"}'), binary: true });
  s.client(text('not json'));
  t.equal(s.upstream.length, 1);
  t.equal(s.committed, 0);
});

t.test('BYOK: units counted (the core settles BYOK at zero credits)', async (t) => {
  const meter = openMeter(elevenlabsStreamInput, { provider: 'elevenlabs', path: PATH, byok: true });
  const s = new SessionSim(meter, Infinity);
  s.client(text({ text: ' ' }));
  s.client(text({ text: CHUNK }));
  t.same(meter.totals().units, { chars: 100 });
});

t.test('multi-stream-input: each context opens free, keys stripped per context, close messages free', async (t) => {
  const meter = openMeter(elevenlabsMultiStreamInput, { provider: 'elevenlabs', path: '/v1/text-to-speech/v/multi-stream-input' });
  const s = new SessionSim(meter, Infinity);
  const first = elevenlabsMultiStreamInput.firstMessageKey!(text({ text: ' ', context_id: 'a', xi_api_key: KEY }));
  s.client(first.frame);
  s.client(text({ text: 'Hello 🌍 ', context_id: 'a' }));
  s.client(text({ text: ' ', context_id: 'b', xi_api_key: KEY }));
  s.client(text({ text: 'Bonjour ', context_id: 'b', flush: true }));
  s.client(text({ text: '', context_id: 'a' }));
  s.client(text({ context_id: 'a', close_context: true }));
  s.client(text({ close_socket: true }));
  t.equal(meter.totals().units.chars, 8 + 8);
  t.equal(s.committed, 16 * 166_000);
  t.notOk(s.upstream.some((f) => f.data.toString().includes(KEY)));
  t.same(json(s.upstream[2]), { text: ' ', context_id: 'b' });
});
