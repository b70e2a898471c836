// A client that aborts mid-stream is charged what the provider reported, or where it reported
// nothing, the estimate documented in proxy/meters/llm.ts: input = the request estimate
// (ceil(chars / 4) + 4 per message) or Anthropic's message_start count; output =
// max(content deltas, ceil(characters streamed / 4)). Settled once, nothing left reserved.
//
// The cut fixtures stream three deltas of 40 characters (120, so 30 output tokens) and stop.
import t from 'tap';
import { cutBlocks, reportedBlocks, writeSse, type LlmProvider } from './helpers/llm-fixtures.js';
import { anthropicClient, openaiClient, startLlmStack } from './helpers/llm-tollgate.js';
import type { RecordedRequest } from './helpers/upstream.js';
import type { ServerResponse } from 'node:http';

// 3,984 characters in one message: ceil(3984 / 4) + 4 = 1,000 input tokens estimated.
const LONG = [{ role: 'user' as const, content: 'x'.repeat(3984) }];

const hangAfter = (provider: LlmProvider) => async (req: RecordedRequest, res: ServerResponse) => {
  const sc = req.headers['x-scenario'];
  if (sc === 'cut') await writeSse(res, cutBlocks(provider, req), { then: 'hang' });
  else if (sc === 'reported') await writeSse(res, reportedBlocks(provider, req), { then: 'hang' });
  else return false;
  return true;
};

t.test('client aborts mid-stream', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t, { override: { openai: hangAfter('openai'), anthropic: hangAfter('anthropic') } });
  const openai = openaiClient(tg);
  const anthropic = await anthropicClient(tg);
  const cut = { headers: { 'x-scenario': 'cut' } };
  const reported = { headers: { 'x-scenario': 'reported' } };
  let used = 0;
  const charged = async () => {
    const u = await settledUsage();
    const c = Math.round((u.credits.used - used) * 1e6) / 1e6;
    used = u.credits.used;
    t.equal(u.reserved, 0, 'nothing left reserved');
    return c;
  };

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
