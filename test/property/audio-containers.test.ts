// Property: the committed container fixtures (MP3 CBR and Xing, FLAC, OGG, WebM, M4A, faststart
// M4A) measure the same duration whole and cut at random points.
import t from 'tap';
import fc from 'fast-check';
import { createAudioDuration, type AudioDuration } from '../../proxy/meters/audio.js';
import { fixture } from '../voice-audio-fixtures.js';
import { cuts, fcParams, splitAt } from '../helpers/property.js';

async function measure(d: AudioDuration, chunks: readonly Buffer[]): Promise<number | undefined> {
  for (const c of chunks) await d.push(c);
  d.end();
  return (await d.result()).ms;
}

const FIXTURES = ['tone-60s-cbr.mp3', 'tone-60s-xing.mp3', 'tone-60s.flac', 'tone-60s.ogg', 'tone-60s.webm', 'tone-60s.m4a', 'tone-60s-faststart.m4a'];
t.test('container fixtures: the same duration at every split', async (t) => {
  for (const name of FIXTURES) {
    const bytes = fixture(`audio/${name}`);
    const whole = await measure(createAudioDuration({}), [bytes]);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(cuts().filter((c) => c[0] !== -1), async (fractions) => {
        runs++;
        return (await measure(createAudioDuration({}), splitAt(bytes, fractions))) === whole;
      }),
      fcParams(5),
    );
    t.ok(whole !== undefined && runs === 5, `${name}: ${whole} ms whole and in 5 random splits`);
  }
});

