import t from 'tap';
import { createAudioDuration } from '../proxy/meters/audio.js';

t.test('bytes that are not audio measure as undefined, without throwing', async (t) => {
  const d = createAudioDuration({ contentType: 'audio/wav' });
  d.push(Buffer.from('this is not audio at all, just text pretending to be a file'.repeat(100)));
  d.end();
  t.same(await d.result(), { ms: undefined });
});

t.test('an empty body measures as undefined', async (t) => {
  const d = createAudioDuration({});
  d.end();
  t.same(await d.result(), { ms: undefined });
});

t.test('result() without end() (a cut upload) still resolves', async (t) => {
  const d = createAudioDuration({});
  d.push(Buffer.from('RIFF'));
  t.same(await d.result(), { ms: undefined });
});
