// Every change on record: account created, tier changed, key issued and revoked, BYOK key
// stored and removed — who (admin token id, customer key id), what, when, before and after — in
// Redis (a capped stream per account, hash-tagged {acct:ID}, and a global one), paged by cursor
// through GET /admin/audit and `tollgate audit`.
import t from 'tap';
import { execFile } from 'node:child_process';
import { startRedis } from '../helpers/redis.js';
import { ADMIN_TOKEN, TEST_KEY, startTollgate } from '../helpers/tollgate.js';
import { TOLLGATE_BIN } from '../helpers/ops-process.js';
import { hashKey } from '../../proxy/auth.js';

t.test('admin and customer actions, before and after, in Redis and through the API and CLI', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const tg = await startTollgate({ redis: { url: redis.url }, byok: { masterKey: Buffer.alloc(32, 7).toString('base64') } });
  t.teardown(() => tg.close());
  const adminActor = `admin:${hashKey(ADMIN_TOKEN).slice(0, 12)}`;
  const customerActor = `key:${hashKey(TEST_KEY).slice(0, 12)}`;
  const call = async (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) => {
    const r = await fetch(`${tg.adminUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: r.status, body: (await r.json()) as any };
  };
  t.equal((await call('POST', '/admin/accounts', { id: 'acme', tier: 'free' })).status, 201);
  t.equal((await call('PATCH', '/admin/accounts/acme', { tier: 'pro' })).status, 200);
  const key = (await call('POST', '/admin/accounts/acme/keys', { label: 'ci' })).body;
  t.equal((await call('DELETE', `/admin/keys/${key.id}`)).status, 200);
  t.equal((await call('PUT', '/v1/provider-keys/openai', { key: 'sk-customer-own-key-1' }, TEST_KEY)).status, 200);
  t.equal((await call('DELETE', '/v1/provider-keys/openai', undefined, TEST_KEY)).status, 200);

  const all = (await call('GET', '/admin/audit?limit=100')).body;
  const mine = all.entries.filter((e: any) => e.actor !== 'config').map((e: any) => [e.actor, e.action, e.accountId, e.before ?? null, e.after ?? null]);
  t.match(mine, [
    [customerActor, 'byok.removed', 'acct', { provider: 'openai', stored: true }, { provider: 'openai', stored: false }],
    [customerActor, 'byok.stored', 'acct', { provider: 'openai', stored: false }, { provider: 'openai', stored: true }],
    [adminActor, 'key.revoked', 'acme', { id: key.id, revokedAt: null }, { id: key.id, revokedAt: String }],
    [adminActor, 'key.issued', 'acme', null, { id: key.id, label: 'ci', revokedAt: null }],
    [adminActor, 'account.tier_changed', 'acme', { tier: 'free' }, { tier: 'pro' }],
    [adminActor, 'account.created', 'acme', null, { id: 'acme', tier: 'free', origin: 'api' }],
  ]);
  t.equal(mine.length, 6);
  t.notOk(JSON.stringify(all).includes('sk-customer-own-key-1'), 'never the BYOK key');
  for (const e of all.entries) t.match(e.at, /^\d{4}-\d\d-\d\dT/);

  // Paging: two at a time over acme's own stream.
  const p1 = (await call('GET', '/admin/audit?account=acme&limit=2')).body;
  t.same(p1.entries.map((e: any) => e.action), ['key.revoked', 'key.issued']);
  const p2 = (await call('GET', `/admin/audit?account=acme&limit=2&cursor=${p1.next}`)).body;
  t.same(p2.entries.map((e: any) => e.action), ['account.tier_changed', 'account.created']);

  // In Redis: the per-account stream shares the account's hash tag; both are capped streams.
  const r = redis.client();
  t.equal(await r.type('tg:{acct:acme}:audit'), 'stream');
  t.equal(await r.xlen('tg:{acct:acme}:audit'), 4);
  t.equal(await r.type('tg:audit'), 'stream');
  t.equal(await r.xlen('tg:audit'), all.entries.length);

  const cli = await new Promise<{ code: number; stdout: string }>((resolve) =>
    execFile(process.execPath, [TOLLGATE_BIN, 'audit', '--account', 'acme', '--limit', '1'], { env: { ...process.env, TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN, TOLLGATE_ADMIN_URL: tg.adminUrl } }, (err, stdout) => resolve({ code: err ? 1 : 0, stdout })),
  );
  t.equal(cli.code, 0);
  t.match(cli.stdout, new RegExp(`^AT +ACTOR +ACTION +ACCOUNT +BEFORE +AFTER\\n\\S+ +${adminActor} +key\\.revoked +acme +\\{"id":"${key.id}"`));
  t.match(cli.stdout, /\nmore: --cursor \d+-\d+\n$/);
});
