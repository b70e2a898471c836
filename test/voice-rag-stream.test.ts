import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

const stream = readFileSync(new URL('../../test/fixtures/rag/query-stream.sse', import.meta.url));

t.test('rag streamed /v1/query: the events pass through unchanged and the query is 2 credits, with no key configured upstream', async (t) => {
  const up = await startUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const part of stream.toString().split(/(?<=\n\n)/)) {
      res.write(part);
      await new Promise((r) => setTimeout(r, 2));
    }
    res.end();
  });
  const tg = await startTollgate({ providers: { rag: { baseUrl: up.url } } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const r = await fetch(`${tg.base('rag')}/v1/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: 'How do I rotate my API key?', stream: true }),
  });
  t.equal(r.status, 200);
  t.ok(Buffer.from(await r.arrayBuffer()).equals(stream));
  t.equal(up.requests[0]!.headers.authorization, undefined, 'a keyless search service gets no Authorization header');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 2);
  t.equal(u.breakdown.rag, 2);
});
