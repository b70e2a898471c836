// What fired this period, as the operator reads it: a Free account driven to 50/80/100% lists p50,
// p80, p100 and exhausted, waiting before delivery and delivered after one deliverer run against a
// local receiver, the same in the ledger (firedAlerts), GET /admin/accounts/:id/alerts and the
// dashboard's overview and account page (server-rendered tables, readable without JavaScript).
// Memory and Redis ledgers, one tollgate each, one redis-server for the file.

import t from 'tap';
import { startAlertReceiver } from '../helpers/alert-receiver.js';
import { cr } from '../helpers/ledger-pricing.js';
import { startRedis } from '../helpers/redis.js';
import { ADMIN_TOKEN, startTollgate, TEST_KEY } from '../helpers/tollgate.js';

const SECRET = 'whsec_test_fired_list_0123456789ab';
const redis = await startRedis();
t.teardown(() => redis.stop());

/** The alerts table's rows: [account, event, threshold, delivery]. */
function alertRows(html: string): string[][] {
  const table = /<table data-table="alerts">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html);
  if (!table) return [];
  return [...table[1]!.matchAll(/<tr data-account="([^"]*)">([\s\S]*?)<\/tr>/g)].map((m) => [
    m[1]!,
    ...['type', 'threshold', 'state'].map((c) => new RegExp(`data-col="${c}">([^<]*)<`).exec(m[2]!)?.[1] ?? '?'),
  ]);
}

for (const backend of ['memory', 'redis'] as const) {
  t.test(`${backend}: p50, p80, p100 and exhausted fired; waiting, then delivered`, async (t) => {
    const receiver = await startAlertReceiver();
    t.teardown(() => receiver.close());
    const now = Date.UTC(2026, 11, 3, 12, 0, 0);
    const tg = await startTollgate(
      {
        // A run an hour away: this test runs the deliverer itself (the start-up run finds nothing).
        alerts: { webhookUrl: receiver.url, secret: SECRET, thresholds: [50, 80, 100], intervalMs: 3_600_000 },
        accounts: [
          { id: 'acct', tier: 'free', apiKeys: [TEST_KEY] },
          { id: 'bob', tier: 'free' },
        ],
        ...(backend === 'redis' ? { redis: { url: redis.url, keyPrefix: 'fired' } } : {}),
      },
      { clock: { now: () => now } },
    );
    t.teardown(() => tg.close());
    const { ledger } = tg.app;
    const settle = (accountId: string, requestId: string, microCredits: number) =>
      ledger.settle({ accountId, requestId, modality: 'llm', provider: 'openai', byok: false, microCredits, units: {}, outcome: 'ok' });
    // The start-up run (queued at listen) ends before the debits: nothing is delivered behind the test's back.
    await tg.app.alerts!.deliverOnce();
    t.equal(receiver.attempts.length, 0);
    await settle('acct', 'r1', cr(1250)); // 50% of 2,500
    await settle('acct', 'r2', cr(750)); // 80%
    await settle('acct', 'r3', cr(600)); // 100%: capped at 2,500, the rest written off
    await settle('bob', 'b1', cr(1249.999999)); // 1 µcr short of 50%: nothing
    const ps = (await ledger.usage('acct')).period.start;

    const list = (state: string) => [
      { token: 'p50', type: 'credits.threshold_crossed', thresholdType: 'percent', threshold: 50, state, firedAt: now, periodStart: ps },
      { token: 'p80', type: 'credits.threshold_crossed', thresholdType: 'percent', threshold: 80, state, firedAt: now, periodStart: ps },
      { token: 'p100', type: 'credits.threshold_crossed', thresholdType: 'percent', threshold: 100, state, firedAt: now, periodStart: ps },
      { token: 'exhausted', type: 'credits.exhausted', thresholdType: 'percent', threshold: 100, state, firedAt: now, periodStart: ps },
    ];
    const json = (state: string) => ({
      account: 'acct',
      periodStart: new Date(ps).toISOString(),
      alerts: list(state).map(({ periodStart: _ps, ...a }) => ({ id: `tga_acct_${ps / 1000}_${a.token}`, ...a, firedAt: new Date(now).toISOString() })),
    });
    const rows = (state: string) => [
      ['acct', 'credits.threshold_crossed', '50%', state],
      ['acct', 'credits.threshold_crossed', '80%', state],
      ['acct', 'credits.threshold_crossed', '100%', state],
      ['acct', 'credits.exhausted', '100%', state],
    ];
    const admin = async (path: string) => {
      const r = await fetch(`${tg.adminUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      return { status: r.status, body: await r.json() };
    };
    const login = await fetch(`${tg.adminUrl}/dashboard/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ role: 'operator', token: ADMIN_TOKEN }).toString(),
    });
    t.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const page = async (path: string) => {
      const r = await fetch(`${tg.adminUrl}${path}`, { headers: { cookie } });
      t.equal(r.status, 200, path);
      return r.text();
    };

    // Before delivery: all four waiting, everywhere.
    t.same(await ledger.firedAlerts('acct'), { periodStart: ps, alerts: list('waiting') });
    t.same(await ledger.firedAlerts('bob'), { periodStart: null, alerts: [] }, 'bob: nothing fired');
    t.same(await admin('/admin/accounts/acct/alerts'), { status: 200, body: json('waiting') });
    t.same(await admin('/admin/accounts/bob/alerts'), { status: 200, body: { account: 'bob', periodStart: null, alerts: [] } });
    t.same((await admin('/admin/accounts/nobody/alerts')).status, 404);
    const unauth = await fetch(`${tg.adminUrl}/admin/accounts/acct/alerts`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    t.equal(unauth.status, 401, 'a customer key does not read it');
    const overview = await page('/dashboard');
    t.match(overview, /<h2 id="h-alerts">Alerts fired this period<\/h2>/);
    t.same(alertRows(overview), rows('waiting'), 'overview: exactly the four rows of acct, none of bob');
    t.same(alertRows(await page('/dashboard/accounts/bob')), [], "bob's page: no row");
    t.match(await page('/dashboard/accounts/bob'), /No alert fired this period\./);

    // One deliverer run against the receiver: four posts, then all four delivered.
    await tg.app.alerts!.deliverOnce(true);
    t.same(receiver.accepted().map((a) => a.id), json('waiting').alerts.map((a) => a.id), 'the receiver took the four, in order');
    t.same(await ledger.firedAlerts('acct'), { periodStart: ps, alerts: list('delivered') });
    t.same(await admin('/admin/accounts/acct/alerts'), { status: 200, body: json('delivered') });
    t.same(alertRows(await page('/dashboard')), rows('delivered'));
    // The account page has no account column: its rows are the same, minus the account.
    const acctPage = await page('/dashboard/accounts/acct');
    const cells = [...acctPage.matchAll(/data-col="(?:type|threshold|state)">([^<]*)</g)].map((m) => m[1]);
    t.same(cells, rows('delivered').flatMap((r) => r.slice(1)));
  });
}
