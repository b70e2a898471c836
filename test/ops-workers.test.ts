// `serve --workers 2` on Redis: two worker processes share the ports, connections go to both,
// /metrics on either answers with both workers' counts summed, and SIGTERM to the primary
// stops both gracefully (exit 0).
import t from 'tap';
import { request } from 'node:http';
import { startRedis } from './helpers/redis.js';
import { startUpstream, json } from './helpers/upstream.js';
import { startOpsProcess, logRecords } from './helpers/ops-process.js';

const KEY = 'tg_workers_test_key_00000000000001';

/** One request on its own connection, so the primary hands each to the next worker. */
function post(url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

t.test('two workers, one port, summed metrics, graceful stop', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const up = await startUpstream((_req, res) =>
    json(res, 200, { id: 'c1', object: 'chat.completion', model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } }),
  );
  t.teardown(() => up.close());
  const tg = await startOpsProcess(
    { redis: { url: redis.url }, providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } }, accounts: [{ id: 'acme', tier: 'pro', apiKeys: [KEY] }], shutdown: { graceMs: 2_000 } },
    ['--workers', '2'],
  );
  t.teardown(() => tg.stop('SIGKILL'));
  const deadline = Date.now() + 20_000;
  while (logRecords(tg, 'tollgate listening').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const listening = logRecords(tg, 'tollgate listening');
  t.equal(listening.length, 2, 'two workers listening');
  t.equal(new Set(listening.map((l) => l.pid)).size, 2, 'in two processes');
  t.same(new Set(listening.map((l) => l.proxyUrl)), new Set([tg.proxyUrl]), 'on the same port');

  for (let i = 0; i < 10; i++) {
    t.equal(await post(`${tg.proxyUrl}/openai/v1/chat/completions`, { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }), 200);
  }
  // Log lines are buffered (flushed at least every second): wait for both workers' lines.
  const settledBy = Date.now() + 5_000;
  const pids = () => new Set(logRecords(tg, 'settled').map((r) => r.pid));
  while (pids().size < 2 && Date.now() < settledBy) await new Promise((r) => setTimeout(r, 20));
  t.equal(pids().size, 2, 'both workers served requests');

  for (let i = 0; i < 3; i++) {
    const text = await (await fetch(`${tg.adminUrl}/metrics`, { headers: { connection: 'close' } })).text();
    t.match(text, /^tollgate_requests_total\{provider="openai",modality="llm",status="200"\} 10$/m, 'all 10 requests, whichever worker answers');
    t.match(text, /^tollgate_credits_total\{modality="llm"\} 120$/m);
  }

  const usage = await fetch(`${tg.adminUrl}/v1/usage`, { headers: { authorization: `Bearer ${KEY}` } });
  t.match(await usage.json(), { credits: { used: 120 }, requestCount: 10 });

  t.equal(await tg.stop('SIGTERM', 15_000), 0, 'the primary exits 0');
  t.equal(logRecords(tg, 'stopped').length, 2, 'each worker stopped gracefully');
});
