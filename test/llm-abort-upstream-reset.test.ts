// A provider whose connection resets mid-stream: the client gets an error, the account is
// charged the documented estimate of what was streamed (see proxy/meters/llm.ts), once, and
// no reservation is left. The cut fixtures stream three 40-character deltas (30 tokens).
import t from 'tap';
import { cutBlocks, latch, writeSse, type LlmProvider } from './helpers/llm-fixtures.js';
import { anthropicClient, groqClient, openaiClient, startLlmStack } from './helpers/llm-tollgate.js';
import type { RecordedRequest } from './helpers/upstream.js';
import type { ServerResponse } from 'node:http';

// ceil(3984 / 4) + 4 = 1,000 input tokens estimated.
const LONG = [{ role: 'user' as const, content: 'x'.repeat(3984) }];

t.test('upstream resets mid-stream', async (t) => {
  let seen = latch();
  const resetAfter = (provider: LlmProvider) => async (req: RecordedRequest, res: ServerResponse) => {
    // Reset only once the client has received everything sent, so the figures are exact.
    await writeSse(res, cutBlocks(provider, req), { before: seen.wait, then: 'reset' });
    return true;
  };
  const { tg, up, settledUsage } = await startLlmStack(t, { override: { openai: resetAfter('openai'), anthropic: resetAfter('anthropic'), groq: resetAfter('groq') } });
  let used = 0;
  const charged = async () => {
    const u = await settledUsage();
    const c = Math.round((u.credits.used - used) * 1e6) / 1e6;
    used = u.credits.used;
    t.equal(u.reserved, 0, 'nothing left reserved');
    seen = latch();
    return c;
  };
  const drain = async (it: AsyncIterable<unknown>, isDelta: (ev: any) => boolean) => {
    let n = 0;
    try {
      for await (const ev of it) if (isDelta(ev) && ++n === 3) seen.open();
    } catch (err) {
      return { n, err };
    }
    return { n, err: undefined };
  };

  // OpenAI: 1,000 × 4 + 30 × 16 = 4.48 credits.
  let r = await drain(await openaiClient(tg).chat.completions.create({ model: 'gpt-4.1', max_tokens: 2000, messages: LONG, stream: true }), (c) => !!c.choices[0]?.delta.content);
  t.equal(r.n, 3);
  t.ok(r.err, 'the SDK sees the cut stream as an error');
  t.equal(await charged(), 4.48, 'openai: the estimate');

  // Groq (llama-4-scout, 1 / 1): 1,000 + 30 = 1.03 credits.
  r = await drain(await groqClient(tg).chat.completions.create({ model: 'meta-llama/llama-4-scout-17b-16e-instruct', max_tokens: 2000, messages: LONG, stream: true }), (c) => !!c.choices[0]?.delta.content);
  t.equal(r.n, 3);
  t.ok(r.err);
  t.equal(await charged(), 1.03, 'groq: the estimate');

  // Anthropic: message_start's 2,000 × 6 + 30 × 30 = 12.9 credits.
  r = await drain(await (await anthropicClient(tg)).messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 2000, messages: LONG, stream: true }), (ev) => ev.type === 'content_block_delta');
  t.equal(r.n, 3);
  t.ok(r.err);
  t.equal(await charged(), 12.9, 'anthropic: message_start input + estimated output');

  const u = await settledUsage();
  t.equal(u.requestCount, 3, 'each request settled once');
  t.equal(u.credits.used, 18.41);
  t.equal(up.openai.requests.length + up.groq.requests.length + up.anthropic.requests.length, 3);
});
