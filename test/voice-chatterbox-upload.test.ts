import t from 'tap';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

t.test('chatterbox multipart upload: the form field `input` is counted, the voice sample is forwarded untouched; 500 code points = 3 credits', async (t) => {
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav' });
    res.end(Buffer.alloc(256));
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { chatterbox: { baseUrl: up.url } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const sample = Buffer.alloc(200_000, 7);
  const form = new FormData();
  form.append('voice_file', new Blob([sample], { type: 'audio/wav' }), 'my-voice.wav');
  form.append('input', 'ñ'.repeat(500));
  form.append('exaggeration', '0.6');
  const r = await fetch(`${tg.base('chatterbox')}/v1/audio/speech/upload`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}` }, body: form });
  t.equal(r.status, 200);
  await r.arrayBuffer();
  const seen = up.requests[0]!;
  t.equal(seen.path, '/v1/audio/speech/upload');
  t.match(String(seen.headers['content-type']), /^multipart\/form-data; boundary=/);
  t.ok(seen.body.includes(sample), 'the voice sample reaches the server byte for byte');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 3, '500 × 6 / 1,000');
  t.equal(settled[0]!.units.chars, 500);
});
