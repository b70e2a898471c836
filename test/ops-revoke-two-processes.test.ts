// A key revoked through one replica's admin API gets 401 from two tollgate processes sharing
// Redis within a second, though both had it cached (the ledger publishes the revocation).
import t from 'tap';
import { startRedis } from './helpers/redis.js';
import { startUpstream, json } from './helpers/upstream.js';
import { startOpsProcess } from './helpers/ops-process.js';

const ADMIN_TOKEN = 'admin_token_for_ops_tests_01';

t.test('revoked key: 401 on both processes within 1 s', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const up = await startUpstream((_req, res) =>
    json(res, 200, { id: 'c1', object: 'chat.completion', model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } }),
  );
  t.teardown(() => up.close());
  const config = {
    redis: { url: redis.url },
    admin: { token: ADMIN_TOKEN },
    providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } },
    accounts: [{ id: 'acme', tier: 'pro' }],
    workers: 1,
  };
  const a = await startOpsProcess(config);
  t.teardown(() => a.stop());
  const b = await startOpsProcess(config);
  t.teardown(() => b.stop());

  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const issued = (await (await fetch(`${a.adminUrl}/admin/accounts/acme/keys`, { method: 'POST', headers: admin, body: '{}' })).json()) as { id: string; key: string };

  const call = (proxyUrl: string) =>
    fetch(`${proxyUrl}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${issued.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
    }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });
  // Both processes now hold the key in their auth caches (10 s TTL).
  t.equal(await call(a.proxyUrl), 200);
  t.equal(await call(b.proxyUrl), 200);

  const revokedAt = Date.now();
  const del = await fetch(`${a.adminUrl}/admin/keys/${issued.id}`, { method: 'DELETE', headers: admin });
  t.equal(del.status, 200);
  t.same(await del.json(), { id: issued.id, revoked: true });

  const until401 = async (proxyUrl: string) => {
    for (;;) {
      const s = await call(proxyUrl);
      if (s === 401) return Date.now() - revokedAt;
      if (Date.now() - revokedAt > 5_000) return Infinity;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const [msA, msB] = await Promise.all([until401(a.proxyUrl), until401(b.proxyUrl)]);
  t.ok(msA < 1_000, `process A refuses the key after ${msA} ms`);
  t.ok(msB < 1_000, `process B refuses the key after ${msB} ms`);

  // The admin port's customer routes refuse it too.
  const usage = await fetch(`${b.adminUrl}/v1/usage`, { headers: { authorization: `Bearer ${issued.key}` } });
  t.equal(usage.status, 401);
  const again = await fetch(`${a.adminUrl}/admin/keys/${issued.id}`, { method: 'DELETE', headers: admin });
  t.equal(again.status, 404, 'revoking twice: no live key');
  t.equal(up.requests.length, 2, 'nothing reached the provider on the revoked key');
});
