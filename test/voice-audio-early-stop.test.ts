import t from 'tap';
import { createAudioDuration } from '../proxy/meters/audio.js';
import { fixture } from './voice-audio-fixtures.js';

// FLAC states its length in STREAMINFO: music-metadata stops reading after the headers, and the
// bytes that follow must be dropped, not queued for a reader that is gone.
t.test('bytes after the parser has stopped reading are dropped, not held', async (t) => {
  const flac = fixture('audio/tone-60s.flac');
  const d = createAudioDuration({});
  d.push(flac);
  while (!d.finished) await new Promise((r) => setTimeout(r, 5)); // the parser is done with the headers
  const before = process.memoryUsage().arrayBuffers;
  const junk = Buffer.alloc(1024 * 1024, 7);
  for (let i = 0; i < 64; i++) d.push(junk); // 64 MB more
  const grown = process.memoryUsage().arrayBuffers - before;
  d.end();
  t.same(await d.result(), { ms: 60_000, format: 'flac' });
  t.ok(grown < 8 * 1024 * 1024, `buffers grew ${grown} bytes`);
  t.equal(d.bytes, flac.length + 64 * 1024 * 1024);
});
