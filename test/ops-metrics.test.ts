// GET /metrics after known traffic: requests by provider/modality/status, credits by modality,
// upstream latency and stream TTFB histograms, ledger script latency and errors, open streams.
import t from 'tap';
import { startRedis } from './helpers/redis.js';
import { startUpstream, json, sse } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

type Sample = { name: string; labels: Record<string, string>; value: number };

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

t.test('/metrics counts the traffic exactly', async (t) => {
  const redis = await startRedis();
  const usage = { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 };
  const up = await startUpstream(async (req, res) => {
    if (req.method === 'GET') return json(res, 200, { object: 'list', data: [] });
    const body = JSON.parse(req.body.toString()) as { stream?: boolean; user?: string };
    if (body.user === 'fail') return json(res, 500, { error: { message: 'boom', type: 'server_error' } });
    if (body.stream) {
      return sse(res, [
        { data: { id: 'c', object: 'chat.completion.chunk', model: 'gpt-4.1', choices: [{ index: 0, delta: { content: 'Hi' } }] } },
        { data: { id: 'c', object: 'chat.completion.chunk', model: 'gpt-4.1', choices: [], usage } },
        { data: '[DONE]' },
      ]);
    }
    json(res, 200, { id: 'c', object: 'chat.completion', model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage });
  });
  // A pro account (admitted locally after its first request) and a Free one (reserves in Redis).
  const FREE_KEY = 'tg_test_key_0000000000000000000002';
  const tg = await startTollgate({
    redis: { url: redis.url },
    providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } },
    accounts: [
      { id: 'acct', tier: 'pro', apiKeys: [TEST_KEY] },
      { id: 'free', tier: 'free', apiKeys: [FREE_KEY] },
    ],
  });
  t.teardown(async () => {
    await tg.close();
    await up.close();
    await redis.stop();
  });

  const chat = async (extra: Record<string, unknown>, key = TEST_KEY) => {
    const r = await fetch(`${tg.base('openai')}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }], ...extra }),
    });
    await r.arrayBuffer();
    return r.status;
  };
  t.equal(await chat({}), 200);
  t.equal(await chat({}), 200);
  t.equal(await chat({}, FREE_KEY), 200);
  t.equal(await chat({ stream: true }), 200);
  t.equal(await chat({ user: 'fail' }), 500);
  t.equal(await chat({}, 'tg_not_a_key_00000000000000000000'), 401);
  const models = await fetch(`${tg.base('openai')}/v1/models`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  await models.arrayBuffer();
  t.equal(models.status, 200);
  const unrouted = await fetch(`${tg.base('openai')}/v1/files`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  await unrouted.arrayBuffer();
  t.equal(unrouted.status, 404);
  for (const name of ['nope1', 'nope2']) {
    const r = await fetch(`${tg.base(name)}/v1/chat/completions`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    await r.arrayBuffer();
    t.equal(r.status, 404);
  }
  await tg.app.pipeline.idle(2_000);

  // Redis hangs (connections open, nothing answered): the Free key is still cached, its
  // reservation goes to Redis and times out, 503.
  const admin = redis.client();
  await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
  t.equal(await chat({}, FREE_KEY), 503);

  const res = await fetch(`${tg.adminUrl}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const samples = parse(await res.text());
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;

  const req = (modality: string, status: string) => value('tollgate_requests_total', { provider: 'openai', modality, status });
  t.equal(req('llm', '200'), 5, '3 JSON + 1 stream + the free model listing');
  t.equal(req('llm', '500'), 1, 'the provider error');
  t.equal(req('none', '401'), 1, 'the bad key');
  t.equal(req('none', '404'), 1, 'the unknown route');
  t.equal(req('none', '503'), 1, 'the ledger outage');
  t.equal(value('tollgate_requests_total', { provider: '(unknown)', modality: 'none', status: '404' }), 2, 'both unknown provider names under one label');
  t.equal(samples.filter((s) => s.labels.provider === 'nope1' || s.labels.provider === 'nope2').length, 0, 'no series per client-chosen name');
  t.equal(value('tollgate_rejected_total', { provider: '(unknown)', code: 'unknown_provider' }), 2);
  t.equal(samples.filter((s) => s.name === 'tollgate_requests_total').reduce((a, s) => a + s.value, 0), 11, 'every request once');
  t.equal(value('tollgate_rejected_total', { provider: 'openai', code: 'invalid_api_key' }), 1);
  t.equal(value('tollgate_rejected_total', { provider: 'openai', code: 'unknown_route' }), 1);
  t.equal(value('tollgate_rejected_total', { provider: 'openai', code: 'ledger_unavailable' }), 1);
  t.equal(value('tollgate_credits_total', { modality: 'llm' }), 48, '4 × 12 credits');
  t.equal(value('tollgate_upstream_latency_seconds_count', { provider: 'openai' }), 6);
  t.equal(value('tollgate_upstream_latency_seconds_bucket', { provider: 'openai', le: '+Inf' }), 6);
  t.equal(value('tollgate_stream_ttfb_seconds_count', { provider: 'openai' }), 1, 'one streamed answer');
  t.equal(value('tollgate_open_streams', { provider: 'openai' }), 0);
  // The pro account's first reserve went to Redis (and read its terms: no spend limit); its
  // next 3 were admitted locally (no ledger call). The Free account's both went to Redis.
  t.equal(value('tollgate_ledger_script_seconds_count', { op: 'reserve' }), 3, 'pro 1, Free 1 with Redis up and 1 failed; 3 admitted locally');
  t.equal(value('tollgate_ledger_script_seconds_count', { op: 'settle' }), 5);
  t.equal(value('tollgate_ledger_errors_total', { op: 'reserve' }), 1);
  t.equal(value('tollgate_ledger_errors_total', { op: 'settle' }), undefined, 'no settle failed');
  t.equal(value('tollgate_requests_in_flight'), 0);
  t.ok(value('process_cpu_user_seconds_total')! > 0, 'process metrics too');
});
