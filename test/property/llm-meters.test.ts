// Property: the LLM usage meters (OpenAI chat and Anthropic messages, streamed and JSON) charge
// exactly the usage the provider reported, priced by the table, and forward the same bytes,
// however the answer is cut into chunks; a stream cut short gives the same result whole or split.
import t from 'tap';
import fc from 'fast-check';
import { createPricing } from '../../pricing/index.js';
import { anthropic } from '../../proxy/providers/anthropic.js';
import { openai } from '../../proxy/providers/openai.js';
import { meter, planFor } from '../helpers/llm-meter.js';
import { cuts, fcParams, splitAt, trickyText } from '../helpers/property.js';

const pricing = createPricing();
const RUNS = 250;
const usage = fc.record({
  input: fc.integer({ min: 0, max: 2_000_000 }),
  output: fc.integer({ min: 0, max: 200_000 }),
  cacheRead: fc.integer({ min: 0, max: 100_000 }),
  cacheWrite: fc.integer({ min: 0, max: 100_000 }),
});
const deltas = fc.array(trickyText(12), { maxLength: 20 });
const eolArb = fc.constantFrom('\n', '\r\n');
type Usage = { input: number; output: number; cacheRead: number; cacheWrite: number };

function openaiStream(u: Usage, ds: string[], eol: string): { all: string; usageBlock: string } {
  const head = { id: 'chatcmpl-p', object: 'chat.completion.chunk', created: 1764720000, model: 'gpt-4.1-2025-04-14' };
  const ev = (o: object) => `data: ${JSON.stringify({ ...head, ...o })}${eol}${eol}`;
  const usageBlock = ev({ choices: [], usage: { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output } });
  const all =
    ev({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }) +
    ds.map((d) => ev({ choices: [{ index: 0, delta: { content: d }, finish_reason: null }] })).join('') +
    ev({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
    usageBlock +
    `data: [DONE]${eol}${eol}`;
  return { all, usageBlock };
}

function anthropicStream(u: Usage, ds: string[], eol: string): string {
  const ev = (type: string, o: object) => `event: ${type}${eol}data: ${JSON.stringify({ type, ...o })}${eol}${eol}`;
  return (
    ev('message_start', { message: { id: 'msg_p', type: 'message', role: 'assistant', model: 'claude-sonnet-4-20250514', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: u.input, cache_creation_input_tokens: u.cacheWrite, cache_read_input_tokens: u.cacheRead, output_tokens: 1 } } }) +
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
    ev('ping', {}) +
    ds.map((d) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: d } })).join('') +
    ev('content_block_stop', { index: 0 }) +
    ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: u.output } }) +
    ev('message_stop', {})
  );
}

const OPENAI_REQ = { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] };
const ANTHROPIC_REQ = { model: 'claude-sonnet-4-20250514', max_tokens: 1024, messages: [{ role: 'user', content: 'hello' }] };
const gpt41 = pricing.llmRate('openai', 'gpt-4.1')!;
const sonnet = pricing.llmRate('anthropic', 'claude-sonnet-4')!;

/** Runs the meter whole and split (and cut at `cutAt` of the bytes, whole and split); the property's checks. */
async function sameEverywhere(plan: () => ReturnType<typeof planFor>, ct: string, bytes: Buffer, fractions: number[], cutAt: number) {
  const whole = await meter(plan(), ct, [bytes]);
  const split = await meter(plan(), ct, splitAt(bytes, fractions));
  const prefix = bytes.subarray(0, Math.floor(cutAt * bytes.length));
  const cutWhole = await meter(plan(), ct, [prefix], false);
  const cutSplit = await meter(plan(), ct, splitAt(prefix, fractions), false);
  return { whole, split, cutSame: JSON.stringify(cutWhole.result) === JSON.stringify(cutSplit.result) && cutWhole.out.equals(cutSplit.out) };
}

t.test('OpenAI chat stream: the reported usage is charged and the hidden usage chunk removed, at every split', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(usage, deltas, eolArb, cuts(), fc.double({ min: 0, max: 1, noNaN: true }), async (u, ds, eol, fractions, cutAt) => {
      runs++;
      const { all, usageBlock } = openaiStream(u, ds, eol);
      const r = await sameEverywhere(() => planFor(openai, '/v1/chat/completions', { ...OPENAI_REQ, stream: true }), 'text/event-stream', Buffer.from(all), fractions, cutAt);
      const micro = pricing.llmCost(gpt41, { inputTokens: u.input, outputTokens: u.output });
      const expectedOut = Buffer.from(all.replace(usageBlock, ''));
      return r.whole.result.microCredits === micro && r.split.result.microCredits === micro && r.split.result.source === 'provider' && r.whole.out.equals(expectedOut) && r.split.out.equals(expectedOut) && r.cutSame;
    }),
    fcParams(RUNS),
  );
  t.equal(runs, RUNS, `${RUNS} generated answers, each whole, split, and cut short whole and split`);
});

t.test('OpenAI chat JSON: the reported usage is charged, at every split', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(usage, deltas, fc.constantFrom(0, 2), cuts(), fc.double({ min: 0, max: 1, noNaN: true }), async (u, ds, indent, fractions, cutAt) => {
      runs++;
      const doc = JSON.stringify({ id: 'chatcmpl-p', object: 'chat.completion', created: 1764720000, model: 'gpt-4.1-2025-04-14', choices: [{ index: 0, message: { role: 'assistant', content: ds.join('') }, finish_reason: 'stop' }], usage: { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output } }, null, indent);
      const r = await sameEverywhere(() => planFor(openai, '/v1/chat/completions', OPENAI_REQ), 'application/json', Buffer.from(doc), fractions, cutAt);
      const micro = pricing.llmCost(gpt41, { inputTokens: u.input, outputTokens: u.output });
      return r.whole.result.microCredits === micro && r.split.result.microCredits === micro && r.split.out.equals(Buffer.from(doc)) && r.cutSame;
    }),
    fcParams(RUNS),
  );
  t.equal(runs, RUNS, `${RUNS} generated answers, each whole, split, and cut short whole and split`);
});

t.test('Anthropic stream: message_start input and cache plus the last message_delta output are charged, at every split', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(usage, deltas, eolArb, cuts(), fc.double({ min: 0, max: 1, noNaN: true }), async (u, ds, eol, fractions, cutAt) => {
      runs++;
      const all = anthropicStream(u, ds, eol);
      const r = await sameEverywhere(() => planFor(anthropic, '/v1/messages', { ...ANTHROPIC_REQ, stream: true }), 'text/event-stream', Buffer.from(all), fractions, cutAt);
      const micro = pricing.llmCost(sonnet, { inputTokens: u.input, outputTokens: u.output, cacheReadTokens: u.cacheRead, cacheWriteTokens: u.cacheWrite });
      return r.whole.result.microCredits === micro && r.split.result.microCredits === micro && r.split.out.equals(Buffer.from(all)) && r.cutSame;
    }),
    fcParams(RUNS),
  );
  t.equal(runs, RUNS, `${RUNS} generated answers, each whole, split, and cut short whole and split`);
});

t.test('Anthropic JSON: usage with cache tokens is charged, at every split', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(usage, deltas, cuts(), fc.double({ min: 0, max: 1, noNaN: true }), async (u, ds, fractions, cutAt) => {
      runs++;
      const doc = JSON.stringify({ id: 'msg_p', type: 'message', role: 'assistant', model: 'claude-sonnet-4-20250514', content: [{ type: 'text', text: ds.join('') }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: u.input, cache_creation_input_tokens: u.cacheWrite, cache_read_input_tokens: u.cacheRead, output_tokens: u.output } });
      const r = await sameEverywhere(() => planFor(anthropic, '/v1/messages', ANTHROPIC_REQ), 'application/json', Buffer.from(doc), fractions, cutAt);
      const micro = pricing.llmCost(sonnet, { inputTokens: u.input, outputTokens: u.output, cacheReadTokens: u.cacheRead, cacheWriteTokens: u.cacheWrite });
      return r.whole.result.microCredits === micro && r.split.result.microCredits === micro && r.cutSame;
    }),
    fcParams(RUNS),
  );
  t.equal(runs, RUNS, `${RUNS} generated answers, each whole, split, and cut short whole and split`);
});
