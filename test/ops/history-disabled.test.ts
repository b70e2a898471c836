// `history: { enabled: false }`: requests are charged as always, no history is written, and the
// history and receipts routes say so (404 history_disabled) instead of answering empty.
import t from 'tap';
import { startUpstream, json } from '../helpers/upstream.js';
import { ADMIN_TOKEN, startTollgate } from '../helpers/tollgate.js';
import { startRedis } from '../helpers/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());
const up = await startUpstream((_req, res) => {
  json(res, 200, { id: 'c', object: 'chat.completion', model: 'gpt-4.1', choices: [], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } });
});
t.teardown(() => up.close());

const KEY = 'tg_history_off_key_00000000000000001';
const tg = await startTollgate({
  redis: { url: redis.url, keyPrefix: 'hoff' },
  providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } },
  accounts: [{ id: 'quiet', tier: 'pro', apiKeys: [KEY] }],
  history: { enabled: false },
});
t.teardown(() => tg.close());

t.test('charged, not recorded; the routes answer 404 history_disabled', async (t) => {
  const r = await fetch(`${tg.proxyUrl}/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
  });
  t.equal(r.status, 200);
  await r.arrayBuffer();
  t.ok(r.headers.get('x-tollgate-request-id'), 'the request id is still given');
  let used = 0;
  for (let i = 0; i < 100 && used === 0; i++) {
    used = ((await (await fetch(`${tg.adminUrl}/v1/usage`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as { credits: { used: number } }).credits.used;
    if (used === 0) await new Promise((res) => setTimeout(res, 20));
  }
  t.equal(used, 12, 'gpt-4.1, 1,000 + 500 tokens: 12 credits');
  const c = redis.client();
  t.teardown(() => c.quit());
  t.same(await c.keys('hoff:{acct:quiet}:u:*'), [], 'no bucket');
  t.same(await c.keys('hoff:{acct:quiet}:rc'), [], 'no receipts');
  for (const [path, auth] of [
    ['/v1/usage/history', `Bearer ${KEY}`],
    ['/v1/usage/events', `Bearer ${KEY}`],
    ['/admin/accounts/quiet/usage/history', `Bearer ${ADMIN_TOKEN}`],
    ['/admin/accounts/quiet/usage/events', `Bearer ${ADMIN_TOKEN}`],
  ] as const) {
    const res = await fetch(`${tg.adminUrl}${path}`, { headers: { authorization: auth } });
    t.equal(res.status, 404, path);
    const body = (await res.json()) as { error: { code: string; message: string } };
    t.equal(body.error.code, 'history_disabled', path);
    t.match(body.error.message, /history\.enabled: false/);
  }
});
