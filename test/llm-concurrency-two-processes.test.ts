// Done-when: the Free tier's hard cap holds under concurrency across processes that share a
// Redis. 40 concurrent gpt-4.1 calls, each reserving 160.036 credits (more than 1/16 of 2,500),
// split between an in-process tollgate and a second tollgate process: exactly 15 are served
// (15 × 160.036 = 2,400.54; a 16th would pass 2,500), 25 get 402 insufficient_credits, and the
// provider sees exactly 15 requests. The provider holds every answer until all 40 have been
// decided, so every reservation is held at once.
import t from 'tap';
import OpenAI from 'openai';
import { latch, writeJson, body } from './helpers/llm-fixtures.js';
import { startTollgateProcess } from './helpers/llm-tollgate.js';
import { startRedis } from './helpers/redis.js';
import { eventually, startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { startUpstream } from './helpers/upstream.js';

const N = 40;
// "hello": 5 UTF-8 bytes + 4 = 9 input tokens reserved; 9 × 4 + 10,000 × 16 µcr-per-token-thousandths
// = 0.036 + 160 = 160.036 credits reserved. The provider reports 6 + 10,000 (160.024 charged).
const REQUEST = { model: 'gpt-4.1', max_tokens: 10_000, messages: [{ role: 'user' as const, content: 'hello' }] };

t.test('40 concurrent requests through two processes sharing one Redis', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  let refused = 0;
  const allDecided = latch();
  const check = () => {
    if (up.requests.length + refused === N) allDecided.open();
  };
  const up = await startUpstream(async (req, res) => {
    check();
    await allDecided.wait;
    const b = body(req);
    writeJson(res, 200, JSON.stringify({
      id: `chatcmpl-${up.requests.indexOf(req)}`, object: 'chat.completion', created: 1752000000, model: 'gpt-4.1-2025-04-14',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, logprobs: null, finish_reason: 'length' }],
      usage: { prompt_tokens: 6, completion_tokens: b.max_tokens, total_tokens: 6 + b.max_tokens },
    }));
  });
  t.teardown(() => up.close());

  const shared = {
    redis: { url: redis.url, keyPrefix: 'tgc' },
    providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform-openai-0001' } },
  };
  const a = await startTollgate(shared, { tier: 'free' });
  t.teardown(() => a.close());
  const t0 = Date.now();
  const b = await startTollgateProcess({ ...shared, accounts: [{ id: 'acct', tier: 'free', apiKeys: [TEST_KEY] }] });
  t.teardown(() => b.stop());
  t.comment(`child started in ${Date.now() - t0} ms`);

  const clients = [a.proxyUrl, b.proxyUrl].map((u) => new OpenAI({ apiKey: TEST_KEY, baseURL: `${u}/openai/v1`, maxRetries: 0, timeout: 20_000 }));
  const results = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      clients[i % 2]!.chat.completions.create(REQUEST).then(
        (r) => ({ ok: true as const, via: i % 2, tokens: r.usage?.completion_tokens }),
        (e: unknown) => {
          refused++;
          check();
          return { ok: false as const, via: i % 2, status: (e as InstanceType<typeof OpenAI.APIError>).status, code: (e as InstanceType<typeof OpenAI.APIError>).code };
        },
      ),
    ),
  );
  const served = results.filter((r) => r.ok);
  const rejected = results.filter((r) => !r.ok);
  t.comment(`served ${served.length} of ${N} (in-process ${served.filter((r) => r.via === 0).length}, child process ${served.filter((r) => r.via === 1).length})`);
  t.equal(served.length, 15, 'served exactly as far as the credits go');
  t.equal(rejected.length, 25);
  t.same(new Set(rejected.map((r) => `${r.status} ${r.code}`)), new Set(['402 insufficient_credits']));
  t.equal(up.requests.length, 15, 'the provider never saw a refused request');

  // Settling follows the answer: wait for the child's last settle (the in-process one is awaited).
  await a.app.pipeline.idle(5_000);
  const usageB = async () => (await fetch(`${b.adminUrl}/v1/usage`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json() as Promise<any>;
  await eventually(async () => (await usageB()).requestCount === 15, 10_000);
  for (const u of [await a.usage(), await usageB()]) {
    t.equal(u.credits.used, 2400.36);
    t.equal(u.credits.limit, 2500);
    t.equal(u.credits.remaining, 99.64);
    t.equal(u.reserved, 0);
    t.equal(u.requestCount, 15);
  }
});
