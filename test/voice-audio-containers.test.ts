import t from 'tap';
import { createAudioDuration } from '../proxy/meters/audio.js';
import { chunked, fixture } from './voice-audio-fixtures.js';

// Durations as the containers state them (test/fixtures/audio/README.md says how each was made).
const CASES: Array<[file: string, ms: number, format: string]> = [
  ['tone-60s-cbr.mp3', 60_012, 'mp3'], // no Xing header: 1,667 frames counted over the whole stream
  ['tone-60s-xing.mp3', 60_084, 'mp3'],
  ['tone-60s.flac', 60_000, 'flac'],
  ['tone-60s.ogg', 60_000, 'ogg'],
  ['tone-60s.webm', 60_008, 'webm'],
  ['tone-60s.m4a', 60_064, 'm4a'],
  ['tone-60s-faststart.m4a', 60_064, 'm4a'],
];

for (const [file, ms, format] of CASES) {
  t.test(`${file} streamed in small chunks measures ${ms} ms`, async (t) => {
    const d = createAudioDuration({ contentType: 'application/octet-stream' });
    for (const c of chunked(fixture(`audio/${file}`))) d.push(c);
    d.end();
    t.same(await d.result(), { ms, format });
  });
}
