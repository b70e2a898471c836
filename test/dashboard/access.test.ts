// Who may see which dashboard page, over plain HTTP (the browser test covers what a person sees):
// operator login by form POST to a signed HttpOnly SameSite=Strict cookie, a cross-site POST
// refused, forged cookies and links refused, a link for one account never shows another's,
// an expired link refused, a revoked key ends its session, every interpolation escaped, and the
// CSP on every page.

import t from 'tap';
import { validateConfig } from '../../config/load.js';
import { hashKey } from '../../proxy/auth.js';
import { ADMIN_TOKEN, BOB_KEY, LINK_SECRET, startDashboardStack, TEST_KEY } from '../helpers/dashboard.js';

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  redirect: 'manual' as const,
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields).toString(),
});

t.test('dashboard access', async (t) => {
  const s = await startDashboardStack({ dashboard: { embedOrigins: ['https://app.example.com'] } });
  t.teardown(() => s.close());
  const a = s.adminUrl;
  const get = (path: string, cookie?: string) => fetch(`${a}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  const cookieOf = (r: Response) => r.headers.get('set-cookie')!.split(';')[0]!;

  t.test('no session: pages send to the login form; the login page has the strict CSP', async (t) => {
    for (const p of ['/dashboard', '/dashboard/accounts/acct', '/dashboard/me', '/dashboard/usage.csv']) {
      const r = await get(p);
      t.equal(r.status, 303, p);
      t.equal(r.headers.get('location'), '/dashboard/login', p);
    }
    const r = await get('/dashboard/login');
    t.equal(r.status, 200);
    t.equal(r.headers.get('content-security-policy'), "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    t.equal(r.headers.get('x-frame-options'), 'DENY');
    const body = await r.text();
    t.notMatch(body, /<script>|<style>| style=| on[a-z]+=/, 'no inline script, style or handler');
  });

  t.test('operator login: a bad token is refused; a good one gets a signed HttpOnly SameSite=Strict cookie, not the token', async (t) => {
    const bad = await fetch(`${a}/dashboard/login`, form({ role: 'operator', token: 'not-the-admin-token-000' }));
    t.equal(bad.status, 401);
    t.equal(bad.headers.get('set-cookie'), null);
    const cross = await fetch(`${a}/dashboard/login`, form({ role: 'operator', token: ADMIN_TOKEN }, { origin: 'https://evil.example' }));
    t.equal(cross.status, 403, 'a login POST from another origin is refused');
    t.equal(cross.headers.get('set-cookie'), null);
    const crossSite = await fetch(`${a}/dashboard/logout`, form({}, { 'sec-fetch-site': 'cross-site' }));
    t.equal(crossSite.status, 403, 'a cross-site logout is refused');
    const ok = await fetch(`${a}/dashboard/login`, form({ role: 'operator', token: ADMIN_TOKEN }));
    t.equal(ok.status, 303);
    t.equal(ok.headers.get('location'), '/dashboard');
    const setCookie = ok.headers.get('set-cookie')!;
    t.match(setCookie, /^tg_dash=o\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Path=\/dashboard; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    t.notMatch(setCookie, ADMIN_TOKEN);
    const page = await get('/dashboard', cookieOf(ok));
    t.equal(page.status, 200);
    const html = await page.text();
    t.match(html, /<tr data-account="acct">.*<td class="num" data-col="used">30\.5<\/td><td class="num" data-col="limit">2,500<\/td>/s);
    t.match(html, /<tr data-account="bob">.*<td class="num" data-col="used">12<\/td>/s);
    t.ok(html.indexOf('data-account="acct"') < html.indexOf('data-account="bob"'), 'most credits used first');
    t.match(html, /data-stat="used">42\.5</, 'the period total: 30.5 + 12');
    // A forged signature, and a customer cookie, do not open the operator pages.
    const forged = cookieOf(ok).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    t.not(forged, cookieOf(ok));
    t.equal((await get('/dashboard', forged)).headers.get('location'), '/dashboard/login');
    const logout = await fetch(`${a}/dashboard/logout`, { ...form({}), headers: { ...form({}).headers, cookie: cookieOf(ok) } });
    t.equal(logout.status, 303);
    t.match(logout.headers.get('set-cookie')!, /^tg_dash=; .*Max-Age=0/);
  });

  t.test('customer login with a key: its own page only; a revoked key ends the session', async (t) => {
    const bad = await fetch(`${a}/dashboard/login`, form({ role: 'customer', key: 'tg_wrong_key_00000000000000000000' }));
    t.equal(bad.status, 401);
    const r = await fetch(`${a}/dashboard/login`, form({ role: 'customer', key: BOB_KEY }));
    t.equal(r.headers.get('location'), '/dashboard/me');
    const c = cookieOf(r);
    t.notMatch(r.headers.get('set-cookie')!, BOB_KEY);
    const me = await get('/dashboard/me', c);
    t.equal(me.status, 200);
    const html = await me.text();
    t.match(html, /data-stat="used">12</);
    t.match(html, /data-stat="limit">50,000</, "starter: 50,000 included credits");
    t.notMatch(html, /30\.5/, "acct's figures are not on bob's page");
    t.equal(me.headers.get('content-security-policy')!.split('; ').pop(), 'frame-ancestors https://app.example.com', 'the customer page may be framed by dashboard.embedOrigins');
    t.equal((await get('/dashboard', c)).headers.get('location'), '/dashboard/me', 'a customer session is not an operator session');
    t.equal((await get('/dashboard/accounts/acct', c)).headers.get('location'), '/dashboard/login');
    // A new key for bob, a session with it, then the key is revoked.
    const issued = await fetch(`${a}/admin/accounts/bob/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: '{"label":"temp"}' });
    const key = ((await issued.json()) as { key: string; id?: string }).key;
    const c2 = cookieOf(await fetch(`${a}/dashboard/login`, form({ role: 'customer', key })));
    t.equal((await get('/dashboard/me', c2)).status, 200);
    t.equal((await fetch(`${a}/admin/keys/${hashKey(key).slice(0, 12)}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status, 200);
    const after = await get('/dashboard/me', c2);
    t.equal(after.status, 303, 'the revoked key no longer opens the page');
    t.match(after.headers.get('set-cookie')!, /Max-Age=0/);
  });

  t.test('signed links: one account each, tamper-proof, expiring', async (t) => {
    const link = await s.mintLink('acct', 60);
    t.match(link, /^\/dashboard\/me\?link=[A-Za-z0-9_.-]+$/);
    const page = await get(link);
    t.equal(page.status, 200);
    const html = await page.text();
    t.match(html, /data-stat="used">30\.5</);
    t.match(html, /data-stat="requests">4</);
    t.notMatch(html, /data-stat="used">12</, "bob's figures are not on acct's page");
    // The link's account swapped for bob's, signature kept: refused.
    const token = decodeURIComponent(link.split('link=')[1]!);
    const [payload, sig] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const swapped = `${Buffer.from(JSON.stringify({ ...claims, a: 'bob' })).toString('base64url')}.${sig}`;
    t.equal((await get(`/dashboard/me?link=${swapped}`)).status, 401, 'a link for acct cannot be turned into one for bob');
    t.equal((await get(`/dashboard/me/receipts.csv?link=${swapped}`)).status, 401);
    // A link wins over a session: bob's cookie with acct's link still shows acct, and bob's cookie alone shows bob.
    const bob = cookieOf(await fetch(`${a}/dashboard/login`, form({ role: 'customer', key: BOB_KEY })));
    t.match(await (await get(link, bob)).text(), /data-stat="used">30\.5</);
    // A link signed with another secret is refused.
    const { createSigner } = await import('../../proxy/dashboard/signed.js');
    const other = createSigner('another-secret-another-secret-0000000', 'link').sign({ exp: Math.floor(Date.now() / 1000) + 60, a: 'bob' });
    t.equal((await get(`/dashboard/me?link=${other}`)).status, 401);
    // Expiry: 60 s later the link is refused.
    s.advance(61_000);
    const expired = await get(link);
    t.equal(expired.status, 401);
    t.match(await expired.text(), /expired or is not valid/);
  });

  t.test('minting: admin token only, bounded ttl, known accounts', async (t) => {
    const mint = (key: string, body: unknown) => fetch(`${a}/admin/dashboard/links`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    t.equal((await mint(TEST_KEY, { account: 'acct' })).status, 401, 'a customer key cannot mint');
    t.equal((await mint(ADMIN_TOKEN, { account: 'nobody' })).status, 404);
    const long = await mint(ADMIN_TOKEN, { account: 'acct', ttlSeconds: 86_401 });
    t.equal(long.status, 400);
    t.match(await long.text(), /at most 86400/);
    // The CLI prints the whole URL, which opens acct's page.
    const { runAdminCommand } = await import('../../bin/admin-commands.js');
    process.env.TOLLGATE_ADMIN_TOKEN = ADMIN_TOKEN;
    t.teardown(() => delete process.env.TOLLGATE_ADMIN_TOKEN);
    let printed = '';
    t.equal(await runAdminCommand('dashboard', ['link', 'acct', '--ttl', '60', '--admin-url', a], (x) => (printed += x), () => {}), 0);
    const url = printed.split('\n')[0]!;
    t.match(url, new RegExp(`^${a}/dashboard/me\\?link=`));
    t.match(printed.split('\n')[1], /^expires \d{4}-\d{2}-\d{2}T/);
    t.match(await (await fetch(url)).text(), /data-stat="used">30\.5</);
    const ok = await mint(ADMIN_TOKEN, { account: 'acct' });
    t.equal(ok.status, 201);
    const body = (await ok.json()) as { expiresAt: string };
    t.ok(Math.abs(Date.parse(body.expiresAt) - (Date.now() + 61_000 + 900_000)) < 2_000, 'default ttl: 15 minutes (on the moved clock)');
  });

  t.test('every interpolation is escaped: a key label of markup shows as text', async (t) => {
    const label = '<img src=x onerror=alert(1)>';
    await fetch(`${a}/admin/accounts/acct/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ label }) });
    const c = cookieOf(await fetch(`${a}/dashboard/login`, form({ role: 'operator', token: ADMIN_TOKEN })));
    const r = await get('/dashboard/accounts/acct', c);
    t.equal(r.status, 200);
    t.ok(r.headers.get('content-security-policy')!.startsWith("default-src 'self'"));
    const html = await r.text();
    t.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'), 'shown escaped');
    t.notOk(html.includes(label), 'never raw');
    t.ok(html.includes(`<code>${hashKey(TEST_KEY).slice(0, 12)}</code>`), "the key's id is listed");
    t.notOk(html.includes(TEST_KEY), 'the key itself is not (tollgate does not have it)');
  });
});

t.test('dashboard config is validated with clear messages', async (t) => {
  t.throws(() => validateConfig({ dashboard: { linkSecret: 'short' } }, {}, 'test'), /dashboard\.linkSecret is at least 32 characters/);
  t.throws(() => validateConfig({ dashboard: { embedOrigins: ['https://app.example.com/path'] } }, {}, 'test'), /an origin: scheme:\/\/host\[:port\], no path/);
  t.throws(() => validateConfig({ dashboard: { linkTtlSeconds: 7200, linkMaxTtlSeconds: 3600 } }, {}, 'test'), /dashboard\.linkTtlSeconds is at most dashboard\.linkMaxTtlSeconds/);
  const c = validateConfig({ dashboard: { linkSecret: LINK_SECRET } }, {}, 'test');
  t.same(c.dashboard, { enabled: true, linkSecret: LINK_SECRET, sessionTtlSeconds: 28_800, linkTtlSeconds: 900, linkMaxTtlSeconds: 86_400, embedOrigins: [] });
});
