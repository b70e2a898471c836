// The official @mistralai/mistralai SDK through tollgate. The seed prices no Mistral LLM: the
// operator's price (input 1, output 3 credits per 1,000 tokens) makes 1,000 + 500 = 2.5 credits.
// Streams carry usage on the last chunk unasked.
import t from 'tap';
import { mistralClient, PLATFORM_KEYS, startLlmStack } from './helpers/llm-tollgate.js';
import { TEST_KEY } from './helpers/tollgate.js';

t.test('mistral chat: 2.5 credits each at the operator price, streamed or not', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t);
  const client = await mistralClient(tg);

  const r = await client.complete({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hello' }] });
  t.equal(r.choices[0]?.message?.content, 'Hello! How can I help you today?');
  let u = await settledUsage();
  t.equal(u.credits.used, 2.5);

  const stream = await client.stream({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hello' }] });
  let text = '';
  let usage: any;
  for await (const ev of stream) {
    text += (ev.data.choices[0]?.delta.content as string | undefined) ?? '';
    if (ev.data.usage) usage = ev.data.usage;
  }
  t.equal(text, 'Hello! How can I help you today?');
  t.equal(usage.completionTokens, 500);
  u = await settledUsage();
  t.equal(u.credits.used, 5);
  t.equal(u.breakdown.llm, 5);
  t.equal(u.requestCount, 2);
  t.equal(u.reserved, 0);
  t.same(up.mistral.requests.map((q) => q.path), ['/v1/chat/completions', '/v1/chat/completions']);
  for (const req of up.mistral.requests) {
    t.equal(req.headers.authorization, `Bearer ${PLATFORM_KEYS.mistral}`, 'the platform key upstream, never the customer\'s');
    t.notMatch(JSON.stringify(req.headers), TEST_KEY);
  }
  t.notOk('stream_options' in JSON.parse(up.mistral.requests[1]!.body.toString()), 'nothing injected for Mistral');
});
