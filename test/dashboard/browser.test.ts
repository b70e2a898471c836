// The dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium driven by
// puppeteer-core, no download), one launch for the file. An operator logs in with the form and
// reads the overview and an account; a customer logs in with its key; a signed link opens one
// account's page. On every page: the figures equal the JSON API's to the micro-credit, each
// chart's canvas has drawn pixels, every request stays on the admin origin, the console has no
// error (a CSP violation is one), the CSP header is there, and a 375 px viewport needs no
// horizontal scroll. Screenshots go to test-artifacts/dashboard/.

import t from 'tap';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Page, type HTTPResponse } from 'puppeteer-core';
import { ADMIN_TOKEN, startDashboardStack, TEST_KEY } from '../helpers/dashboard.js';

// Functions passed to page.evaluate run in the page; the project compiles without the DOM lib.
declare const document: any;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/dashboard/', import.meta.url));
const noCommas = (s: string | null | undefined) => (s ?? '').replace(/,/g, '').trim();

t.test('the dashboard in Chromium', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}` }, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // Alerts at 1% (25 credits of acct's 2,500): acct's 30.5 crosses it, bob's 12 of 50,000 does not.
  // The webhook is a closed port and the next run an hour away: it stays waiting.
  const s = await startDashboardStack({ raw: { alerts: { webhookUrl: 'http://127.0.0.1:9/hooks', secret: 'whsec_browser_test_0123456789abcdef', thresholds: [1], intervalMs: 3_600_000 } } });
  t.teardown(() => s.close());
  const origin = new URL(s.adminUrl).origin;
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'] });
  t.teardown(() => browser.close());

  const offOrigin: string[] = [];
  const consoleErrors: string[] = [];
  const watch = (page: Page) => {
    page.on('request', (r) => {
      if (new URL(r.url()).origin !== origin) offOrigin.push(r.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${String(e)}`));
    return page;
  };
  const page = watch(await browser.newPage());
  await page.setViewport({ width: 1200, height: 900 });

  /** Charts drawn: every [data-chart] holds a canvas with non-transparent pixels. */
  const drawnCharts = (p: Page) =>
    p.evaluate(() =>
      [...document.querySelectorAll('[data-chart]')].map((el) => {
        const c = el.querySelector('canvas');
        if (!c) return { id: el.id, painted: 0 };
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) painted++;
        return { id: el.id, painted };
      }),
    );
  const text = (p: Page, selector: string) => p.$eval(selector, (e) => e.textContent);
  const checkPage = async (t: Tapish, p: Page, response: HTTPResponse | null, name: string) => {
    t.ok(response, `${name}: a response`);
    t.equal(response!.status(), 200, `${name}: 200`);
    t.match(response!.headers()['content-security-policy'], /^default-src 'self'; script-src 'self'; style-src 'self';/, `${name}: CSP header`);
    await p.waitForSelector('html[data-charts]');
    const charts = await drawnCharts(p);
    t.ok(charts.length >= 2, `${name}: ${charts.length} charts`);
    for (const c of charts) t.ok(c.painted > 500, `${name}: chart ${c.id} has drawn pixels (${c.painted})`);
    await p.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
  };
  type Tapish = typeof t;

  await t.test('operator: login form, overview, account page', async (t) => {
    const login = await page.goto(`${s.adminUrl}/dashboard`);
    t.equal(new URL(page.url()).pathname, '/dashboard/login', 'sent to the login form');
    t.match(login!.headers()['content-security-policy'], /frame-ancestors 'none'/);
    await page.type('#token', ADMIN_TOKEN);
    const [overview] = await Promise.all([page.waitForNavigation(), page.click('form.login:first-of-type button')]);
    t.equal(new URL(page.url()).pathname, '/dashboard');
    t.notMatch(page.url(), ADMIN_TOKEN, 'the token is not in the URL');
    const cookies = await browser.cookies();
    t.match(cookies.find((c) => c.name === 'tg_dash'), { httpOnly: true, sameSite: 'Strict', path: '/dashboard' });
    await checkPage(t, page, overview, 'overview');

    // The accounts table equals GET /admin/usage, exactly.
    const api = (await s.admin('/admin/usage?sort=used')).accounts as { account: string; tier: string; credits: { used: number; limit: number; overage: number }; requestCount: number }[];
    t.same(api.map((r) => r.account), ['acct', 'bob']);
    const rows = await page.$$eval('table[data-table="accounts"] tbody tr', (trs) =>
      trs.map((tr) => ({ account: tr.getAttribute('data-account'), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) })),
    );
    t.same(
      rows.map((r) => ({ account: r.account, tier: r.cells[0], used: Number(noCommas(r.cells[2])), limit: Number(noCommas(r.cells[3])), overage: Number(noCommas(r.cells[4])), requests: Number(r.cells[5]) })),
      api.map((r) => ({ account: r.account, tier: r.tier, used: r.credits.used, limit: r.credits.limit, overage: r.credits.overage, requests: r.requestCount })),
    );
    t.same(rows.map((r) => Number(noCommas(r.cells[2]))), [30.5, 12], 'acct 30.5, bob 12 credits');
    const lastRequest = (await s.admin('/admin/usage?sort=used')).accounts.map((r: { lastRequestAt: string }) => r.lastRequestAt.slice(0, 16).replace('T', ' ') + ' UTC');
    t.same(rows.map((r) => r.cells[6]), lastRequest, 'last request as GET /admin/usage (to the minute)');
    // Today's bar: 42.5 credits, of which llm 38.5 and tts 4.
    const today = await page.$$eval('table[data-table="c-daily"] tbody tr', (trs) => {
      const last = trs[trs.length - 1]!;
      const head = [...last.closest('table')!.querySelectorAll('thead th')].map((th) => th.textContent);
      return Object.fromEntries([...last.children].map((c, i) => [head[i], c.textContent]));
    });
    t.equal(noCommas(today.llm), '38.5');
    t.equal(noCommas(today.tts), '4');
    t.equal(noCommas(today.Total), '42.5');
    t.same(await page.$$eval('table[data-table="models"] tbody th', (ths) => ths.map((th) => th.textContent)), ['gpt-4.1', 'kokoro', 'gpt-4.1-mini'], 'top models: 36, 4, 2.5 credits');
    // Alerts fired this period: exactly acct's one row, as GET /admin/accounts/acct/alerts.
    const fired = await page.$$eval('table[data-table="alerts"] tbody tr', (trs) =>
      trs.map((tr) => [tr.getAttribute('data-account'), ...['type', 'threshold', 'state'].map((c) => tr.querySelector(`[data-col="${c}"]`)?.textContent)]),
    );
    t.same(fired, [['acct', 'credits.threshold_crossed', '1%', 'waiting']]);
    t.same((await s.admin('/admin/accounts/acct/alerts')).alerts.map((a: { type: string; threshold: number; state: string }) => [a.type, a.threshold, a.state]), [['credits.threshold_crossed', 1, 'waiting']]);

    // Keyboard: Tab reaches the skip link first, then the nav, the logout button and the table regions.
    await page.keyboard.press('Tab');
    t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    const reached: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => `${document.activeElement?.tagName}:${document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent?.trim().slice(0, 20)}`));
    }
    t.ok(reached.includes('BUTTON:Log out'), 'the logout button is reachable');
    t.ok(reached.includes('DIV:Accounts'), 'the accounts table region is focusable (scrolls by keyboard)');

    const [account] = await Promise.all([page.waitForNavigation(), page.click('a[href="/dashboard/accounts/acct"]')]);
    await checkPage(t, page, account, 'account');
    const detail = await s.admin('/admin/accounts/acct');
    t.equal(Number(noCommas(await text(page, '[data-stat="used"]'))), detail.usage.credits.used);
    t.equal(Number(noCommas(await text(page, '[data-stat="limit"]'))), detail.usage.credits.limit);
    t.equal(await text(page, '[data-stat="tier"]'), detail.account.tier);
    const keys = await page.$$eval('table[data-table="keys"] tbody code', (c) => c.map((x) => x.textContent));
    t.same(keys, (await s.admin('/admin/accounts/acct/keys')).keys.map((k: { id: string }) => k.id));
    t.notOk((await page.content()).includes(TEST_KEY), 'no key secret on the page');
    t.equal(await page.$$eval('table[data-table="receipts"] tbody tr', (r) => r.length), 4, 'four receipts');
  });

  await t.test('customer: key login, its own figures, phone width, no JavaScript', async (t) => {
    await page.click('form.logout button');
    await page.waitForSelector('#key');
    await page.type('#key', TEST_KEY);
    const [me] = await Promise.all([page.waitForNavigation(), page.click('form.login:last-of-type button')]);
    t.equal(new URL(page.url()).pathname, '/dashboard/me');
    await checkPage(t, page, me, 'customer');
    const usage = await s.tg.usage();
    t.equal(Number(noCommas(await text(page, '[data-stat="used"]'))), usage.credits.used);
    t.equal(Number(noCommas(await text(page, '[data-stat="limit"]'))), usage.credits.limit);
    t.equal(Number(noCommas(await text(page, '[data-stat="remaining"]'))), usage.credits.remaining);
    t.equal(Number(await text(page, '[data-stat="requests"]')), usage.requestCount);
    t.equal(noCommas(await text(page, '[data-stat="burn-rate"]')), String(usage.burnRate), 'burn rate as /v1/usage: 30.5 / 7 days');
    t.equal(usage.burnRate, 4.357143);
    t.equal(usage.projectedExhaustion, null, 'at that rate the free credits outlast the period');
    t.equal(await text(page, '[data-stat="run-out"]'), 'not this period');
    // The receipts equal GET /v1/usage/events: request ids and credits, newest first.
    const events = (await (await fetch(`${s.adminUrl}/v1/usage/events`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as { events: { requestId: string; credits: number }[] };
    const shown = await page.$$eval('table[data-table="receipts"] tbody tr', (trs) => trs.map((tr) => [tr.querySelector('[data-col="request-id"]')!.textContent, tr.querySelector('[data-col="credits"]')!.textContent]));
    t.same(shown.map(([id, c]) => [id, Number(noCommas(c))]), events.events.map((e) => [e.requestId, e.credits]));
    t.same(events.events.map((e) => e.credits), [4, 2.5, 12, 12]);
    // The CSV download: the day's rows by modality and model, exact.
    const csv = await page.evaluate(async () => (await fetch('/dashboard/me/history.csv')).text());
    t.same(csv.trim().split('\n').slice(1).map((l: string) => l.split(',').slice(1, 5).join(',')).sort(), ['llm,gpt-4.1,24,2', 'llm,gpt-4.1-mini,2.5,1', 'tts,kokoro,4,1']);
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const apiCsv = await (await fetch(`${s.adminUrl}/v1/usage/history?format=csv&granularity=day&groupBy=modality,model&from=${day(Date.now() - 29 * 86_400_000)}&to=${day(Date.now() + 86_400_000)}`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).text();
    t.equal(csv, apiCsv, "the download is the API's own CSV");

    await page.setViewport({ width: 375, height: 800 });
    await page.reload();
    await page.waitForSelector('html[data-charts]');
    t.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 375, 'no horizontal scroll at 375 px');
    for (const c of await drawnCharts(page)) t.ok(c.painted > 300, `375 px: chart ${c.id} drawn`);
    await page.screenshot({ path: `${ARTIFACTS}customer-375.png`, fullPage: true });
    await page.setViewport({ width: 1200, height: 900 });

    const nojs = watch(await browser.newPage());
    await nojs.setJavaScriptEnabled(false);
    await nojs.goto(page.url());
    t.equal(Number(noCommas(await text(nojs, '[data-stat="used"]'))), 30.5, 'numbers without JavaScript');
    t.equal(noCommas(await text(nojs, 'table[data-table="c-daily"] tbody tr:last-child td[data-total]')), '30.5', "today's total in the table");
    await nojs.close();
  });

  await t.test('signed links: account A reads A, never B; expired is refused', async (t) => {
    const ctx = await browser.createBrowserContext();
    t.teardown(() => ctx.close());
    const p = watch(await ctx.newPage());
    await p.setViewport({ width: 1200, height: 900 });
    const bobLink = await s.mintLink('bob', 60);
    const res = await p.goto(`${s.adminUrl}${bobLink}`);
    await checkPage(t, p, res, 'customer-link');
    t.equal(Number(noCommas(await text(p, '[data-stat="used"]'))), 12, "bob's 12 credits");
    t.notOk((await p.content()).includes('30.5'), "acct's figures nowhere on bob's page");
    const csv = await p.evaluate(async (href: string) => (await fetch(href)).text(), (await p.$eval('a[href^="/dashboard/me/receipts.csv"]', (a) => a.getAttribute('href')))!);
    t.equal(csv.trim().split('\n').length, 2, "bob's receipts CSV: a header and bob's one request");
    const acctLink = await s.mintLink('acct', 60);
    const forged = acctLink.replace(/link=([^.]+)/, () => `link=${Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 60, a: 'bob' })).toString('base64url')}`);
    t.equal((await p.goto(`${s.adminUrl}${forged}`))!.status(), 401, "acct's signature on bob's claims is refused");
    s.advance(61_000);
    const expired = await p.goto(`${s.adminUrl}${bobLink}`);
    t.equal(expired!.status(), 401, 'the expired link is refused');
    await p.screenshot({ path: `${ARTIFACTS}link-expired.png` });
    // The refusals above logged their 401s to the console; only those are expected.
    const unexpected = consoleErrors.filter((e) => !/401 \(Unauthorized\)/.test(e));
    consoleErrors.length = 0;
    consoleErrors.push(...unexpected);
  });

  t.same(offOrigin, [], 'no request left the admin origin');
  t.same(consoleErrors, [], 'no console errors');
});
