import t from 'tap';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

t.test('pockettts multipart /tts: the form field `text`, 1,000 code points (emoji included) = 2 credits; the form is forwarded as sent', async (t) => {
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav' });
    res.end(Buffer.alloc(1024));
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { pockettts: { baseUrl: up.url } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const text = 'p'.repeat(998) + '🐙🦑';
  const form = new FormData();
  form.append('text', text);
  form.append('voice_url', 'alba');
  const r = await fetch(`${tg.base('pockettts')}/tts`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}` }, body: form });
  t.equal(r.status, 200);
  t.equal((await r.arrayBuffer()).byteLength, 1024);
  const seen = up.requests[0]!;
  t.equal(seen.path, '/tts');
  t.match(seen.body.toString(), text, 'the form reaches the server unchanged');
  t.equal(seen.headers.authorization, undefined);
  t.notMatch(JSON.stringify(seen.headers), TEST_KEY, 'the customer key never reaches the server');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 2, '1,000 × 2 / 1,000');
  t.equal(u.breakdown.tts, 2);
  t.equal(settled[0]!.units.chars, 1000);
});
