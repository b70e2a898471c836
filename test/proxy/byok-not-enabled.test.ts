// BYOK only where it is real (issue 18, scope 1): a provider whose upstream takes no key (kokoro,
// whisper, a keyless rag) refuses X-Provider-Key-* with 400 byok_not_enabled and forwards
// nothing (before, the header made every route free: a Free account at its cap was served), a
// stored key for it is refused on PUT and ignored if present, an empty key header is 400
// invalid_request, and BYOK on a hosted provider (openai) still goes through at 0 credits.
import t, { type Test } from 'tap';
import { request } from 'node:http';
import { json, startUpstream, type Upstream } from '../helpers/upstream.js';
import { startTollgate, TEST_KEY, type TestTollgate } from '../helpers/tollgate.js';

const FREE_CAP_MICRO = 2_500_000_000;
const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

async function stack(t: Test): Promise<{ tg: TestTollgate; up: Record<'kokoro' | 'whisper' | 'rag' | 'openai', Upstream> }> {
  const up = {
    kokoro: await startUpstream((_r, res) => {
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      res.end(Buffer.alloc(1000, 0xff));
    }),
    whisper: await startUpstream((_r, res) => json(res, 200, { text: 'hello', duration: 60 })),
    rag: await startUpstream((_r, res) => json(res, 200, { hits: [] })),
    openai: await startUpstream((_r, res) =>
      json(res, 200, { id: 'c1', object: 'chat.completion', model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } }),
    ),
  };
  const tg = await startTollgate({
    providers: { kokoro: { baseUrl: up.kokoro.url }, whisper: { baseUrl: up.whisper.url }, rag: { baseUrl: up.rag.url }, openai: { baseUrl: up.openai.url, apiKey: 'sk-platform' } },
    byok: { masterKey: MASTER_KEY },
  });
  t.teardown(async () => {
    await tg.close();
    for (const u of Object.values(up)) await u.close();
  });
  // The Free account at its cap: 2,500 of 2,500 credits used.
  await tg.app.ledger.settle({ accountId: 'acct', requestId: 'fill', modality: 'llm', provider: 'openai', byok: false, microCredits: FREE_CAP_MICRO, units: {}, outcome: 'ok' });
  const u = await tg.usage();
  t.equal(u.credits.used, 2500, 'the account is at its cap');
  return { tg, up };
}

const auth = { authorization: `Bearer ${TEST_KEY}` };

t.test('keyless providers: X-Provider-Key-* is 400 byok_not_enabled, nothing forwarded, nothing free', async (t) => {
  const { tg, up } = await stack(t);
  const before = await tg.usage();

  const speech = await fetch(`${tg.base('kokoro')}/v1/audio/speech`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', 'x-provider-key-kokoro': 'anything' },
    body: JSON.stringify({ model: 'kokoro', voice: 'af_bella', input: 'x'.repeat(1000) }),
  });
  t.equal(speech.status, 400);
  t.equal(speech.headers.get('x-tollgate-error'), 'byok_not_enabled');
  t.same(await speech.json(), {
    error: { message: 'BYOK is not enabled for kokoro: its upstream takes no provider key; drop the X-Provider-Key-Kokoro header to be metered', type: 'invalid_request_error', code: 'byok_not_enabled', param: null },
  });

  const reload = await fetch(`${tg.base('kokoro')}/internal/admin/reload`, { method: 'POST', headers: { ...auth, 'x-provider-key-kokoro': 'anything' } });
  t.equal(reload.status, 400, 'an unmetered route is not opened by the header');
  t.equal(((await reload.json()) as any).error.code, 'byok_not_enabled');

  const form = new FormData();
  form.append('file', new Blob([Buffer.alloc(64_000)], { type: 'audio/wav' }), 'a.wav');
  form.append('model', 'whisper-1');
  const stt = await fetch(`${tg.base('whisper')}/v1/audio/transcriptions`, { method: 'POST', headers: { ...auth, 'x-provider-key-whisper': 'anything' }, body: form });
  t.equal(stt.status, 400);
  t.equal(((await stt.json()) as any).error.code, 'byok_not_enabled');
  const whisperAdmin = await fetch(`${tg.base('whisper')}/admin/reload`, { method: 'POST', headers: { ...auth, 'x-provider-key-whisper': 'anything' } });
  t.equal(whisperAdmin.status, 400);
  await whisperAdmin.arrayBuffer();

  const search = await fetch(`${tg.base('rag')}/search`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'x-provider-key-rag': 'anything' }, body: '{"q":"x"}' });
  t.equal(search.status, 400);
  t.equal(((await search.json()) as any).error.code, 'byok_not_enabled');
  const ragAdmin = await fetch(`${tg.base('rag')}/collections/all`, { method: 'DELETE', headers: { ...auth, 'x-provider-key-rag': 'anything' } });
  t.equal(ragAdmin.status, 400);
  await ragAdmin.arrayBuffer();

  t.equal(up.kokoro.requests.length, 0, 'the fake kokoro got 0 calls');
  t.equal(up.whisper.requests.length, 0, 'the fake whisper got 0 calls');
  t.equal(up.rag.requests.length, 0, 'the fake rag got 0 calls');

  // Without the header the same call is metered: refused at the cap (402), still 0 calls.
  const metered = await fetch(`${tg.base('kokoro')}/v1/audio/speech`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'kokoro', voice: 'af_bella', input: 'x'.repeat(1000) }) });
  t.equal(metered.status, 402);
  await metered.arrayBuffer();
  t.equal(up.kokoro.requests.length, 0);

  await tg.app.pipeline.idle(2_000);
  const after = await tg.usage();
  t.equal(after.credits.used, 2500, 'the ledger is unchanged');
  t.equal(after.requestCount, before.requestCount, 'no request counted');
  t.equal(after.byok.requestCount, 0, 'no BYOK request counted');
});

t.test('stored keys: PUT for kokoro is 400 byok_not_enabled; a key stored anyway is ignored (metered); openai is stored', async (t) => {
  const { tg, up } = await stack(t);
  const put = (provider: string) =>
    fetch(`${tg.adminUrl}/v1/provider-keys/${provider}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ key: 'sk-customer-0001' }) });
  const k = await put('kokoro');
  t.equal(k.status, 400);
  t.same(await k.json(), { error: { code: 'byok_not_enabled', type: 'invalid_request_error', message: 'BYOK is not enabled for kokoro: its upstream takes no provider key' } });
  const w = await put('whisper');
  t.equal(w.status, 400);
  await w.arrayBuffer();
  const o = await put('openai');
  t.equal(o.status, 200);
  await o.arrayBuffer();
  t.same(((await (await fetch(`${tg.adminUrl}/v1/provider-keys`, { headers: auth })).json()) as any).providers, ['openai']);

  // A kokoro key in the store from before (written past the API) makes nothing free.
  await tg.app.keyStore.put('acct', 'kokoro', 'sk-old-kokoro-key');
  const r = await fetch(`${tg.base('kokoro')}/v1/audio/speech`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'kokoro', voice: 'af_bella', input: 'hello' }) });
  t.equal(r.status, 402, 'metered, and refused at the cap');
  await r.arrayBuffer();
  t.equal(up.kokoro.requests.length, 0);
});

t.test('BYOK on openai still works at the cap: 0 credits, counted; an empty key header is 400 invalid_request', async (t) => {
  const { tg, up } = await stack(t);
  const body = JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] });
  const r = await fetch(`${tg.base('openai')}/v1/chat/completions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'x-provider-key-openai': 'sk-customer-0001' }, body });
  t.equal(r.status, 200);
  t.equal(((await r.json()) as any).usage.completion_tokens, 500);
  t.equal(up.openai.requests.length, 1);
  t.equal(up.openai.requests[0]!.headers.authorization, 'Bearer sk-customer-0001', "the customer's key went upstream");

  // An empty header (present, blank): 400 naming the header, nothing forwarded.
  const empty = await new Promise<{ status: number; body: any }>((resolve, reject) => {
    const u = new URL(`${tg.base('openai')}/v1/chat/completions`);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'X-Provider-Key-OpenAI': '' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', reject);
    req.end(body);
  });
  t.equal(empty.status, 400);
  t.same(empty.body.error, { message: 'the X-Provider-Key-Openai header is empty: put your openai key in it, or drop it to be metered', type: 'invalid_request_error', code: 'invalid_request', param: null });
  t.equal(up.openai.requests.length, 1, 'the empty-key request was not forwarded');

  await tg.app.pipeline.idle(2_000);
  const u = await tg.usage();
  t.equal(u.credits.used, 2500, 'BYOK costs 0 credits');
  t.equal(u.byok.requestCount, 1);
  t.same(u.byok.usage.llm, { inputTokens: 1000, outputTokens: 500 });
});

t.test('config: byok cannot be turned on for a keyless self-hosted provider; rag with an apiKey may', async (t) => {
  const { validateConfig } = await import('../../config/load.js');
  t.throws(() => validateConfig({ providers: { kokoro: { baseUrl: 'http://127.0.0.1:1', byok: true } } }, {}), /providers\.kokoro\.byok: kokoro's upstream takes no provider key/);
  const c = validateConfig({ providers: { rag: { baseUrl: 'http://127.0.0.1:1', apiKey: 'rag-key', byok: true }, openai: { byok: false } } }, {});
  const { createRegistry } = await import('../../proxy/registry.js');
  const { ADAPTERS } = await import('../../proxy/providers/index.js');
  const reg = createRegistry(ADAPTERS, c.providers);
  t.equal(reg.get('rag')!.byok, true, 'rag with a key and byok: true');
  t.equal(reg.get('openai')!.byok, false, 'turned off by the operator');
  t.equal(reg.get('openai')!.byokRefusal, 'BYOK is not enabled for openai: the operator turned it off; drop the X-Provider-Key-Openai header to be metered');
  t.equal(reg.get('anthropic')!.byok, true, 'hosted: on by default');
  t.equal(reg.get('kokoro')!.byok, false, 'self-hosted: off by default');
  t.equal(createRegistry(ADAPTERS, { rag: { baseUrl: 'http://127.0.0.1:1', apiKey: 'k' } }).get('rag')!.byok, false, 'rag with a key: off unless enabled');
});
