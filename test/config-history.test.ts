// The usage history's config: an account's timeZone is an IANA zone, the retention and receipt
// cap have bounds (hourly buckets at least 7 days: burnRate reads them), each problem with its path.
import t from 'tap';
import { ConfigError, parseConfig } from '../config/load.js';

t.test('defaults: 35 days of hours, 400 of days, 1,000 receipts; UTC unless an account names a zone', async (t) => {
  const c = parseConfig('accounts: [{ id: a, timeZone: Europe/Paris }, { id: b }]', {});
  t.same(c.history, { enabled: true, hourlyRetentionDays: 35, dailyRetentionDays: 400, receiptsPerAccount: 1000 });
  t.equal(c.accounts[0]!.timeZone, 'Europe/Paris');
  t.equal(c.accounts[1]!.timeZone, undefined);
});

t.test('a bad zone or retention is reported with its path and why', async (t) => {
  const err = t.throws(() => parseConfig('history: { hourlyRetentionDays: 3, dailyRetentionDays: 0, receiptsPerAccount: -1 }\naccounts: [{ id: a, timeZone: Mars/Olympus }]', {})) as ConfigError;
  t.type(err, ConfigError);
  const by = Object.fromEntries(err.problems.map((p) => [p.split(':')[0], p]));
  t.match(by['accounts.0.timeZone'], /an IANA time zone such as Europe\/Paris or UTC/);
  t.match(by['history.hourlyRetentionDays'], /at least 7: \/v1\/usage burnRate reads the last 7 days/);
  t.ok(by['history.dailyRetentionDays']);
  t.ok(by['history.receiptsPerAccount']);
});
