import t from 'tap';
import { encode } from '@msgpack/msgpack';
import { createMsgpackAudioMeter } from '../proxy/meters/audio-msgpack.js';
import { chunked, fixture, wavBytes } from './voice-audio-fixtures.js';

t.test('the audio bin of a streamed msgpack map is measured; scalar fields are kept', async (t) => {
  const body = Buffer.from(encode({ nested: { a: [1, 2, { b: 'x' }], c: null }, audio: wavBytes(45_000), language: 'en', ignore_timestamps: false, n: -3, big: 70_000 }));
  const m = createMsgpackAudioMeter('audio');
  for (const c of chunked(body, [1, 2, 3, 5, 8, 13, 4096, 65_536])) m.upload.onChunk(c);
  m.upload.onEnd();
  t.same(await m.result(), { ms: 45_000, format: 'wav', hasFile: true, bytes: 1_440_044 });
  t.same(m.fields(), { language: 'en', ignore_timestamps: 'false', n: '-3', big: '70000' });
});

t.test('an MP3 in the audio bin', async (t) => {
  const m = createMsgpackAudioMeter('audio');
  m.upload.onChunk(Buffer.from(encode({ audio: fixture('audio/tone-60s-cbr.mp3') })));
  t.same(await m.result(), { ms: 60_012, format: 'mp3', hasFile: true, bytes: 120_213 });
});

t.test('no audio key, or not msgpack at all: nothing measured, nothing thrown', async (t) => {
  const a = createMsgpackAudioMeter('audio');
  a.upload.onChunk(Buffer.from(encode({ language: 'en' })));
  t.same(await a.result(), { ms: undefined, hasFile: false });
  const b = createMsgpackAudioMeter('audio');
  b.upload.onChunk(Buffer.from('{"audio": "not msgpack"}'));
  t.same(await b.result(), { ms: undefined, hasFile: false });
});
