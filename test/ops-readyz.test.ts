// /readyz: 200 with the ledger up, 503 once Redis is gone (while /healthz stays 200), and 503
// from the moment shutdown begins; the body says why and what the config enables.
import t from 'tap';
import { startRedis } from './helpers/redis.js';
import { startUpstream, sse } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

t.test('readyz follows Redis', async (t) => {
  const redis = await startRedis();
  const tg = await startTollgate({ redis: { url: redis.url }, providers: { openai: { apiKey: 'sk-platform' } }, byok: { masterKey: 'cd'.repeat(32) } });
  t.teardown(async () => {
    await tg.close();
    await redis.stop();
  });
  let r = await fetch(`${tg.adminUrl}/readyz`);
  t.equal(r.status, 200);
  t.same(await r.json(), {
    status: 'ready',
    ledger: 'redis',
    shuttingDown: false,
    config: { providers: ['openai'], billing: false, storedProviderKeys: true, adminApi: true },
  });
  await redis.stop();
  r = await fetch(`${tg.adminUrl}/readyz`);
  t.equal(r.status, 503);
  t.match(await r.json(), { status: 'not ready', ledger: 'unavailable', shuttingDown: false });
  t.equal((await fetch(`${tg.adminUrl}/healthz`)).status, 200, 'alive all the same');
});

t.test('readyz is 503 during shutdown', async (t) => {
  let finish!: () => void;
  const held = new Promise<void>((r) => (finish = r));
  const up = await startUpstream(async (_req, res) => {
    await held;
    await sse(res, [{ data: { id: 'c', object: 'chat.completion.chunk', model: 'gpt-4.1', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } } }, { data: '[DONE]' }]);
  });
  const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } }, { tier: 'pro' });
  t.teardown(() => up.close());
  const inflight = fetch(`${tg.base('openai')}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4.1', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  }).then((r) => r.text());
  while (tg.app.pipeline.inFlight() === 0) await new Promise((r) => setTimeout(r, 5));
  const closing = tg.app.close(5_000);
  const r = await fetch(`${tg.adminUrl}/readyz`);
  t.equal(r.status, 503);
  t.match(await r.json(), { status: 'not ready', ledger: 'memory', shuttingDown: true });
  finish();
  t.match(await inflight, /\[DONE\]/, 'the request in flight still finished');
  await closing;
});
