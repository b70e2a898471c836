// Suspend, resume, delete: a suspended account gets 403 account_suspended on both ports and its
// requests never reach the provider (0 upstream calls); resume restores it; DELETE revokes its
// keys (401) and keeps its usage readable. Each action is in the audit log with before/after.
import t from 'tap';
import { startRedis } from '../helpers/redis.js';
import { startUpstream, json } from '../helpers/upstream.js';
import { ADMIN_TOKEN, TEST_KEY, startTollgate } from '../helpers/tollgate.js';

const chat = { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] };
const completion = { id: 'c1', object: 'chat.completion', model: 'gpt-4.1-2025-04-14', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } };

for (const backend of ['memory', 'redis'] as const) {
  t.test(`${backend}: suspend -> 403 on both ports, no upstream call; resume; delete -> 401`, async (t) => {
    const up = await startUpstream((_req, res) => json(res, 200, completion));
    t.teardown(() => up.close());
    const redis = backend === 'redis' ? await startRedis() : undefined;
    if (redis) t.teardown(() => redis.stop());
    const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } }, ...(redis ? { redis: { url: redis.url } } : {}) }, { tier: 'pro' });
    t.teardown(() => tg.close());
    const adm = (method: string, path: string) => fetch(`${tg.adminUrl}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const proxy = () => fetch(`${tg.proxyUrl}/openai/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(chat) });

    t.equal((await proxy()).status, 200, 'served before');
    t.equal(up.requests.length, 1);
    const s = await adm('POST', '/admin/accounts/acct/suspend');
    t.equal(s.status, 200);
    t.match(((await s.json()) as any).account, { id: 'acct', suspended: true });
    for (let i = 0; i < 3; i++) {
      const r = await proxy();
      t.equal(r.status, 403);
      t.equal(r.headers.get('x-tollgate-error'), 'account_suspended');
      t.match(await r.json(), { error: { code: 'account_suspended', type: 'permission_error' } });
    }
    t.equal(up.requests.length, 1, 'no request reached the provider while suspended');
    const usage = await fetch(`${tg.adminUrl}/v1/usage`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    t.equal(usage.status, 403, 'the admin port refuses it too');
    t.match(await usage.json(), { error: { code: 'account_suspended' } });

    t.equal((await adm('POST', '/admin/accounts/acct/resume')).status, 200);
    t.equal((await proxy()).status, 200, 'served again after resume');
    t.equal(up.requests.length, 2);

    const d = await adm('DELETE', '/admin/accounts/acct');
    t.equal(d.status, 200);
    const deleted = (await d.json()) as any;
    t.equal(deleted.revokedKeys.length, 1);
    t.ok(deleted.account.deletedAt);
    t.equal((await proxy()).status, 401, 'its keys are revoked');
    t.equal(up.requests.length, 2);
    const kept = (await (await adm('GET', '/admin/accounts/acct')).json()) as any;
    t.equal(kept.usage.requestCount, 2, 'its history is kept');
    t.equal(kept.usage.credits.used, 24, '2 requests x (1000 in x 8 + 500 out x 32) / 1000 = 12 credits each');
    t.equal((await adm('POST', '/admin/accounts/acct/suspend')).status, 404, 'a deleted account takes no more actions');

    const audit = ((await (await adm('GET', '/admin/audit?account=acct')).json()) as any).entries as any[];
    t.same(
      audit.filter((e) => e.actor.startsWith('admin:')).map((e) => e.action),
      ['account.deleted', 'account.resumed', 'account.suspended'],
    );
    t.same(audit.find((e) => e.action === 'account.suspended').before, { suspended: false });
    t.same(audit.find((e) => e.action === 'account.suspended').after, { suspended: true });
    t.match(audit[0].actor, /^admin:[0-9a-f]{12}$/);
  });
}
