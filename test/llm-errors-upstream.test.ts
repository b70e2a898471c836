// When the provider fails: its own non-2xx answer passes through to the SDK and costs nothing;
// an unreachable provider is 502 upstream_error; one that does not answer in
// proxy.upstreamTimeoutMs is 504 upstream_timeout. No reservation is left behind.
import t from 'tap';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { freePort } from './helpers/redis.js';
import { body, writeJson } from './helpers/llm-fixtures.js';
import { anthropicClient, openaiClient, startLlmStack } from './helpers/llm-tollgate.js';

const fail = <T>(p: Promise<T>): Promise<any> => p.then(() => { throw new Error('expected an error'); }, (e: unknown) => e);
const msgs = [{ role: 'user' as const, content: 'hi' }];

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
