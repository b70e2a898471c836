// Explicitly free routes (model listings, Anthropic token counting) are forwarded on the
// platform key and cost nothing; they are not metered requests of the account.
import t from 'tap';
import { writeJson } from './helpers/llm-fixtures.js';
import { anthropicClient, openaiClient, PLATFORM_KEYS, startLlmStack } from './helpers/llm-tollgate.js';

t.test('model listings and count_tokens are free', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t, {
    tier: 'free',
    override: {
      openai: (req, res) => {
        if (req.path === '/v1/models') writeJson(res, 200, JSON.stringify({ object: 'list', data: [{ id: 'gpt-4.1', object: 'model', created: 1744316542, owned_by: 'system' }] }));
        else writeJson(res, 200, JSON.stringify({ id: 'gpt-4.1', object: 'model', created: 1744316542, owned_by: 'system' }));
        return true;
      },
      anthropic: (req, res) => {
        writeJson(res, 200, JSON.stringify({ input_tokens: 2000 }));
        return true;
      },
    },
  });
  const models = [];
  for await (const m of openaiClient(tg).models.list()) models.push(m.id);
  t.same(models, ['gpt-4.1']);
  t.equal((await openaiClient(tg).models.retrieve('gpt-4.1')).id, 'gpt-4.1');
  const counted = await (await anthropicClient(tg)).messages.countTokens({ model: 'claude-sonnet-4-20250514', messages: [{ role: 'user', content: 'hello' }] });
  t.equal(counted.input_tokens, 2000);
  t.same(up.openai.requests.map((r) => `${r.method} ${r.path} ${r.headers.authorization}`), [`GET /v1/models Bearer ${PLATFORM_KEYS.openai}`, `GET /v1/models/gpt-4.1 Bearer ${PLATFORM_KEYS.openai}`]);
  t.equal(up.anthropic.requests[0]?.path, '/v1/messages/count_tokens');
  t.equal(up.anthropic.requests[0]?.headers['x-api-key'], PLATFORM_KEYS.anthropic);
  const u = await settledUsage();
  t.equal(u.credits.used, 0);
  t.equal(u.requestCount, 0);
  t.equal(u.reserved, 0);
});
