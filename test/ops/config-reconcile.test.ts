// Config is the truth for what it lists: change an account's tier, spend limit and key in the
// YAML and restart on the same Redis: the new tier and limit apply, the old key answers 401, the
// new one works, and every change is audited as `config`. Accounts created through the admin
// API, and keys it issued, are left alone; a Stripe-managed account keeps Stripe's tier.
import t from 'tap';
import { startRedis } from '../helpers/redis.js';
import { startOpsProcess } from '../helpers/ops-process.js';

const OLD = 'tg_reconcile_old_key_0000000000001';
const NEW = 'tg_reconcile_new_key_0000000000002';
const TOKEN = 'admin_token_reconcile_00000001';
const admin = { port: 0, token: TOKEN };

const get = async (url: string, key: string) => {
  const r = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  return { status: r.status, body: (await r.json()) as any };
};
const call = async (url: string, method: string, body?: unknown) => {
  const r = await fetch(url, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, body: (await r.json()) as any };
};

t.test('tier, spend limit and keys follow the YAML across a restart on the same Redis', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const a = await startOpsProcess({ admin, redis: { url: redis.url }, accounts: [{ id: 'acme', tier: 'free', apiKeys: [OLD] }] });
  // Made through the admin API while running: an account, and a key on the static account.
  t.equal((await call(`${a.adminUrl}/admin/accounts`, 'POST', { id: 'byapi', tier: 'pro' })).status, 201);
  const issued = (await call(`${a.adminUrl}/admin/accounts/acme/keys`, 'POST', { label: 'ci' })).body;
  t.equal((await get(`${a.adminUrl}/v1/usage`, OLD)).body.tier, 'free');
  t.equal(await a.stop(), 0);

  const b = await startOpsProcess({ admin, redis: { url: redis.url }, accounts: [{ id: 'acme', tier: 'pro', overageCapCredits: 250, apiKeys: [NEW] }] });
  t.teardown(() => b.stop('SIGKILL'));
  t.equal((await get(`${b.adminUrl}/v1/usage`, OLD)).status, 401, 'the key taken out of the YAML is revoked');
  const usage = await get(`${b.adminUrl}/v1/usage`, NEW);
  t.equal(usage.status, 200);
  t.equal(usage.body.tier, 'pro', 'the new tier');
  t.equal((await get(`${b.adminUrl}/v1/usage`, issued.key)).status, 200, 'a key issued through the admin API stays');
  const acme = (await call(`${b.adminUrl}/admin/accounts/acme`, 'GET')).body.account;
  t.match(acme, { tier: 'pro', overageCapCredits: 250, origin: 'config' });
  t.match((await call(`${b.adminUrl}/admin/accounts/byapi`, 'GET')).body.account, { tier: 'pro', origin: 'api' }, 'the API-made account is untouched');

  const audit = (await call(`${b.adminUrl}/admin/audit?account=acme`, 'GET')).body.entries as any[];
  const byConfig = audit.filter((e) => e.actor === 'config').map((e) => [e.action, e.before, e.after]);
  const oldId = audit.find((e) => e.action === 'key.revoked')?.after.id;
  t.same(byConfig.slice(0, 3), [
    ['key.issued', null, { id: byConfig[0]![2].id, label: 'config' }],
    ['key.revoked', { id: oldId, revoked: false }, { id: oldId, revoked: true, reason: 'no longer in the config' }],
    ['account.updated', { overageCapMicro: null, tier: 'free' }, { overageCapMicro: 250_000_000, tier: 'pro' }],
  ], 'newest first: the key added, the key revoked, the tier and limit changed');
  t.equal(byConfig.at(-1)![0], 'account.created', 'the first start created it');
  t.equal(audit.filter((e) => e.actor.startsWith('admin:')).length, 1, 'the admin-issued key is on record too');
});
