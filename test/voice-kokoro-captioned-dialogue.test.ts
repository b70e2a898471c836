import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const captioned = readFileSync(new URL('../../test/fixtures/kokoro/captioned-stream.ndjson', import.meta.url));

t.test('kokoro captioned speech and dialogue are metered by their text: 125 + 375 code points = 0.5 + 1.5 credits', async (t) => {
  const up = await startUpstream((req, res) => {
    if (req.path === '/dev/captioned_speech') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(captioned);
      return;
    }
    res.writeHead(200, { 'content-type': 'audio/wav' });
    res.end(Buffer.alloc(512));
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { kokoro: { baseUrl: up.url } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const post = (path: string, body: unknown) =>
    fetch(`${tg.base('kokoro')}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const c = await post('/dev/captioned_speech', { model: 'kokoro', input: 'c'.repeat(125), voice: 'af_bella', response_format: 'mp3' });
  t.equal(c.status, 200);
  t.ok(Buffer.from(await c.arrayBuffer()).equals(captioned));
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0.5);

  // Two turns: '  ' around a turn is stripped by Kokoro; the [voice:…] tags it renders are not text.
  const d = await post('/dev/dialogue', { model: 'kokoro', turns: [{ voice: 'af_bella', text: `  ${'d'.repeat(200)}  ` }, { voice: 'am_adam', text: 'e'.repeat(175) }] });
  t.equal(d.status, 200);
  await d.arrayBuffer();
  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 2);
  t.equal(u.breakdown.tts, 2);
  t.same(settled.map((s) => s.units.chars), [125, 375]);
});
