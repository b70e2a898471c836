// The realtime meter kit's arithmetic: cumulative costs that never round twice, and the exact
// cut (audio to the sample frame, text to the code point) against a final budget.

import t from 'tap';
import { codePointLength, pcmCounter, sliceCodePoints, textCounter } from '../../../proxy/realtime/meter-kit.js';

const open = (microCredits: number) => ({ microCredits, final: false });
const final = (microCredits: number) => ({ microCredits, final: true });

t.test('PCM: cost of the running total, frame by frame, equals the cost of the whole', async (t) => {
  const c = pcmCounter({ sampleRate: 16_000, channels: 1, bytesPerSample: 2 }, 9_000_000);
  let sum = 0;
  for (let i = 0; i < 600; i++) sum += c.take(3_201 - (i % 3), open(Infinity)).microCredits; // odd frame sizes
  t.equal(sum, c.microCredits);
  const whole = pcmCounter({ sampleRate: 16_000, channels: 1, bytesPerSample: 2 }, 9_000_000);
  whole.take(c.units, open(Infinity));
  t.equal(whole.microCredits, sum, 'no double rounding across 600 frames');
  const sixty = pcmCounter({ sampleRate: 16_000, channels: 1, bytesPerSample: 2 }, 9_000_000);
  t.same(sixty.take(1_920_000, open(Infinity)), { units: 1_920_000, microCredits: 9_000_000 }, '60 s = 9 credits');
  t.equal(sixty.audioMs(), 60_000);
});

t.test('PCM: a budget that does not cover a frame asks for more (nothing committed), or cuts at the sample when final', async (t) => {
  const c = pcmCounter({ sampleRate: 16_000, channels: 2, bytesPerSample: 2 }, 9_000_000); // 4-byte sample frames
  t.same(c.take(64_000, open(100_000)), { units: 0, microCredits: 0, needMicro: 150_000 });
  t.equal(c.units, 0, 'nothing committed');
  const cut = c.take(64_000, final(100_000));
  t.equal(cut.cut, true);
  t.equal(cut.units % 4, 0, 'whole sample frames only');
  t.ok(cut.microCredits <= 100_000);
  t.equal(cut.units, 42_664, 'the most whole sample frames 0.1 credits buys (10,666 frames)');
  t.equal(c.take(4, final(100_000 - cut.microCredits)).units, 0, 'not one more sample frame');
});

t.test('text: code points, emoji once; the cut never splits a surrogate pair', async (t) => {
  t.equal(codePointLength('a👋b'), 3);
  t.equal(sliceCodePoints('a👋b', 2), 'a👋');
  t.equal(sliceCodePoints('a👋b', 1), 'a');
  const c = textCounter(166_000_000); // ElevenLabs: 166 credits (µcr ×10⁶) per 1,000
  const text = '👋'.repeat(10) + 'x'.repeat(990);
  t.same(c.take(codePointLength(text), open(Infinity)), { units: 1_000, microCredits: 166_000_000 }, '1,000 code points = 166 credits');
  const d = textCounter(30_000_000); // Deepgram: 30 credits per 1,000
  t.same(d.take(25, final(300_000)), { units: 10, microCredits: 300_000, cut: true });
});
