// BYOK by header: X-Provider-Key-OpenAI becomes the upstream key. Zero credits, never refused
// for lack of credits (a Free account with nothing left), counted in requestCount and under
// `byok` with its tokens.
import t from 'tap';
import { TEST_KEY } from './helpers/tollgate.js';
import { openaiClient, startLlmStack } from './helpers/llm-tollgate.js';
import OpenAI from 'openai';

t.test('BYOK: the customer key upstream, zero credits, served with no credits left', async (t) => {
  // A Free tier with 0 included credits: every metered call is refused.
  const { tg, up, settledUsage } = await startLlmStack(t, { tier: 'free', config: { tiers: { free: { includedCredits: 0 } } } });

  const refused = await openaiClient(tg).chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
  t.type(refused, OpenAI.APIError);
  t.equal((refused as InstanceType<typeof OpenAI.APIError>).status, 402);
  t.equal((refused as InstanceType<typeof OpenAI.APIError>).code, 'insufficient_credits');
  t.equal(up.openai.requests.length, 0, 'the metered call never reached the provider');

  const byok = openaiClient(tg, { headers: { 'X-Provider-Key-OpenAI': 'sk-customer-own-key-0001' } });
  const r = await byok.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] });
  t.equal(r.choices[0]!.message.content, 'Hello! How can I help you today?');
  const s = await byok.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], stream: true });
  let n = 0;
  for await (const _ of s) n++;
  t.equal(n, 7, 'the injected usage chunk is hidden under BYOK too');

  t.equal(up.openai.requests.length, 2);
  for (const req of up.openai.requests) {
    t.equal(req.headers.authorization, 'Bearer sk-customer-own-key-0001', 'the BYOK key goes upstream as Bearer');
    t.notOk(req.headers['x-provider-key-openai'], 'the BYOK header itself is not forwarded');
    t.notMatch(JSON.stringify(req.headers), TEST_KEY);
  }

  const u = await settledUsage();
  t.equal(u.credits.used, 0);
  t.equal(u.credits.limit, 0);
  t.equal(u.breakdown.llm, 0);
  t.equal(u.requestCount, 2);
  t.equal(u.reserved, 0);
  t.same(u.byok, { requestCount: 2, usage: { tts: {}, stt: {}, llm: { inputTokens: 2000, outputTokens: 1000 }, rag: {} } });
});

t.test('BYOK to a provider with no platform key', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t, { config: { providers: { openai: { apiKey: undefined } } } });
  const r = await openaiClient(tg, { headers: { 'x-provider-key-openai': 'sk-customer-own-key-0002' } }).chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] });
  t.equal(r.usage?.completion_tokens, 500);
  t.equal(up.openai.requests[0]!.headers.authorization, 'Bearer sk-customer-own-key-0002');
  const u = await settledUsage();
  t.equal(u.credits.used, 0);
  t.equal(u.byok.requestCount, 1);
});
