import t from 'tap';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

t.test('rag errors cost nothing: a failed query is free, other paths are refused, a Free account past its credits is refused before the service sees it', async (t) => {
  let fail = true;
  const up = await startUpstream((_req, res) => (fail ? json(res, 503, { error: 'index loading' }) : json(res, 200, { results: [] })));
  // A Free tier of 3 credits: one 2-credit query fits, the next does not.
  const tg = await startTollgate({ providers: { rag: { baseUrl: up.url } }, tiers: { free: { includedCredits: 3 } } }, { tier: 'free' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const search = () => fetch(`${tg.base('rag')}/search`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: '{"query":"x"}' });

  const failed = await search();
  t.equal(failed.status, 503);
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 0, 'a failed query costs 0');

  const other = await fetch(`${tg.base('rag')}/collections/docs/delete`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}` } });
  t.equal(other.status, 404);
  t.match(await other.json(), { error: { code: 'unknown_route' } });

  fail = false;
  t.equal((await search()).status, 200);
  await tg.app.pipeline.idle(2000);
  t.equal((await tg.usage()).credits.used, 2);
  const refused = await search();
  t.equal(refused.status, 402);
  t.match(await refused.json(), { error: { code: 'insufficient_credits' } });
  t.equal(up.requests.length, 2, 'the refused requests never reached the service');
  t.equal((await tg.usage()).credits.used, 2);
});
