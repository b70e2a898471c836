import t from 'tap';
import { readFileSync } from 'node:fs';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/fixtures/rag/${name}`, import.meta.url), 'utf8'));

t.test('rag: each successful query is 2 credits (POST /search, GET /v1/search, POST /query); the platform key goes upstream, the customer key does not', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, fixture('search-response.json')));
  const settled: SettledRecord[] = [];
  const tg = await startTollgate({ providers: { rag: { baseUrl: `${up.url}/api`, apiKey: 'rag-platform' } } }, { events: { settled: (r) => settled.push(r) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const auth = { authorization: `Bearer ${TEST_KEY}` };
  const a = await fetch(`${tg.base('rag')}/search`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(fixture('search-request.json')) });
  t.equal(a.status, 200);
  t.same(await a.json(), fixture('search-response.json'));
  const b = await fetch(`${tg.base('rag')}/v1/search?q=rotate+api+key&top_k=3`, { headers: auth });
  t.equal(b.status, 200);
  await b.arrayBuffer();
  const c = await fetch(`${tg.base('rag')}/query`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"query":"limits"}' });
  t.equal(c.status, 200);
  await c.arrayBuffer();

  t.same(up.requests.map((r) => `${r.method} ${r.url}`), ['POST /api/search', 'GET /api/v1/search?q=rotate+api+key&top_k=3', 'POST /api/query']);
  t.same(JSON.parse(up.requests[0]!.body.toString()), fixture('search-request.json'), 'the query body is forwarded unchanged');
  for (const r of up.requests) t.equal(r.headers.authorization, 'Bearer rag-platform');
  t.notMatch(JSON.stringify(up.requests.map((r) => r.headers)), TEST_KEY, 'the customer key never reaches the search service');

  await tg.app.pipeline.idle(2000);
  const u = await tg.usage();
  t.equal(u.credits.used, 6);
  t.equal(u.breakdown.rag, 6);
  t.equal(u.requestCount, 3);
  t.same(settled.map((s) => s.units), [{ queries: 1 }, { queries: 1 }, { queries: 1 }]);
});
