// A stored BYOK key (PUT /v1/provider-keys/openai) is what reaches the provider, costs zero
// credits, is listed by provider only, and appears nowhere in Redis in plaintext.
import t from 'tap';
import { startRedis } from './helpers/redis.js';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { redisDump } from './helpers/ops-redis-dump.js';

const MASTER = Buffer.alloc(32, 7).toString('base64');
const STORED = 'sk-proj-customer-own-key-0123456789abcdef';

t.test('stored key: used upstream, 0 credits, sealed in Redis', async (t) => {
  const redis = await startRedis();
  const up = await startUpstream((_req, res) =>
    json(res, 200, { id: 'c1', object: 'chat.completion', model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } }),
  );
  const tg = await startTollgate({ redis: { url: redis.url }, providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } }, byok: { masterKey: MASTER } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
    await redis.stop();
  });
  const customer = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };

  const put = await fetch(`${tg.adminUrl}/v1/provider-keys/OpenAI`, { method: 'PUT', headers: customer, body: JSON.stringify({ key: STORED }) });
  t.equal(put.status, 200);
  t.same(await put.json(), { provider: 'openai', stored: true });

  const list = await fetch(`${tg.adminUrl}/v1/provider-keys`, { headers: customer });
  const listed = await list.text();
  t.same(JSON.parse(listed), { providers: ['openai'] });
  t.notOk(listed.includes(STORED));

  const chat = () =>
    fetch(`${tg.base('openai')}/v1/chat/completions`, {
      method: 'POST',
      headers: customer,
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] }),
    });
  t.equal((await chat()).status, 200);
  t.equal(up.requests[0]!.headers.authorization, `Bearer ${STORED}`, 'the stored key reached the provider');
  await tg.app.pipeline.idle(2_000);
  let u = await tg.usage();
  t.equal(u.credits.used, 0, 'BYOK costs no credits');
  t.equal(u.requestCount, 1);
  t.equal(u.byok.requestCount, 1);
  t.same(u.byok.usage.llm, { inputTokens: 1000, outputTokens: 500 });

  const dump = await redisDump(redis.client());
  t.ok(dump.includes('secrets'), 'the sealed entry is in Redis');
  t.notOk(dump.includes(STORED), 'the plaintext key is not');
  t.notOk(dump.includes(Buffer.from(STORED).toString('base64')), 'nor its base64');
  t.notOk(dump.includes(Buffer.from(STORED).toString('hex')), 'nor its hex');

  // DELETE: the next request is metered on the platform key again (this replica's cache is cleared at once).
  const del = await fetch(`${tg.adminUrl}/v1/provider-keys/openai`, { method: 'DELETE', headers: customer });
  t.equal(del.status, 200);
  t.equal((await chat()).status, 200);
  t.equal(up.requests[1]!.headers.authorization, 'Bearer sk-platform');
  await tg.app.pipeline.idle(2_000);
  u = await tg.usage();
  t.equal(u.credits.used, 12, 'gpt-4.1: 1,000 + 500 tokens = 12 credits');
  t.equal(u.requestCount, 2);
  t.equal((await fetch(`${tg.adminUrl}/v1/provider-keys/openai`, { method: 'DELETE', headers: customer })).status, 404);
});
