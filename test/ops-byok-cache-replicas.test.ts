// Stored keys are cached per replica for byok.cacheTtlMs: a key deleted through replica A stops
// being used on replica A at once and on replica B once B's entry expires (here 300 ms).
import t from 'tap';
import { startRedis } from './helpers/redis.js';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

t.test('a DELETE on one replica reaches the other within cacheTtlMs', async (t) => {
  const redis = await startRedis();
  const up = await startUpstream((_req, res) =>
    json(res, 200, { id: 'c1', object: 'chat.completion', model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } }),
  );
  const cfg = { redis: { url: redis.url }, providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } }, byok: { masterKey: 'ef'.repeat(32), cacheTtlMs: 300 } };
  const a = await startTollgate(cfg, { tier: 'pro' });
  const b = await startTollgate(cfg, { tier: 'pro' });
  t.teardown(async () => {
    await a.close();
    await b.close();
    await up.close();
    await redis.stop();
  });
  const customer = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };
  const chat = async (base: string) => {
    const r = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: customer, body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }) });
    await r.arrayBuffer();
    return up.requests.at(-1)!.headers.authorization;
  };
  t.equal((await fetch(`${a.adminUrl}/v1/provider-keys/openai`, { method: 'PUT', headers: customer, body: JSON.stringify({ key: 'sk-own-replica-key' }) })).status, 200);
  t.equal(await chat(b.base('openai')), 'Bearer sk-own-replica-key', 'B reads the key A stored');

  const deletedAt = Date.now();
  t.equal((await fetch(`${a.adminUrl}/v1/provider-keys/openai`, { method: 'DELETE', headers: customer })).status, 200);
  t.equal(await chat(a.base('openai')), 'Bearer sk-platform', 'A forgets at once');
  let seen = await chat(b.base('openai'));
  while (seen !== 'Bearer sk-platform' && Date.now() - deletedAt < 3_000) {
    await new Promise((r) => setTimeout(r, 25));
    seen = await chat(b.base('openai'));
  }
  const ms = Date.now() - deletedAt;
  t.equal(seen, 'Bearer sk-platform');
  // The bound allows for a loaded machine: the point is that B follows within about one TTL.
  t.ok(ms < 300 + 1_000, `B stopped using it after ${ms} ms (TTL 300 ms)`);
});
