// The per-process budget of body bytes held before the reservation (proxy.maxBufferedBytes):
// slow clients holding it make the next request 503 server_busy with Retry-After, and nothing
// of that request reaches the provider; the budget comes back as requests are forwarded.
import t from 'tap';
import { startUpstream, json } from '../../helpers/upstream.js';
import { startTollgate, eventually, TEST_KEY } from '../../helpers/tollgate.js';
import { rawRequest, chatBodyOfSize } from '../../helpers/raw-http.js';

const BUDGET = 1_310_720; // 1.25 MiB: two 600 KiB bodies fit, a third does not
const BODY = 614_400; // 600 KiB

const gauge = async (tg: Awaited<ReturnType<typeof startTollgate>>, name: string): Promise<number> => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(await tg.app.metrics.render());
  return m ? Number(m[1]) : NaN;
};

t.test('two slow 600 KiB bodies hold the budget; a third is 503 server_busy, then one is accepted again', async (t) => {
  const up = await startUpstream((_req, res) =>
    json(res, 200, { id: 'c', object: 'chat.completion', model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } }),
  );
  const tg = await startTollgate({ proxy: { maxBufferedBytes: BUDGET }, providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } }, { tier: 'pro' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const body = chatBodyOfSize(BODY);
  const headers = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', 'content-length': String(BODY) };
  const path = '/openai/v1/chat/completions';

  // Two clients trickle: 1 KiB sent, the rest held back.
  const slow = [rawRequest(tg.proxyUrl, path, { headers }), rawRequest(tg.proxyUrl, path, { headers })];
  for (const s of slow) s.req.write(body.subarray(0, 1024));
  await eventually(async () => (await gauge(tg, 'tollgate_buffered_body_bytes')) === 2 * BODY, 10_000);

  // A third with a declared length: refused before any of its body is read.
  const third = await rawRequest(tg.proxyUrl, path, { headers, body }).answer;
  t.equal(third.status, 503);
  t.equal(third.headers['retry-after'], '1');
  t.equal(third.headers['x-tollgate-error'], 'server_busy');
  t.equal(JSON.parse(third.body).error.code, 'server_busy');
  // One of unknown length (chunked): refused once its bytes would pass the budget.
  const chunked = rawRequest(tg.proxyUrl, path, { headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' } });
  chunked.req.write(body.subarray(0, 128 * 1024));
  const c = await chunked.answer;
  t.equal(c.status, 503);
  t.equal(JSON.parse(c.body).error.code, 'server_busy');
  t.equal(up.requests.length, 0, 'nothing reached the provider');
  t.equal(await gauge(tg, 'tollgate_buffered_body_bytes'), 2 * BODY, 'the refused requests hold nothing');

  // The first finishes: forwarded, its bytes given back; a new request is accepted.
  slow[0]!.req.end(body.subarray(1024));
  t.equal((await slow[0]!.answer).status, 200);
  await eventually(async () => (await gauge(tg, 'tollgate_buffered_body_bytes')) === BODY, 10_000);
  const next = await rawRequest(tg.proxyUrl, path, { headers, body }).answer;
  t.equal(next.status, 200, 'accepted once the budget has room');
  slow[1]!.req.end(body.subarray(1024));
  t.equal((await slow[1]!.answer).status, 200);
  t.equal(up.requests.length, 3);
  t.equal(up.requests[0]!.body.length, BODY, 'the body went upstream whole');
  await eventually(async () => (await gauge(tg, 'tollgate_buffered_body_bytes')) === 0, 10_000);
  t.match(await tg.app.metrics.render(), /tollgate_rejected_total\{provider="openai",code="server_busy"\} 2/);
});

t.test('a client that leaves mid-body gives its bytes back', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, {}));
  const tg = await startTollgate({ proxy: { maxBufferedBytes: BUDGET }, providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } }, { tier: 'pro' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const headers = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', 'content-length': String(BODY) };
  const r = rawRequest(tg.proxyUrl, '/openai/v1/chat/completions', { headers });
  r.answer.catch(() => {});
  r.req.write(Buffer.alloc(1024, 'a'));
  await eventually(async () => (await gauge(tg, 'tollgate_buffered_body_bytes')) === BODY, 10_000);
  r.req.destroy();
  await eventually(async () => (await gauge(tg, 'tollgate_buffered_body_bytes')) === 0, 10_000);
  t.equal(up.requests.length, 0);
});
