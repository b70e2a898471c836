// The `alerts` config (validated, every problem with its path, the secret from ${VAR}), an
// account's own lists from the config and from PATCH /admin/accounts/:id (audited), and the
// README's signature snippet checking a real signature.

import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { ConfigError, parseConfig } from '../../config/load.js';
import { signAlert } from '../../proxy/alerts/webhook.js';
import { reconcileAccounts } from '../../proxy/reconcile.js';
import { ADMIN_TOKEN, startTollgate } from '../helpers/tollgate.js';

const SECRET = 'whsec_config_test_0123456789abcdef';

t.test('alerts: defaults, ${VAR} secret, lists sorted and deduplicated', async (t) => {
  const c = parseConfig('alerts: { webhookUrl: "https://hooks.example.com/tg", secret: "${ALERTS_SECRET}", thresholds: [100, 50, 50, 80] }', { ALERTS_SECRET: SECRET });
  t.same(c.alerts, {
    webhookUrl: 'https://hooks.example.com/tg',
    secret: SECRET,
    thresholds: [50, 80, 100],
    remainingCredits: [],
    timeoutMs: 10_000,
    retries: 3,
    backoffMs: 1_000,
    maxBackoffMs: 300_000,
    intervalMs: 5_000,
    leaseMs: 60_000,
    sweepEvery: 12,
  });
  t.same(parseConfig('alerts: { webhookUrl: "http://127.0.0.1:9/x", secret: "' + SECRET + '" }', {}).alerts?.thresholds, [50, 80, 100], 'default thresholds');
  t.equal(parseConfig('{}', {}).alerts, undefined, 'absent: alerts off');
});

t.test('alerts: every problem with its path', async (t) => {
  const err = t.throws(() =>
    parseConfig(
      `
alerts: { webhookUrl: "ftp://x.example.com", secret: short, thresholds: [0, 2.5, 1001], remainingCredits: [-1], timeoutMs: 10000, retries: 3, leaseMs: 30000 }
accounts: [{ id: a, alerts: { thresholds: [0], bogus: 1 } }]
`,
      {},
    ),
  ) as ConfigError;
  const paths = err.problems.map((p) => p.split(':')[0]);
  for (const want of ['alerts.webhookUrl', 'alerts.secret', 'alerts.thresholds.0', 'alerts.thresholds.1', 'alerts.thresholds.2', 'alerts.remainingCredits.0', 'accounts.0.alerts.thresholds.0', 'accounts.0.alerts']) {
    t.ok(paths.includes(want), `reports ${want}`);
  }
  const lease = t.throws(() => parseConfig(`alerts: { webhookUrl: "https://h.example.com", secret: "${SECRET}", leaseMs: 40000 }`, {})) as ConfigError;
  t.same(lease.problems, ["alerts.leaseMs: must exceed one event's sends with their retries and backoffs: 47000 ms with these settings"]);
  const unset = t.throws(() => parseConfig('alerts: { webhookUrl: "https://h.example.com", secret: "${ALERTS_SECRET}" }', {})) as ConfigError;
  t.match(unset.problems.join('\n'), /alerts\.secret/, 'an unset ${VAR} leaves the secret missing: refused');
  const placeholder = t.throws(() => parseConfig('alerts: { webhookUrl: "https://h.example.com", secret: "whsec_change_me_0000000000" }', {})) as ConfigError;
  t.match(placeholder.problems.join('\n'), /alerts\.secret: "whsec_change_me_0000000000" is a documented placeholder/);
});

t.test('an account’s own lists: from the config, PATCHed, audited, reconciled, applied by the ledger', async (t) => {
  const tg = await startTollgate(
    {
      alerts: { webhookUrl: 'http://127.0.0.1:9/hooks', secret: SECRET, intervalMs: 60_000 },
      accounts: [{ id: 'acct', tier: 'free', apiKeys: ['tg_test_key_0000000000000000000001'], alerts: { thresholds: [90, 90], remainingCredits: [500] } }],
    },
    { env: {} },
  );
  t.teardown(() => tg.close());
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${tg.adminUrl}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  let r: any = await (await admin('GET', '/admin/accounts/acct')).json();
  t.same(r.account.alerts, { thresholds: [90], remainingCredits: [500] }, 'from the config');

  r = await (await admin('PATCH', '/admin/accounts/acct', { alerts: { thresholds: [70, 30, 30] } })).json();
  t.same(r.account.alerts, { thresholds: [30, 70] }, 'replaced: the remaining-credit list falls back to the config’s');
  const audit: any = await (await admin('GET', '/admin/audit?account=acct&limit=1')).json();
  t.match(audit.entries[0], { action: 'account.updated', before: { alerts: { thresholds: [90], remainingCredits: [500] } }, after: { alerts: { thresholds: [30, 70] } } });
  const bad = await admin('PATCH', '/admin/accounts/acct', { alerts: { thresholds: [0] } });
  t.equal(bad.status, 400);
  t.equal(((await bad.json()) as any).error.code, 'invalid_request');

  // The ledger records with the account's list: 30% of 2,500 is 750 credits.
  const ledger = tg.app.ledger as typeof tg.app.ledger & { alerts: import('../../ledger/types.js').AlertOutbox };
  await ledger.settle({ accountId: 'acct', requestId: 'r1', modality: 'llm', provider: 'openai', byok: false, microCredits: 750_000_000, units: {}, outcome: 'ok' });
  t.same((await ledger.alerts.waiting('acct')).map((x) => [x.token, x.usedMicro]), [['p30', 750_000_000]]);

  r = await (await admin('PATCH', '/admin/accounts/acct', { alerts: null })).json();
  t.equal(r.account.alerts, undefined, 'null: back to the config’s lists');

  // The config again at a restart: the account is made to match it.
  await reconcileAccounts(ledger, [{ id: 'acct', tier: 'free', apiKeys: ['tg_test_key_0000000000000000000001'], alerts: { remainingCredits: [100] } }], pino({ level: 'silent' }));
  t.same((await ledger.getAccount('acct'))?.alerts, { remainingMicro: [100_000_000] });
  await reconcileAccounts(ledger, [{ id: 'acct', tier: 'free', apiKeys: ['tg_test_key_0000000000000000000001'] }], pino({ level: 'silent' }));
  t.equal((await ledger.getAccount('acct'))?.alerts, undefined, 'taken out of the config: the config’s lists again');
});

t.test('the README’s verification snippet accepts a tollgate signature and refuses a forged one', async (t) => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const m = /```js\n\/\/ docs:alerts\n([\s\S]*?)```/.exec(readme);
  t.ok(m, 'the snippet is in the README');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-readme-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'verify.mjs'), m![1]!);
  const { verifyTollgateSignature } = (await import(pathToFileURL(join(dir, 'verify.mjs')).href)) as { verifyTollgateSignature: (s: string, h: string, b: string) => boolean };
  const body = '{"id":"tga_acme_1767225600_p80","type":"credits.threshold_crossed"}';
  const header = signAlert(SECRET, Math.floor(Date.now() / 1000), body);
  t.equal(verifyTollgateSignature(SECRET, header, body), true);
  t.equal(verifyTollgateSignature('whsec_another_secret_000000000000', header, body), false);
  t.equal(verifyTollgateSignature(SECRET, header, body.replace('p80', 'p50')), false);
  t.equal(verifyTollgateSignature(SECRET, signAlert(SECRET, Math.floor(Date.now() / 1000) - 3600, body), body), false, 'an hour old: refused');
  t.equal(verifyTollgateSignature(SECRET, 't=1,v1=zz', body), false);
});
