// The admin API's refusals: wrong token 401, bad bodies 400 listing every problem, unknown
// account 404, duplicate 409; PATCH sets tier and the overage cap (credits, null to clear).
import t from 'tap';
import { startTollgate, ADMIN_TOKEN } from './helpers/tollgate.js';

t.test('admin API validation', async (t) => {
  const tg = await startTollgate();
  t.teardown(() => tg.close());
  const call = async (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) => {
    const r = await fetch(`${tg.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as any };
  };

  t.match(await call('GET', '/admin/accounts', undefined, 'not_the_admin_token_123'), { status: 401, body: { error: { code: 'invalid_admin_token' } } });
  t.match(await call('GET', '/admin/accounts', undefined, ''), { status: 401 });

  const bad = await call('POST', '/admin/accounts', { id: 'has space', tier: 'gold', extra: 1 });
  t.equal(bad.status, 400);
  t.equal(bad.body.error.code, 'invalid_request');
  t.match(bad.body.error.message, /id: account ids are 1-64 characters/);
  t.match(bad.body.error.message, /tier: /);
  t.match(bad.body.error.message, /extra/);
  t.match(await call('POST', '/admin/accounts', '{not json'), { status: 400, body: { error: { code: 'invalid_request' } } });

  t.match(await call('POST', '/admin/accounts', { id: 'acme' }), { status: 201, body: { account: { id: 'acme', tier: 'free', overageCapCredits: null } } });
  t.match(await call('POST', '/admin/accounts', { id: 'acme', tier: 'pro' }), { status: 409, body: { error: { code: 'account_exists' } } });
  t.match(await call('GET', '/admin/accounts/ghost'), { status: 404, body: { error: { code: 'unknown_account' } } });
  t.match(await call('POST', '/admin/accounts/ghost/keys', {}), { status: 404, body: { error: { code: 'unknown_account' } } });
  t.match(await call('PATCH', '/admin/accounts/acme', {}), { status: 400, body: { error: { message: /give tier, overageCapCredits, timeZone and\/or alerts/ } } });
  t.match(await call('PATCH', '/admin/accounts/acme', { tier: 'scale', overageCapCredits: 1234.5 }), { status: 200, body: { account: { tier: 'scale', overageCapCredits: 1234.5 } } });
  t.equal((await tg.app.ledger.getAccount('acme'))?.overageCapMicro, 1_234_500_000);
  t.match(await call('PATCH', '/admin/accounts/acme', { overageCapCredits: null }), { status: 200, body: { account: { overageCapCredits: null } } });
  t.match(await call('POST', '/admin/accounts/acme/keys', { label: '' }), { status: 400 });
  t.match(await call('DELETE', '/admin/keys/not-an-id'), { status: 400, body: { error: { code: 'invalid_request' } } });
  t.match(await call('DELETE', '/admin/keys/0123456789ab'), { status: 404, body: { error: { code: 'unknown_key' } } });
  t.match(await call('PUT', '/admin/accounts'), { status: 405 });
});

t.test('without admin.token the admin API is off', async (t) => {
  const tg = await startTollgate({ admin: { token: undefined } });
  t.teardown(() => tg.close());
  const r = await fetch(`${tg.adminUrl}/admin/accounts`, { headers: { authorization: 'Bearer anything_at_all_123' } });
  t.equal(r.status, 403);
  t.match(await r.json(), { error: { code: 'admin_disabled' } });
});
