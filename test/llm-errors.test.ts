// Errors, in each SDK's shape with the contract's codes. Refused by tollgate before the
// provider sees anything: unknown_provider, unknown_route, unpriced_model, invalid_api_key,
// provider_not_configured, payload_too_large, invalid_request. When the provider fails: its own
// non-2xx answer passes through and costs nothing; unreachable is 502 upstream_error; no answer
// in proxy.upstreamTimeoutMs is 504 upstream_timeout. No reservation is left behind.
import t from 'tap';
import Anthropic from '@anthropic-ai/sdk';
import Groq from 'groq-sdk';
import OpenAI, { toFile } from 'openai';
import { freePort } from './helpers/redis.js';
import { TEST_KEY } from './helpers/tollgate.js';
import { body, writeJson } from './helpers/llm-fixtures.js';
import { anthropicClient, groqClient, openaiClient, postJson, startLlmStack } from './helpers/llm-tollgate.js';

const fail = <T>(p: Promise<T>): Promise<any> => p.then(() => { throw new Error('expected an error'); }, (e: unknown) => e);
const msgs = [{ role: 'user' as const, content: 'hi' }];

t.test('refused before the provider, in each SDK\'s shape', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t, {
    config: { proxy: { maxJsonBodyBytes: 4096 }, pricing: {}, providers: { groq: { apiKey: undefined } } },
  });
  const openai = openaiClient(tg);

  // unknown provider
  let e = await fail(new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.proxyUrl}/nope/v1`, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4.1', messages: msgs }));
  t.type(e, OpenAI.NotFoundError);
  t.equal(e.code, 'unknown_provider');
  t.equal(e.type, 'not_found_error');

  // unknown route: POST /openai/v1/files (a file upload is neither metered nor free)
  e = await fail(openai.files.create({ file: await toFile(Buffer.from('{}\n'), 'batch.jsonl'), purpose: 'batch' }));
  t.type(e, OpenAI.NotFoundError);
  t.equal(e.code, 'unknown_route');
  e = await fail((await anthropicClient(tg)).messages.batches.create({ requests: [] }));
  t.type(e, Anthropic.NotFoundError);
  t.equal(e.type, 'unknown_route', 'Anthropic shape: the code is error.type');
  t.same(e.error, { type: 'error', error: { type: 'unknown_route', message: e.error.error.message } });

  // unpriced model
  e = await fail(openai.chat.completions.create({ model: 'gpt-4o', messages: msgs }));
  t.type(e, OpenAI.BadRequestError);
  t.equal(e.code, 'unpriced_model');
  e = await fail((await anthropicClient(tg)).messages.create({ model: 'claude-opus-4-20250514', max_tokens: 10, messages: msgs }));
  t.type(e, Anthropic.BadRequestError);
  t.equal(e.type, 'unpriced_model');
  // Mistral: no operator price in this config (llm-mistral.test.ts runs the Mistral SDK's errors).
  const mr = await postJson(`${tg.base('mistral')}/v1/chat/completions`, JSON.stringify({ model: 'mistral-small-latest', messages: msgs }));
  t.equal(mr.status, 400);
  t.equal(mr.json.error.code, 'unpriced_model');

  // bad key: every SDK raises its authentication error
  e = await fail(openaiClient(tg, { apiKey: 'tg_wrong_key_000000000000000000' }).chat.completions.create({ model: 'gpt-4.1', messages: msgs }));
  t.type(e, OpenAI.AuthenticationError);
  t.equal(e.code, 'invalid_api_key');
  e = await fail((await anthropicClient(tg, { apiKey: 'tg_wrong_key_000000000000000000' })).messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 10, messages: msgs }));
  t.type(e, Anthropic.AuthenticationError);
  t.equal(e.type, 'invalid_api_key');
  e = await fail(groqClient(tg, { apiKey: 'tg_wrong_key_000000000000000000' }).chat.completions.create({ model: 'meta-llama/llama-4-scout-17b-16e-instruct', messages: msgs }));
  t.type(e, Groq.AuthenticationError);
  t.equal(e.error.error.code, 'invalid_api_key', 'Groq keeps the whole body in error');

  // provider without a platform key (groq here): 503, and only BYOK calls are served
  e = await fail(groqClient(tg).chat.completions.create({ model: 'meta-llama/llama-4-scout-17b-16e-instruct', messages: msgs }));
  t.type(e, Groq.InternalServerError);
  t.equal(e.status, 503);
  t.equal(e.error.error.code, 'provider_not_configured');

  // body over proxy.maxJsonBodyBytes
  e = await fail(openai.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'x'.repeat(5000) }] }));
  t.type(e, OpenAI.APIError);
  t.equal(e.status, 413);
  t.equal(e.code, 'payload_too_large');
  e = await fail((await anthropicClient(tg)).messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 10, messages: [{ role: 'user', content: 'x'.repeat(5000) }] }));
  t.equal(e.status, 413);
  t.equal(e.type, 'payload_too_large');
  // A chunked body (no content-length) over the limit gets the same answer.
  const big = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < 8; i++) c.enqueue(new TextEncoder().encode(i === 0 ? '{"model":"gpt-4.1","messages":[{"role":"user","content":"' : 'x'.repeat(1000)));
      c.close();
    },
  });
  const chunked = await fetch(`${tg.base('openai')}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: big, duplex: 'half' } as RequestInit);
  t.equal(chunked.status, 413);
  t.equal(((await chunked.json()) as any).error.code, 'payload_too_large');
  // Malformed JSON is the client's error.
  const bad = await postJson(`${tg.base('openai')}/v1/chat/completions`, '{"model":');
  t.equal(bad.status, 400);
  t.equal(bad.json.error.code, 'invalid_request');

  for (const id of ['openai', 'anthropic', 'groq', 'mistral'] as const) t.equal(up[id].requests.length, 0, `${id} never saw a refused request`);
  const u = await settledUsage();
  t.equal(u.credits.used, 0);
  t.equal(u.requestCount, 0);
  t.equal(u.reserved, 0);
});

t.test('provider non-2xx passes through and costs 0', async (t) => {
  const { tg, up, settledUsage } = await startLlmStack(t, {
    tier: 'free',
    override: {
      openai: (req, res) => {
        writeJson(res, 429, JSON.stringify({ error: { message: 'Rate limit reached for gpt-4.1', type: 'requests', param: null, code: 'rate_limit_exceeded' } }));
        return true;
      },
      anthropic: (req, res) => {
        writeJson(res, body(req).stream ? 529 : 400, JSON.stringify({ type: 'error', error: { type: body(req).stream ? 'overloaded_error' : 'invalid_request_error', message: 'provider says no' } }));
        return true;
      },
    },
  });
  let e = await fail(openaiClient(tg).chat.completions.create({ model: 'gpt-4.1', max_tokens: 1000, messages: msgs }));
  t.type(e, OpenAI.RateLimitError);
  t.equal(e.code, 'rate_limit_exceeded', 'the provider\'s own error body');
  e = await fail(openaiClient(tg).chat.completions.create({ model: 'gpt-4.1', messages: msgs, stream: true }));
  t.type(e, OpenAI.RateLimitError);
  e = await fail((await anthropicClient(tg)).messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 1000, messages: msgs }));
  t.type(e, Anthropic.BadRequestError);
  t.equal(e.type, 'invalid_request_error');
  e = await fail((await anthropicClient(tg)).messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 1000, messages: msgs, stream: true }));
  t.equal(e.status, 529);
  t.equal(e.type, 'overloaded_error');
  t.equal(up.openai.requests.length, 2);
  t.equal(up.anthropic.requests.length, 2);
  const u = await settledUsage();
  t.equal(u.credits.used, 0);
  t.equal(u.reserved, 0, 'every reservation released');
  t.equal(u.requestCount, 4);
});

t.test('unreachable provider: 502 upstream_error', async (t) => {
  const port = await freePort(); // nothing listens there
  const { tg, settledUsage } = await startLlmStack(t, { tier: 'free', config: { providers: { openai: { baseUrl: `http://127.0.0.1:${port}` }, anthropic: { baseUrl: `http://127.0.0.1:${port}` } } } });
  let e = await fail(openaiClient(tg).chat.completions.create({ model: 'gpt-4.1', max_tokens: 1000, messages: msgs }));
  t.type(e, OpenAI.APIError);
  t.equal(e.status, 502);
  t.equal(e.code, 'upstream_error');
  e = await fail((await anthropicClient(tg)).messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 1000, messages: msgs }));
  t.equal(e.status, 502);
  t.equal(e.type, 'upstream_error');
  const u = await settledUsage();
  t.equal(u.credits.used, 0);
  t.equal(u.reserved, 0);
});

t.test('slow provider: 504 upstream_timeout', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  t.teardown(() => release());
  const { tg, up, settledUsage } = await startLlmStack(t, {
    tier: 'free',
    config: { proxy: { upstreamTimeoutMs: 150 } },
    override: {
      openai: async () => {
        await gate; // never answers while the test runs
        return false;
      },
    },
  });
  const e = await fail(openaiClient(tg).chat.completions.create({ model: 'gpt-4.1', max_tokens: 1000, messages: msgs }));
  t.type(e, OpenAI.APIError);
  t.equal(e.status, 504);
  t.equal(e.code, 'upstream_timeout');
  t.equal(up.openai.requests.length, 1);
  const u = await settledUsage();
  t.equal(u.credits.used, 0);
  t.equal(u.reserved, 0);
});
