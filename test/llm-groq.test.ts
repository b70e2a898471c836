// The official groq-sdk through tollgate (base URL http://PROXY/groq; the SDK adds /openai/v1).
// llama-4-scout at 1 / 1 credit per 1,000 tokens: 1,000 in + 500 out = 1.5 credits. Streams
// report usage in the last chunk's `x_groq.usage`; nothing is injected into the request.
import t from 'tap';
import { groqClient, startLlmStack } from './helpers/llm-tollgate.js';

t.test('groq chat completions: 1.5 credits each, usage from x_groq when streamed', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t);
  const client = groqClient(tg);

  const r = await client.chat.completions.create({ model: 'meta-llama/llama-4-scout-17b-16e-instruct', messages: [{ role: 'user', content: 'hello' }] });
  t.equal(r.choices[0]!.message.content, 'Hello! How can I help you today?');
  let u = await settledUsage();
  t.equal(u.credits.used, 1.5);

  const stream = await client.chat.completions.create({ model: 'meta-llama/llama-4-scout-17b-16e-instruct', messages: [{ role: 'user', content: 'hello' }], stream: true });
  let text = '';
  let last: any;
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? '';
    last = c;
  }
  t.equal(text, 'Hello! How can I help you today?');
  t.equal(last.x_groq.usage.completion_tokens, 500, 'the client sees x_groq.usage');
  t.notOk('stream_options' in JSON.parse(up.groq.requests[1]!.body.toString()), 'nothing injected for Groq');
  u = await settledUsage();
  t.equal(u.credits.used, 3);
  t.equal(u.breakdown.llm, 3);
  t.equal(u.requestCount, 2);
  t.equal(u.reserved, 0);
  t.same(up.groq.requests.map((q) => q.path), ['/openai/v1/chat/completions', '/openai/v1/chat/completions']);
});
