// A stream that goes silent for longer than proxy.streamIdleTimeoutMs is cut by tollgate; the
// account is charged the documented estimate of what was streamed, once, nothing left reserved.
import t from 'tap';
import { cutBlocks, writeSse, type LlmProvider } from './helpers/llm-fixtures.js';
import { anthropicClient, openaiClient, startLlmStack } from './helpers/llm-tollgate.js';
import { TEST_KEY } from './helpers/tollgate.js';
import type { RecordedRequest } from './helpers/upstream.js';
import type { ServerResponse } from 'node:http';

// ceil(3984 / 4) + 4 = 1,000 input tokens estimated.
const LONG = [{ role: 'user' as const, content: 'x'.repeat(3984) }];

t.test('stream idle timeout', async (t) => {
  const silent = (provider: LlmProvider) => async (req: RecordedRequest, res: ServerResponse) => {
    await writeSse(res, cutBlocks(provider, req), { then: 'hang' });
    return true;
  };
  const { tg, up, settledUsage } = await startLlmStack(t, {
    config: { proxy: { streamIdleTimeoutMs: 300 } },
    override: { openai: silent('openai'), anthropic: silent('anthropic'), mistral: silent('mistral') },
  });
  let used = 0;
  const charged = async () => {
    const u = await settledUsage();
    const c = Math.round((u.credits.used - used) * 1e6) / 1e6;
    used = u.credits.used;
    t.equal(u.reserved, 0, 'nothing left reserved');
    return c;
  };
  const drain = async (it: AsyncIterable<unknown>, isDelta: (ev: any) => boolean) => {
    let n = 0;
    try {
      for await (const ev of it) if (isDelta(ev)) n++;
    } catch (err) {
      return { n, err };
    }
    return { n, err: undefined };
  };

  // OpenAI: 1,000 × 4 + 30 × 16 = 4.48 credits.
  let r = await drain(await openaiClient(tg).chat.completions.create({ model: 'gpt-4.1', max_tokens: 2000, messages: LONG, stream: true }), (c) => !!c.choices[0]?.delta.content);
  t.equal(r.n, 3);
  t.ok(r.err, 'the client sees the cut');
  t.equal(await charged(), 4.48, 'openai: the estimate');

  // Anthropic: 2,000 × 6 + 30 × 30 = 12.9 credits.
  r = await drain(await (await anthropicClient(tg)).messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 2000, messages: LONG, stream: true }), (ev) => ev.type === 'content_block_delta');
  t.equal(r.n, 3);
  t.ok(r.err);
  t.equal(await charged(), 12.9, 'anthropic: message_start input + estimated output');

  // Mistral at the operator price (1 / 3): 1,000 × 1 + 30 × 3 = 1.09 credits. A raw client
  // (the Mistral SDK is slow to load; llm-mistral.test.ts runs it).
  const res = await fetch(`${tg.base('mistral')}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mistral-small-latest', stream: true, max_tokens: 2000, messages: LONG }),
  });
  const text = await res.text().catch((err: unknown) => err);
  t.type(text, Error, 'the client sees the cut');
  t.equal(await charged(), 1.09, 'mistral: the estimate');

  const u = await settledUsage();
  t.equal(u.requestCount, 3, 'each request settled once');
  t.equal(up.openai.requests.length + up.anthropic.requests.length + up.mistral.requests.length, 3);
});
