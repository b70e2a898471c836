// Issue 22's figure: the 80% alert fires once when 40 concurrent requests cross it through two
// tollgate processes sharing one Redis, each running its own deliverer. 40 gpt-4.1 calls of
// 6 + 3,500 tokens (56.024 credits each, 56.036 reserved: all 40 fit Free's 2,500) take the
// account to 2,240.96 credits: 50% is crossed by the 23rd settle (1,288.552) and 80% by the
// 36th (2,016.864), whatever the order, since every settle costs the same. The receiver gets
// each exactly once; the secret, given as ${ALERTS_SECRET}, appears in no log line.
import t from 'tap';
import OpenAI from 'openai';
import { writeJson, body } from '../helpers/llm-fixtures.js';
import { startOpsProcess } from '../helpers/ops-process.js';
import { startAlertReceiver, verifySignature } from '../helpers/alert-receiver.js';
import { startRedis } from '../helpers/redis.js';
import { eventually, startTollgate, TEST_KEY } from '../helpers/tollgate.js';
import { startUpstream } from '../helpers/upstream.js';

const N = 40;
const SECRET = 'whsec_two_processes_0123456789abcdef';
const REQUEST = { model: 'gpt-4.1', max_tokens: 3_500, messages: [{ role: 'user' as const, content: 'hello' }] };

t.test('40 concurrent requests through two processes: 50% and 80% delivered once each', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const receiver = await startAlertReceiver();
  t.teardown(() => receiver.close());
  const up = await startUpstream(async (req, res) => {
    const b = body(req);
    writeJson(res, 200, JSON.stringify({
      id: `chatcmpl-${up.requests.indexOf(req)}`, object: 'chat.completion', created: 1752000000, model: 'gpt-4.1-2025-04-14',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, logprobs: null, finish_reason: 'length' }],
      usage: { prompt_tokens: 6, completion_tokens: b.max_tokens, total_tokens: 6 + b.max_tokens },
    }));
  });
  t.teardown(() => up.close());

  const shared = {
    redis: { url: redis.url, keyPrefix: 'tga2' },
    providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform-openai-0001' } },
    alerts: { webhookUrl: receiver.url, secret: '${ALERTS_SECRET}', intervalMs: 100, backoffMs: 50 },
  };
  const env = { ALERTS_SECRET: SECRET };
  const a = await startTollgate(shared, { tier: 'free', env });
  t.teardown(() => a.close());
  const t0 = Date.now();
  const b = await startOpsProcess({ ...shared, accounts: [{ id: 'acct', tier: 'free', apiKeys: [TEST_KEY] }], logging: { level: 'debug' } }, [], env);
  t.teardown(() => b.stop('SIGTERM', 5_000));
  t.comment(`child started in ${Date.now() - t0} ms`);

  const clients = [a.proxyUrl, b.proxyUrl].map((u) => new OpenAI({ apiKey: TEST_KEY, baseURL: `${u}/openai/v1`, maxRetries: 0, timeout: 20_000 }));
  const results = await Promise.all(Array.from({ length: N }, (_, i) => clients[i % 2]!.chat.completions.create(REQUEST).then(() => true, () => false)));
  t.equal(results.filter(Boolean).length, N, 'all 40 served');
  await eventually(async () => (await a.usage()).requestCount === N, 10_000);
  t.equal((await a.usage()).credits.used, 2240.96);

  t.comment(`served and settled at ${Date.now() - t0} ms`);
  await receiver.acceptedCount(2);
  t.comment(`delivered at ${Date.now() - t0} ms`);
  await new Promise((r) => setTimeout(r, 500)); // several more runs of both deliverers: nothing more
  const ps = Date.parse((await a.usage()).period.start) / 1000;
  t.same(
    receiver.attempts.map((x) => [x.id, x.json.type, x.json.threshold, x.json.used, x.json.limit, x.status]),
    [
      [`tga_acct_${ps}_p50`, 'credits.threshold_crossed', 50, 1288.552, 2500, 200],
      [`tga_acct_${ps}_p80`, 'credits.threshold_crossed', 80, 2016.864, 2500, 200],
    ],
  );
  for (const x of receiver.attempts) t.ok(verifySignature(SECRET, x.signature, x.body, Math.floor(Date.now() / 1000)));

  // Each process counts what it sent; together, the two events.
  const sent = async (url: string) => {
    const m = /tollgate_alerts_sent_total\{type="credits.threshold_crossed"\} (\d+)/.exec(await (await fetch(`${url}/metrics`)).text());
    return Number(m?.[1] ?? 0);
  };
  t.equal((await sent(a.adminUrl)) + (await sent(b.adminUrl)), 2);
  t.notOk(b.logs.join('\n').includes(SECRET), 'the secret is in no log line');
});
