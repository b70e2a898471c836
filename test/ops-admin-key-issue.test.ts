// A key issued through the admin API is tg_ + 32 base62, works on the proxy at once, is listed
// by id only, and is stored in Redis only as its SHA-256.
import t from 'tap';
import { createHash } from 'node:crypto';
import { startRedis } from './helpers/redis.js';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, ADMIN_TOKEN } from './helpers/tollgate.js';
import { redisDump } from './helpers/ops-redis-dump.js';

t.test('POST /admin/accounts/:id/keys → a working key, kept only as a hash', async (t) => {
  const redis = await startRedis();
  const up = await startUpstream((_req, res) =>
    json(res, 200, { id: 'c1', object: 'chat.completion', model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } }),
  );
  const tg = await startTollgate({ redis: { url: redis.url }, providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
    await redis.stop();
  });
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

  const created = await fetch(`${tg.adminUrl}/admin/accounts`, { method: 'POST', headers: admin, body: JSON.stringify({ id: 'acme', tier: 'starter' }) });
  t.equal(created.status, 201);
  t.match(await created.json(), { account: { id: 'acme', tier: 'starter', status: 'active' } });

  const issued = await fetch(`${tg.adminUrl}/admin/accounts/acme/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ label: 'backend' }) });
  t.equal(issued.status, 201);
  const body = (await issued.json()) as { id: string; key: string; label: string; accountId: string };
  t.match(body.key, /^tg_[0-9A-Za-z]{32}$/);
  const hash = createHash('sha256').update(body.key).digest('hex');
  t.equal(body.id, hash.slice(0, 12), 'the key id is the start of its hash');
  t.equal(body.label, 'backend');
  t.equal(body.accountId, 'acme');

  const r = await fetch(`${tg.base('openai')}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${body.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] }),
  });
  t.equal(r.status, 200);
  t.equal(up.requests[0]!.headers.authorization, 'Bearer sk-platform', 'the platform key goes upstream, not the tollgate key');
  await tg.app.pipeline.idle(2_000);
  const usage = await tg.usage(body.key);
  t.equal(usage.credits.used, 12, '1,000 + 500 tokens of gpt-4.1 = 12 credits');
  t.equal(usage.requestCount, 1);

  const listed = await fetch(`${tg.adminUrl}/admin/accounts/acme/keys`, { headers: admin });
  const keys = ((await listed.json()) as { keys: Array<Record<string, unknown>> }).keys;
  t.same(keys.map((k) => Object.keys(k).sort()), [['accountId', 'createdAt', 'id', 'label', 'revokedAt']], 'ids and metadata, no key');
  t.equal(keys[0]!.id, body.id);

  const got = await fetch(`${tg.adminUrl}/admin/accounts/acme`, { headers: admin });
  t.match(await got.json(), { account: { id: 'acme', tier: 'starter' }, usage: { credits: { used: 12, limit: 50000 }, requestCount: 1 } });

  const dump = await redisDump(redis.client());
  t.notOk(dump.includes(body.key), 'the key itself is nowhere in Redis');
  t.ok(dump.includes(hash), 'its SHA-256 is');
});
