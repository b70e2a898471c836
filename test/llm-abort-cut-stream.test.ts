// A stream cut before its end is charged what the provider reported or, where it reported
// nothing, the estimate documented in proxy/meters/llm.ts: input = the request estimate
// (ceil(chars / 4) + 4 per message) or Anthropic's message_start count; output =
// max(content deltas, ceil(characters streamed / 4)). Never twice, nothing left reserved.
// Three ways a stream is cut: the client aborts, the provider's connection resets, the stream
// goes silent past proxy.streamIdleTimeoutMs.
//
// The cut fixtures stream three deltas of 40 characters (120, so 30 output tokens) and stop.
import t, { type Test } from 'tap';
import type { ServerResponse } from 'node:http';
import { cutBlocks, latch, reportedBlocks, writeSse, type LlmProvider } from './helpers/llm-fixtures.js';
import { anthropicClient, groqClient, openaiClient, startLlmStack } from './helpers/llm-tollgate.js';
import { TEST_KEY } from './helpers/tollgate.js';
import type { RecordedRequest } from './helpers/upstream.js';

// 3,984 characters in one message: ceil(3984 / 4) + 4 = 1,000 input tokens estimated.
const LONG = [{ role: 'user' as const, content: 'x'.repeat(3984) }];

const hangAfter = (provider: LlmProvider) => async (req: RecordedRequest, res: ServerResponse) => {
  const sc = req.headers['x-scenario'];
  if (sc === 'cut') await writeSse(res, cutBlocks(provider, req), { then: 'hang' });
  else if (sc === 'reported') await writeSse(res, reportedBlocks(provider, req), { then: 'hang' });
  else return false;
  return true;
};

/** Credits charged since the previous call (asserting nothing is left reserved); `after` runs each time. */
function chargeCounter(t: Test, settledUsage: () => Promise<{ credits: { used: number }; reserved: number }>, after?: () => void) {
  let used = 0;
  return async (): Promise<number> => {
    const u = await settledUsage();
    const c = Math.round((u.credits.used - used) * 1e6) / 1e6;
    used = u.credits.used;
    t.equal(u.reserved, 0, 'nothing left reserved');
    after?.();
    return c;
  };
}

/** Reads a stream to its end or its error, counting the events `isDelta` picks; `onDelta` sees each count. */
async function countDeltas(it: AsyncIterable<unknown>, isDelta: (ev: any) => boolean, onDelta?: (n: number) => void): Promise<{ n: number; err: unknown }> {
  let n = 0;
  try {
    for await (const ev of it) {
      if (!isDelta(ev)) continue;
      n++;
      onDelta?.(n);
    }
  } catch (err) {
    return { n, err };
  }
  return { n, err: undefined };
}

t.test('client aborts mid-stream', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t, { override: { openai: hangAfter('openai'), anthropic: hangAfter('anthropic') } });
  const openai = openaiClient(tg);
  const anthropic = await anthropicClient(tg);
  const cut = { headers: { 'x-scenario': 'cut' } };
  const reported = { headers: { 'x-scenario': 'reported' } };
  const charged = chargeCounter(t, settledUsage);

  // OpenAI chat, nothing reported: 1,000 in × 4 + 30 out × 16 = 4.48 credits.
  let s = await openai.chat.completions.create({ model: 'gpt-4.1', max_tokens: 2000, messages: LONG, stream: true }, cut);
  let deltas = 0;
  for await (const c of s) if (c.choices[0]?.delta.content && ++deltas === 3) break;
  t.equal(await charged(), 4.48, 'openai chat: the estimate');

  // OpenAI chat, the usage chunk arrived (the client asked for it) before the abort: 12.
  s = await openai.chat.completions.create({ model: 'gpt-4.1', max_tokens: 2000, messages: LONG, stream: true, stream_options: { include_usage: true } }, reported);
  for await (const c of s) if (c.usage) break;
  t.equal(await charged(), 12, 'openai chat: what the provider reported');

  // Responses API, nothing reported: `input` of 4,000 characters = 1,000 tokens; 4.48 credits.
  const r = await openai.responses.create({ model: 'gpt-4.1', max_output_tokens: 2000, input: 'x'.repeat(4000), stream: true }, cut);
  deltas = 0;
  for await (const ev of r) if (ev.type === 'response.output_text.delta' && ++deltas === 3) break;
  t.equal(await charged(), 4.48, 'openai responses: the estimate');

  // Anthropic, message_start reported 2,000 input: 2,000 × 6 + 30 × 30 = 12.9 credits.
  const a = await anthropic.messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 2000, messages: LONG, stream: true }, cut);
  deltas = 0;
  for await (const ev of a) if (ev.type === 'content_block_delta' && ++deltas === 3) break;
  t.equal(await charged(), 12.9, 'anthropic: message_start input + estimated output');

  // Anthropic, the final message_delta arrived before the abort (no message_stop): 42.
  const b = await anthropic.messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 2000, messages: LONG, stream: true }, reported);
  for await (const ev of b) if (ev.type === 'message_delta' && ev.delta.stop_reason === 'end_turn') break;
  t.equal(await charged(), 42, 'anthropic: what the provider reported');

  const u = await settledUsage();
  t.equal(u.requestCount, 5, 'each request settled once');
  t.equal(u.credits.used, 75.86);
  t.equal(up.openai.requests.length + up.anthropic.requests.length, 5);
});

t.test('upstream resets mid-stream', async (t) => {
  let seen = latch();
  const resetAfter = (provider: LlmProvider) => async (req: RecordedRequest, res: ServerResponse) => {
    // Reset only once the client has received everything sent, so the figures are exact.
    await writeSse(res, cutBlocks(provider, req), { before: seen.wait, then: 'reset' });
    return true;
  };
  const { tg, up, settledUsage } = await startLlmStack(t, { override: { openai: resetAfter('openai'), anthropic: resetAfter('anthropic'), groq: resetAfter('groq') } });
  const charged = chargeCounter(t, settledUsage, () => (seen = latch()));
  const drain = (it: AsyncIterable<unknown>, isDelta: (ev: any) => boolean) => countDeltas(it, isDelta, (n) => n === 3 && seen.open());

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

t.test('stream idle timeout', async (t) => {
  const silent = (provider: LlmProvider) => async (req: RecordedRequest, res: ServerResponse) => {
    await writeSse(res, cutBlocks(provider, req), { then: 'hang' });
    return true;
  };
  const { tg, up, settledUsage } = await startLlmStack(t, {
    config: { proxy: { streamIdleTimeoutMs: 300 } },
    override: { openai: silent('openai'), anthropic: silent('anthropic'), mistral: silent('mistral') },
  });
  const charged = chargeCounter(t, settledUsage);
  const drain = countDeltas;

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
