// The LLM input bound (issue 18), exact: UTF-8 bytes of the text + 4 a part, each image at the
// provider's documented maximum, tools at their JSON's bytes plus the provider's preamble; the
// cut-stream estimate (characters / 4) beside it is unchanged.
import t from 'tap';
import { measureInput } from '../../../proxy/meters/llm.js';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';
import { postJson } from '../../helpers/llm-tollgate.js';
import { startUpstream } from '../../helpers/upstream.js';

const OPENAI = { imageTokens: 3_779, toolTokens: 0 };
const ANTHROPIC = { imageTokens: 1_600, toolTokens: 346 };

t.test('text: bytes bound, characters / 4 estimate', async (t) => {
  // 'héllo' is 5 characters, 6 bytes; '漢字' 2 characters, 6 bytes; one message part.
  t.same(measureInput({ messages: [{ role: 'user', content: 'héllo 漢字' }] }, OPENAI), { estimate: Math.ceil(8 / 4) + 4, bound: 13 + 4 });
  // Responses: a bare string input has no part.
  t.same(measureInput({ input: 'hello', instructions: 'be brief' }, OPENAI), { estimate: Math.ceil(13 / 4), bound: 13 });
  // An emoji is 2 UTF-16 units, 4 bytes.
  t.same(measureInput({ messages: [{ role: 'user', content: '🙂' }] }, OPENAI), { estimate: 1 + 4, bound: 4 + 4 });
});

t.test('images at the documented maximum, whatever their encoded size', async (t) => {
  const big = 'A'.repeat(100_000);
  const chat = { messages: [{ role: 'user', content: [{ type: 'text', text: 'what is it?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${big}` } }] }] };
  // Parts: the message, the text part, the image part = 3; text 11 bytes; one image.
  t.same(measureInput(chat, OPENAI), { estimate: Math.ceil(11 / 4) + 12, bound: 11 + 12 + 3_779 });
  const responses = { input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }, { type: 'input_image', image_url: 'https://x/y.png' }, { type: 'input_image', file_id: 'file_1' }] }] };
  t.same(measureInput(responses, OPENAI).bound, 2 + 4 * 4 + 2 * 3_779);
  const claude = { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: big } }, { type: 'text', text: 'hi' }] }] };
  t.same(measureInput(claude, ANTHROPIC), { estimate: 1 + 12, bound: 2 + 12 + 1_600 });
});

t.test('tools: their JSON bytes plus the preamble', async (t) => {
  const tools = [{ name: 'get_weather', description: 'Wetter für einen Ort', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];
  const json = JSON.stringify(tools);
  const body = { system: 'sys', messages: [{ role: 'user', content: 'hi' }], tools };
  t.same(measureInput(body, ANTHROPIC), { estimate: Math.ceil((3 + 2 + json.length) / 4) + 4, bound: 3 + 2 + Buffer.byteLength(json) + 346 + 4 });
  t.equal(Buffer.byteLength(json) - json.length, 1, 'ü is two bytes');
});

t.test('the adapters reserve with their own maxima: one image on Free at the boundary', async (t) => {
  const up = await startUpstream((_req, res) => {
    res.writeHead(500);
    res.end();
  });
  t.teardown(() => up.close());
  // gpt-4.1 input 4,000 µcr a token, output 16,000; claude-sonnet-4 input 6,000, output 30,000.
  // OpenAI: (2 + 12 + 3,779) × 4,000 + 100 × 16,000 = 16,772,000 µcr.
  // Anthropic: (2 + 12 + 1,600) × 6,000 + 100 × 30,000 = 12,684,000 µcr.
  const img = { type: 'image_url', image_url: { url: 'https://example.com/a.png' } };
  const chat = JSON.stringify({ model: 'gpt-4.1', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, img] }] });
  const claude = JSON.stringify({ model: 'claude-sonnet-4-20250514', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] }] });
  for (const [provider, path, payload, micro] of [
    ['openai', '/v1/chat/completions', chat, 16_772_000],
    ['anthropic', '/v1/messages', claude, 12_684_000],
  ] as const) {
    const providers = { openai: { baseUrl: up.url, apiKey: 'sk-o' }, anthropic: { baseUrl: up.url, apiKey: 'sk-a' } };
    const headers: Record<string, string> = provider === 'anthropic' ? { 'x-api-key': TEST_KEY, 'anthropic-version': '2023-06-01' } : { authorization: `Bearer ${TEST_KEY}` };
    for (const left of [micro - 1, micro]) {
      const tg = await startTollgate({ providers }, { tier: 'free' });
      t.teardown(() => tg.close());
      // Spend all but `left` of the 2,500 credits.
      await tg.app.ledger.settle({ accountId: 'acct', requestId: 'spent', modality: 'tts', provider: 'kokoro', byok: false, microCredits: 2_500_000_000 - left, units: {}, outcome: 'ok' });
      const before = up.requests.length;
      const r = await postJson(`${tg.base(provider)}${path}`, payload, headers);
      if (left < micro) {
        t.equal(r.status, 402, `${provider}: ${left} µcr left is not enough`);
        t.equal(up.requests.length, before);
      } else t.equal(up.requests.length, before + 1, `${provider}: ${left} µcr left is enough`);
    }
  }
});
