import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const dir = new URL('../../test/fixtures/chatterbox/', import.meta.url);
const stream = readFileSync(new URL('speech-stream.sse', dir));
const request = JSON.parse(readFileSync(new URL('speech-request.json', dir), 'utf8')) as Record<string, unknown>;

t.test("chatterbox SSE speech: events pass through unchanged, 70 code points = 0.42 credits, speech.audio.done's usage is recorded", async (t) => {
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    for (let i = 0; i < stream.length; i += 300) {
      res.write(stream.subarray(i, i + 300));
      await new Promise((r) => setTimeout(r, 1));
    }
    res.end();
  });
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { chatterbox: { baseUrl: up.url } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const r = await fetch(`${tg.base('chatterbox')}/v1/audio/speech`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  t.equal(r.status, 200);
  t.ok(Buffer.from(await r.arrayBuffer()).equals(stream));

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 0.42, '70 × 6 / 1,000');
  t.equal(settled[0]!.units.chars, 70);
  t.same(settled[0]!.reported, { inputTokens: 42, outputTokens: 150 }, 'the server\'s word/chunk estimate is recorded, not billed');
});
