// The dashboard's pages on the Redis ledger (the browser test runs on the memory ledger): the
// operator's overview and account page and a customer's link page show the workload's exact
// figures read from Redis: 30.5 + 12 credits, today's 38.5 llm + 4 tts, four receipts.

import t from 'tap';
import { startRedis } from '../helpers/redis.js';
import { ADMIN_TOKEN, startDashboardStack } from '../helpers/dashboard.js';

t.test('overview, account and customer pages from Redis', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const s = await startDashboardStack({ raw: { redis: { url: redis.url } } });
  t.teardown(() => s.close());
  t.equal(s.tg.app.ledger.kind, 'redis');
  const login = await fetch(`${s.adminUrl}/dashboard/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ role: 'operator', token: ADMIN_TOKEN }).toString(),
  });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const page = async (path: string, withCookie = true) => {
    const r = await fetch(`${s.adminUrl}${path}`, { headers: withCookie ? { cookie } : {} });
    t.equal(r.status, 200, path);
    return r.text();
  };
  /** The last row of a chart's table: today. */
  const today = (html: string, table: string) => {
    const body = html.split(`<table data-table="${table}">`)[1]!.split('</tbody>')[0]!;
    const rows = body.split('<tr>');
    return [...rows[rows.length - 1]!.matchAll(/<td class="num"[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
  };

  const overview = await page('/dashboard');
  t.match(overview, /<tr data-account="acct">.*?data-col="used">30\.5<.*?data-col="requests">4</s);
  t.match(overview, /<tr data-account="bob">.*?data-col="used">12<.*?data-col="requests">1</s);
  t.same(today(overview, 'c-daily'), ['38.5', '4', '42.5'], 'today: llm 38.5, tts 4, total 42.5');
  t.match(overview, /Ledger \(redis\)<\/dt><dd data-stat="ledger">ready</);

  const account = await page('/dashboard/accounts/acct');
  t.equal((account.split('<table data-table="receipts">')[1]!.split('</tbody>')[0]!.match(/<tr>/g) ?? []).length - 1, 4, 'four receipts (and the header row)');
  t.same(today(account, 'c-models'), ['24', '4', '2.5', '30.5'], 'today by model: gpt-4.1 24, kokoro 4, gpt-4.1-mini 2.5');

  const link = await s.mintLink('acct', 60);
  const customer = await page(link, false);
  t.match(customer, /data-stat="used">30\.5</);
  t.match(customer, /data-stat="burn-rate">4\.357143</);
  t.same(today(customer, 'c-hourly'), ['26.5', '4', '30.5'], 'this hour: llm 26.5, tts 4');
});
