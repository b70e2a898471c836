// Bodies read whole are bounded per modality (proxy.maxJsonBodyBytes): 20 concurrent 31 MB JSON
// bodies on a Free key are all 413 and cost the process little memory (it used to buffer them
// all: RSS 113 -> 830 MB); the old single-number form still bounds every modality.
import t from 'tap';
import { startUpstream, json } from '../../helpers/upstream.js';
import { startOpsProcess } from '../../helpers/ops-process.js';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';
import { rawRequest, chatBodyOfSize } from '../../helpers/raw-http.js';

const FREE_KEY = 'tg_rss_free_key_Kq7mV2xR9pL4wN8c';
const MB = 1_000_000;

async function rss(adminUrl: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)![1]);
}

t.test('20 concurrent 31 MB JSON bodies on a Free key: all 413, RSS grows < 100 MB', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, {}));
  const tg = await startOpsProcess({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } }, accounts: [{ id: 'free', tier: 'free', apiKeys: [FREE_KEY] }] });
  t.teardown(async () => {
    await tg.stop();
    await up.close();
  });
  const headers = { authorization: `Bearer ${FREE_KEY}`, 'content-type': 'application/json' };
  // Warm up: one small request, so lazy allocations are not counted as growth.
  const small = await rawRequest(tg.proxyUrl, '/openai/v1/chat/completions', { headers, body: chatBodyOfSize(1000) }).answer;
  t.equal(small.status, 200);
  const before = await rss(tg.adminUrl);

  const body = chatBodyOfSize(31 * MB);
  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rss(tg.adminUrl));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const answers = await Promise.all(Array.from({ length: 20 }, () => rawRequest(tg.proxyUrl, '/openai/v1/chat/completions', { headers, body }).answer));
  await new Promise((r) => setTimeout(r, 500));
  sampling = false;
  await sampler;
  peak = Math.max(peak, await rss(tg.adminUrl));

  t.same(answers.map((a) => a.status), Array(20).fill(413));
  t.same(answers.map((a) => JSON.parse(a.body).error.code), Array(20).fill('payload_too_large'));
  t.equal(up.requests.length, 1, 'only the warm-up reached the provider');
  const growth = peak - before;
  t.comment(`RSS ${(before / MB).toFixed(1)} MB -> peak ${(peak / MB).toFixed(1)} MB (+${(growth / MB).toFixed(1)} MB)`);
  t.ok(growth < 100 * MB, `RSS growth ${(growth / MB).toFixed(1)} MB < 100 MB`);
});

t.test('limits by modality: a 5 MB LLM body passes, a 5 MB TTS body is 413; the old number form bounds all', async (t) => {
  const up = await startUpstream((req, res) => {
    if (!req.path.includes('speech')) return json(res, 200, { id: 'c', object: 'chat.completion', model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } });
    res.writeHead(200, { 'content-type': 'audio/mpeg' });
    res.end(Buffer.alloc(10));
  });
  const providers = { openai: { baseUrl: up.url, apiKey: 'sk-platform' } };
  const tg = await startTollgate({ providers, pricing: { tts: { openai: 15 } } }, { tier: 'scale' });
  const legacy = await startTollgate({ providers, pricing: { tts: { openai: 15 } }, proxy: { maxJsonBodyBytes: 2048 } }, { tier: 'scale' });
  t.teardown(async () => {
    await tg.close();
    await legacy.close();
    await up.close();
  });
  t.same(tg.config.proxy.maxJsonBodyBytes, { llm: 20_971_520, tts: 4_194_304, stt: 65_536, rag: 65_536 });
  t.same(legacy.config.proxy.maxJsonBodyBytes, { llm: 2048, tts: 2048, stt: 2048, rag: 2048 });
  const headers = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };
  const speech = (n: number) => Buffer.from(JSON.stringify({ model: 'tts-1', voice: 'alloy', input: 'hi', pad: 'x'.repeat(n) }));

  t.equal((await rawRequest(tg.proxyUrl, '/openai/v1/chat/completions', { headers, body: chatBodyOfSize(5 * MB) }).answer).status, 200, '5 MB chat: under 20 MiB');
  const tts = await rawRequest(tg.proxyUrl, '/openai/v1/audio/speech', { headers, body: speech(5 * MB) }).answer;
  t.equal(tts.status, 413, '5 MB speech: over 4 MiB');
  t.equal(JSON.parse(tts.body).error.code, 'payload_too_large');
  t.equal((await rawRequest(tg.proxyUrl, '/openai/v1/audio/speech', { headers, body: speech(1000) }).answer).status, 200);
  t.equal((await rawRequest(legacy.proxyUrl, '/openai/v1/chat/completions', { headers, body: chatBodyOfSize(3000) }).answer).status, 413);
  t.equal((await rawRequest(legacy.proxyUrl, '/openai/v1/audio/speech', { headers, body: speech(3000) }).answer).status, 413);
  t.equal((await rawRequest(legacy.proxyUrl, '/openai/v1/chat/completions', { headers, body: chatBodyOfSize(1000) }).answer).status, 200);
  t.equal(up.requests.length, 3, 'the refused ones never reached the provider');
});
