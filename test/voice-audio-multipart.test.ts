import t from 'tap';
import { createMultipartAudioMeter } from '../proxy/meters/audio.js';
import { chunked, multipart, wavBytes } from './voice-audio-fixtures.js';

t.test('the file part is measured and the small text fields are collected', async (t) => {
  const { body, contentType } = multipart([
    { name: 'model_id', value: 'scribe_v1' },
    { name: 'file', value: wavBytes(30_000), filename: 'a.wav', contentType: 'audio/wav' },
    { name: 'language_code', value: 'en' },
    { name: 'ignored', value: 'x' },
  ]);
  const m = createMultipartAudioMeter(contentType, { fileFields: ['file'], textFields: ['model_id', 'language_code'] });
  for (const c of chunked(body)) m.upload.onChunk(c);
  m.upload.onEnd();
  t.same(await m.result(), { ms: 30_000, format: 'wav', hasFile: true, bytes: 960_044 });
  t.same(m.fields(), { model_id: 'scribe_v1', language_code: 'en' });
});

t.test('without the file part: hasFile false, fields still read', async (t) => {
  const { body, contentType } = multipart([{ name: 'cloud_storage_url', value: 'https://example.com/a.wav' }]);
  const m = createMultipartAudioMeter(contentType, { fileFields: ['file'] });
  m.upload.onChunk(body);
  m.upload.onEnd();
  t.same(await m.result(), { ms: undefined, hasFile: false });
  t.same(m.fields(), { cloud_storage_url: 'https://example.com/a.wav' });
});

t.test('a body that is not multipart measures nothing and never throws', async (t) => {
  const m = createMultipartAudioMeter('multipart/form-data; boundary=abc', { fileFields: ['file'] });
  m.upload.onChunk(Buffer.from('garbage without any boundary'));
  m.upload.onEnd();
  t.same(await m.result(), { ms: undefined, hasFile: false });
  const n = createMultipartAudioMeter('application/json', { fileFields: ['file'] });
  n.upload.onChunk(Buffer.from('{}'));
  t.same(await n.result(), { ms: undefined, hasFile: false });
});

t.test('an upload cut mid-file settles with what the parser could read', async (t) => {
  const { body, contentType } = multipart([{ name: 'file', value: wavBytes(10_000), filename: 'a.wav' }]);
  const m = createMultipartAudioMeter(contentType, { fileFields: ['file'] });
  m.upload.onChunk(body.subarray(0, 100_000));
  const r = await m.result(); // no onEnd: the client went away
  const samples = 100_000 - body.indexOf('RIFF') - 44;
  t.same(r, { ms: Math.floor((samples * 1000) / 32_000), format: 'wav', hasFile: true, bytes: samples + 44 }, 'bounded by the samples received');
});
