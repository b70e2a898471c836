// The official @mistralai/mistralai SDK through tollgate. The seed prices no Mistral LLM: the
// operator's price (input 1, output 3 credits per 1,000 tokens) makes 1,000 + 500 = 2.5 credits.
// Streams carry usage on the last chunk unasked. tollgate's refusals reach the SDK as its
// errors, with the contract's code in the OpenAI-style body Mistral also uses.
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

t.test('mistral SDK errors: invalid_api_key, unpriced_model', async (t) => {
  const { tg, up } = await startLlmStack(t, { config: { pricing: {} } });
  const fail = (p: Promise<unknown>): Promise<any> => p.then(() => { throw new Error('expected an error'); }, (e: unknown) => e);
  let e = await fail((await mistralClient(tg, { apiKey: 'tg_wrong_key_000000000000000000' })).complete({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }] }));
  t.equal(e.statusCode, 401);
  t.equal(JSON.parse(e.body).error.code, 'invalid_api_key');
  e = await fail((await mistralClient(tg)).complete({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }] }));
  t.equal(e.statusCode, 400, 'no operator price in this config');
  t.equal(JSON.parse(e.body).error.code, 'unpriced_model');
  t.equal(up.mistral.requests.length, 0);
});
