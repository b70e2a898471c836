// `redis.localAdmission` (default true): a paid account with no spend limit is admitted without
// a reserve round trip once its terms are read; `false` sends every reserve to Redis. Counted
// through tollgate's own ledger metric, with the OpenAI SDK as the client.

import t, { type Test } from 'tap';
import OpenAI from 'openai';
import { startRedis } from './helpers/redis.js';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

const usage = { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 };

async function reservesFor(t: Test, localAdmission: boolean | undefined): Promise<{ reserves: number; settles: number; usedCredits: number }> {
  const redis = await startRedis();
  const up = await startUpstream(async (_req, res) => {
    json(res, 200, { id: 'c', object: 'chat.completion', created: 0, model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage });
  });
  const redisConfig = localAdmission === undefined ? { url: redis.url } : { url: redis.url, localAdmission };
  const tg = await startTollgate({ redis: redisConfig, providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } }, { tier: 'pro' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
    await redis.stop();
  });
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('openai')}/v1`, maxRetries: 0 });
  for (let i = 0; i < 5; i++) {
    const r = await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] });
    t.equal(r.usage?.total_tokens, 1500);
  }
  await tg.app.pipeline.idle(2_000);
  const text = await (await fetch(`${tg.adminUrl}/metrics`)).text();
  const count = (op: string) => Number(new RegExp(`^tollgate_ledger_script_seconds_count\\{op="${op}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  const u = (await (await fetch(`${tg.adminUrl}/v1/usage`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as { credits: { used: number } };
  return { reserves: count('reserve'), settles: count('settle'), usedCredits: u.credits.used };
}

// gpt-4.1: 4 credits per 1,000 input tokens, 16 per 1,000 output: 4 + 8 = 12 credits a request.
t.test('default: the first reserve goes to Redis, the next four are admitted locally', async (t) => {
  t.same(await reservesFor(t, undefined), { reserves: 1, settles: 5, usedCredits: 60 });
});

t.test('redis.localAdmission: false: every reserve goes to Redis', async (t) => {
  t.same(await reservesFor(t, false), { reserves: 5, settles: 5, usedCredits: 60 });
});
