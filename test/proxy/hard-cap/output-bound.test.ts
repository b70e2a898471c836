// Regression (issue 18): a Free account sending no max_tokens to a model that writes 8,000
// tokens reserved 4,096 but sent nothing upstream to enforce it: 40 concurrent gpt-4.1 calls
// used 4,864.304 of 2,500 credits. Now a capped account's request carries the limit it reserved
// for (max_completion_tokens on OpenAI chat, max_output_tokens on Responses, max_tokens on
// Mistral), the rest of its bytes unchanged, and the provider cannot write past it.
import t from 'tap';
import OpenAI from 'openai';
import { burstGate, startWritingProvider } from '../../helpers/hard-cap.js';
import { MISTRAL_PRICING, postJson } from '../../helpers/llm-tollgate.js';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';

const N = 40;
const REQUEST = { model: 'gpt-4.1', messages: [{ role: 'user' as const, content: 'hi' }] };

t.test('Free, 40 concurrent gpt-4.1 calls with no limit: 38 served at 4,096 tokens each, used 2,490.672 of 2,500', async (t) => {
  const gate = burstGate(N);
  const up = await startWritingProvider({ onArrive: gate.arrive, hold: gate.hold });
  t.teardown(() => up.close());
  const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform-openai-0001' } } }, { tier: 'free' });
  t.teardown(() => tg.close());
  const openai = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('openai')}/v1`, maxRetries: 0, timeout: 20_000 });

  const results = await Promise.all(
    Array.from({ length: N }, () =>
      openai.chat.completions.create(REQUEST).then(
        (r) => ({ ok: true as const, tokens: r.usage?.completion_tokens }),
        (e: InstanceType<typeof OpenAI.APIError>) => {
          gate.refused();
          return { ok: false as const, status: e.status, code: e.code };
        },
      ),
    ),
  );
  // Reserved each: "hi" = 2 UTF-8 bytes + 4 = 6 input tokens × 4,000 µcr + 4,096 × 16,000 µcr
  // = 65,560,000 µcr; 38 × that = 2,491,280,000 fits in 2,500,000,000, a 39th would not.
  t.equal(results.filter((r) => r.ok).length, 38);
  t.same(results.filter((r) => !r.ok).map((r) => `${r.status} ${r.code}`), ['402 insufficient_credits', '402 insufficient_credits']);
  t.same([...new Set(results.filter((r) => r.ok).map((r) => r.tokens))], [4096], 'the model wrote what the limit allowed, not 8,000');
  t.equal(up.requests.length, 38);
  const expected = JSON.stringify(REQUEST).slice(0, -1) + ',"max_completion_tokens":4096}';
  t.same([...new Set(up.requests.map((r) => r.body.toString('utf8')))], [expected], 'the client bytes, with the limit appended');
  t.same([...new Set(up.requests.map((r) => r.headers['content-length']))], [String(Buffer.byteLength(expected))]);

  await tg.app.pipeline.idle(10_000);
  const u = await tg.app.ledger.usage('acct');
  // Charged each: 2 × 4,000 + 4,096 × 16,000 = 65,544,000 µcr.
  t.equal(u.usedMicro, 38 * 65_544_000);
  t.equal(u.usedMicro, 2_490_672_000);
  t.ok(u.usedMicro <= u.limitMicro);
  t.same(u.breakdownMicro, { tts: 0, stt: 0, llm: 2_490_672_000, rag: 0 });
  t.equal(u.reservedMicro, 0);
});

t.test('streams too: include_usage and the limit are both appended; a client limit is kept', async (t) => {
  const up = await startWritingProvider();
  t.teardown(() => up.close());
  const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform-openai-0001' } } }, { tier: 'free' });
  t.teardown(() => tg.close());
  const openai = new OpenAI({ apiKey: TEST_KEY, baseURL: `${tg.base('openai')}/v1`, maxRetries: 0, timeout: 20_000 });

  const stream = await openai.chat.completions.create({ ...REQUEST, stream: true });
  let chunks = 0;
  for await (const c of stream) {
    chunks++;
    t.equal(c.usage ?? null, null, 'the injected usage chunk stays hidden');
  }
  t.equal(chunks, 2);
  t.equal(
    up.requests[0]!.body.toString('utf8'),
    JSON.stringify({ ...REQUEST, stream: true }).slice(0, -1) + ',"stream_options":{"include_usage":true},"max_completion_tokens":4096}',
  );
  // The client's own limit (max_tokens, deprecated but accepted) is respected: nothing added.
  const own = JSON.stringify({ ...REQUEST, max_tokens: 50 });
  const r = await postJson(`${tg.base('openai')}/v1/chat/completions`, own, { authorization: `Bearer ${TEST_KEY}` });
  t.equal(r.status, 200);
  t.equal(up.requests[1]!.body.toString('utf8'), own);
  // A null limit means none: it is replaced.
  const nul = JSON.stringify({ ...REQUEST, max_completion_tokens: null });
  t.equal((await postJson(`${tg.base('openai')}/v1/chat/completions`, nul, { authorization: `Bearer ${TEST_KEY}` })).status, 200);
  t.same(JSON.parse(up.requests[2]!.body.toString('utf8')), { ...REQUEST, max_completion_tokens: 4096 });

  await tg.app.pipeline.idle(10_000);
  // 6 × 4,000 ... charged: (2 × 4,000 + 4,096 × 16,000) + (8,000 + 50 × 16,000) + 65,544,000.
  t.equal((await tg.app.ledger.usage('acct')).usedMicro, 65_544_000 + 808_000 + 65_544_000);
});

t.test('Responses gets max_output_tokens; a paid account with no spend limit is forwarded byte for byte', async (t) => {
  const up = await startWritingProvider();
  t.teardown(() => up.close());
  const providers = { openai: { baseUrl: up.url, apiKey: 'sk-platform-openai-0001' } };
  const free = await startTollgate({ providers }, { tier: 'free' });
  t.teardown(() => free.close());
  const openaiFree = new OpenAI({ apiKey: TEST_KEY, baseURL: `${free.base('openai')}/v1`, maxRetries: 0, timeout: 20_000 });
  const resp = await openaiFree.responses.create({ model: 'gpt-4.1', input: 'hi' });
  t.equal(resp.usage?.output_tokens, 4096);
  t.equal(up.requests[0]!.body.toString('utf8'), JSON.stringify({ model: 'gpt-4.1', input: 'hi' }).slice(0, -1) + ',"max_output_tokens":4096}');

  const paid = await startTollgate({ providers }, { tier: 'starter' });
  t.teardown(() => paid.close());
  // Unusual spacing and key order: any re-serialisation would show.
  const raw = '{ "messages" : [ {"content":"hi","role":"user"} ],\n  "model":"gpt-4.1" }\n';
  const r = await postJson(`${paid.base('openai')}/v1/chat/completions`, raw, { authorization: `Bearer ${TEST_KEY}` });
  t.equal(r.status, 200);
  t.equal(r.json.usage.completion_tokens, 8000, 'the model wrote all it wanted');
  t.equal(up.requests[1]!.body.toString('utf8'), raw, 'byte-identical');
  t.equal(up.requests[1]!.headers['content-length'], String(Buffer.byteLength(raw)));
  await paid.app.pipeline.idle(10_000);
  t.equal((await paid.app.ledger.usage('acct')).usedMicro, 8_000 + 8_000 * 16_000, 'charged in full: 128.008 credits');

  // The same account with a spend limit is capped: it gets the limit written in.
  await paid.app.ledger.updateAccount('acct', { overageCapMicro: 1_000_000_000 });
  t.equal((await postJson(`${paid.base('openai')}/v1/chat/completions`, raw, { authorization: `Bearer ${TEST_KEY}` })).status, 200);
  t.equal(up.requests[2]!.body.toString('utf8'), raw.slice(0, raw.lastIndexOf('}')) + ',"max_completion_tokens":4096}');
});

t.test('Groq gets max_completion_tokens, Mistral max_tokens (its only limit field)', async (t) => {
  const up = await startWritingProvider();
  t.teardown(() => up.close());
  const tg = await startTollgate(
    { pricing: MISTRAL_PRICING, providers: { groq: { baseUrl: up.url, apiKey: 'gsk_platform_0001' }, mistral: { baseUrl: up.url, apiKey: 'mistral-platform-0001' } } },
    { tier: 'free' },
  );
  t.teardown(() => tg.close());
  const auth = { authorization: `Bearer ${TEST_KEY}` };
  const groq = JSON.stringify({ model: 'meta-llama/llama-4-scout-17b-16e-instruct', messages: [{ role: 'user', content: 'hi' }] });
  t.equal((await postJson(`${tg.base('groq')}/openai/v1/chat/completions`, groq, auth)).status, 200);
  t.equal(up.requests[0]!.body.toString('utf8'), groq.slice(0, -1) + ',"max_completion_tokens":4096}');
  const mistral = JSON.stringify({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }] });
  t.equal((await postJson(`${tg.base('mistral')}/v1/chat/completions`, mistral, auth)).status, 200);
  t.equal(up.requests[1]!.body.toString('utf8'), mistral.slice(0, -1) + ',"max_tokens":4096}');
  await tg.app.pipeline.idle(10_000);
  // llama-4-scout at 1 / 1 and mistral-small at 1 / 3 (µcr per token: 1,000 and 1,000 / 3,000):
  // (2 + 4,096) × 1,000 + (2 × 1,000 + 4,096 × 3,000).
  t.equal((await tg.app.ledger.usage('acct')).usedMicro, 4_098_000 + 12_290_000);
});
