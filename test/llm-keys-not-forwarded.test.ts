// The customer's tollgate key and every X-Provider-Key-* header stay at tollgate; the provider
// sees the platform key in its own header (Bearer for OpenAI-style APIs, x-api-key for Anthropic).
import t from 'tap';
import { TEST_KEY } from './helpers/tollgate.js';
import { anthropicClient, groqClient, openaiClient, PLATFORM_KEYS, postJson, startLlmStack } from './helpers/llm-tollgate.js';
import type { RecordedRequest } from './helpers/upstream.js';

// BYOK headers of *other* providers: each must be dropped, and must not make the call BYOK.
const foreign = { 'X-Provider-Key-ElevenLabs': 'xi-byok-secret-1', 'x-provider-key-deepgram': 'dg-byok-secret-2' };

function leaks(req: RecordedRequest): string[] {
  const out: string[] = [];
  for (const [name, v] of Object.entries(req.headers)) {
    const value = Array.isArray(v) ? v.join(',') : String(v);
    if (name.startsWith('x-provider-key-')) out.push(`header ${name}`);
    if (value.includes(TEST_KEY) || value.includes('byok-secret')) out.push(`${name}: ${value}`);
  }
  if (req.body.toString().includes(TEST_KEY)) out.push('body');
  return out;
}

t.test('no customer key or X-Provider-Key-* header reaches a provider', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t);

  await openaiClient(tg, { headers: foreign }).chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] });
  const os = await openaiClient(tg, { headers: foreign }).chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], stream: true });
  for await (const _ of os);
  await (await anthropicClient(tg, { headers: foreign })).messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
  // Older Anthropic clients (and curl) send the key as x-api-key.
  const raw = await postJson(`${tg.base('anthropic')}/v1/messages`, JSON.stringify({ model: 'claude-sonnet-4-20250514', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }), {
    authorization: '',
    'x-api-key': TEST_KEY,
    'anthropic-version': '2023-06-01',
    ...foreign,
  });
  t.equal(raw.status, 200);
  await groqClient(tg).chat.completions.create({ model: 'meta-llama/llama-4-scout-17b-16e-instruct', messages: [{ role: 'user', content: 'hi' }] }, { headers: foreign });
  // Mistral's SDK sends `Authorization: Bearer` like the others (llm-mistral.test.ts runs the SDK itself).
  const m = await postJson(`${tg.base('mistral')}/v1/chat/completions`, JSON.stringify({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }] }), foreign);
  t.equal(m.status, 200);

  for (const id of ['openai', 'groq', 'mistral'] as const) {
    t.ok(up[id].requests.length > 0, `${id} was called`);
    for (const req of up[id].requests) {
      t.same(leaks(req), [], `${id}: nothing leaks`);
      t.equal(req.headers.authorization, `Bearer ${PLATFORM_KEYS[id]}`, `${id}: platform key as Bearer`);
      t.notOk(req.headers['x-api-key'], `${id}: no x-api-key`);
    }
  }
  t.equal(up.anthropic.requests.length, 2);
  for (const req of up.anthropic.requests) {
    t.same(leaks(req), [], 'anthropic: nothing leaks');
    t.equal(req.headers['x-api-key'], PLATFORM_KEYS.anthropic, 'anthropic: platform key as x-api-key');
    t.notOk(req.headers.authorization, 'anthropic: no Authorization header');
    t.ok(req.headers['anthropic-version'], 'anthropic-version passes through');
  }
  t.equal(up.anthropic.requests[1]!.headers['anthropic-version'], '2023-06-01');
  const u = await settledUsage();
  t.equal(u.byok.requestCount, 0, 'foreign BYOK headers do not make a call BYOK');
  t.equal(u.requestCount, 6);
  // 12 + 12 (openai) + 42 + 42 (anthropic) + 1.5 (groq) + 2.5 (mistral)
  t.equal(u.credits.used, 112);
});
