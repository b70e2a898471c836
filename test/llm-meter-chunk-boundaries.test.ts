// The stream and JSON meters give the same count wherever the provider's bytes are split into
// chunks (byte by byte, and in two at every cut near a line ending), with LF or CRLF line endings, and OpenAI's hidden usage chunk is removed byte-exactly.
// Regression: a CRLF blank line split between its CR and LF ("…\r\n\r" | "\n…") let the LF
// leak into the next event's bytes (and a lone "\n" tail was visited as an event).
import t from 'tap';
import { fixtureText, sseBlocks, type LlmProvider } from './helpers/llm-fixtures.js';
import { meter, planFor } from './helpers/llm-meter.js';
import { anthropic } from '../proxy/providers/anthropic.js';
import { groq } from '../proxy/providers/groq.js';
import { mistral } from '../proxy/providers/mistral.js';
import { openai } from '../proxy/providers/openai.js';
import type { ProviderAdapter } from '../proxy/providers/types.js';

const msgs = [{ role: 'user', content: 'hello' }];
// [adapter, route, request, fixture, µcr the fixture's usage costs]
const CASES: Array<[ProviderAdapter, string, Record<string, unknown>, LlmProvider, string, number]> = [
  [openai, '/v1/chat/completions', { model: 'gpt-4.1', messages: msgs, stream: true }, 'openai', 'chat-stream.sse', 12_000_000],
  [openai, '/v1/chat/completions', { model: 'gpt-4.1', messages: msgs }, 'openai', 'chat-completion.json', 12_000_000],
  [openai, '/v1/responses', { model: 'gpt-4.1', input: 'hello', stream: true }, 'openai', 'responses-stream.sse', 12_000_000],
  [openai, '/v1/responses', { model: 'gpt-4.1', input: 'hello' }, 'openai', 'responses.json', 12_000_000],
  [anthropic, '/v1/messages', { model: 'claude-sonnet-4-20250514', max_tokens: 1024, messages: msgs, stream: true }, 'anthropic', 'messages-stream.sse', 42_000_000],
  [anthropic, '/v1/messages', { model: 'claude-sonnet-4-20250514', max_tokens: 1024, messages: msgs, stream: true }, 'anthropic', 'messages-cache-stream.sse', 66_000_000],
  [anthropic, '/v1/messages', { model: 'claude-sonnet-4-20250514', max_tokens: 1024, messages: msgs }, 'anthropic', 'messages.json', 42_000_000],
  [groq, '/openai/v1/chat/completions', { model: 'meta-llama/llama-4-scout-17b-16e-instruct', messages: msgs, stream: true }, 'groq', 'chat-stream.sse', 1_500_000],
  [groq, '/openai/v1/chat/completions', { model: 'meta-llama/llama-4-scout-17b-16e-instruct', messages: msgs }, 'groq', 'chat-completion.json', 1_500_000],
  [mistral, '/v1/chat/completions', { model: 'mistral-small-latest', messages: msgs, stream: true }, 'mistral', 'chat-stream.sse', 2_500_000],
  [mistral, '/v1/chat/completions', { model: 'mistral-small-latest', messages: msgs }, 'mistral', 'chat-completion.json', 2_500_000],
];

for (const [adapter, path, request, provider, name, micro] of CASES) {
  t.test(`${provider} ${name}: ${micro} µcr at every split`, async (t) => {
    const sse = name.endsWith('.sse');
    for (const eol of sse ? ['\n', '\r\n'] : ['\n']) {
      const text = fixtureText(provider, name).replace(/\n/g, eol);
      const bytes = Buffer.from(text);
      // What the client must receive: everything, minus OpenAI's usage chunk it did not ask for.
      const expected = adapter === openai && name === 'chat-stream.sse' ? sseBlocks(fixtureText(provider, name)).filter((b) => !b.includes('"choices":[]')).join('').replace(/\n/g, eol) : text;
      let failures = 0;
      const splits = [[bytes], Array.from(bytes, (b) => Buffer.from([b]))];
      // Every cut next to a line ending (where event boundaries are found), and every 31st byte.
      const near = (i: number) => [i - 2, i - 1, i].some((k) => bytes[k] === 0x0a || bytes[k] === 0x0d);
      for (let cut = 1; cut < bytes.length; cut++) if (!sse || near(cut) || cut % 31 === 0) splits.push([bytes.subarray(0, cut), bytes.subarray(cut)]);
      for (const chunks of splits) {
        const run = await meter(planFor(adapter, path, request), sse ? 'text/event-stream' : 'application/json', chunks);
        if (run.result.microCredits !== micro || run.result.source !== 'provider' || !run.out.equals(Buffer.from(expected))) {
          if (failures++ < 3) t.fail(`split ${chunks.map((c) => c.length).join('+')} (${JSON.stringify(eol)}): ${run.result.microCredits} µcr from ${run.result.source}, ${run.out.equals(Buffer.from(expected)) ? 'same' : 'different'} bytes`);
        }
      }
      t.equal(failures, 0, `${splits.length} splits with ${JSON.stringify(eol)} line endings`);
    }
  });
}
