// GET /admin/usage: every live account's period, sorted (?sort=used&order=desc) and as CSV,
// exact to the µcr; the CLI prints it as a table by default and as the API's JSON with --json;
// `tollgate --help` lists every command and every environment variable the defaults read. Each row
// carries when the account's last request settled (issue 20), a field settle.lua writes.
import t from 'tap';
import { execFile } from 'node:child_process';
import { startUpstream, json } from '../helpers/upstream.js';
import { ADMIN_TOKEN, startTollgate } from '../helpers/tollgate.js';
import { TOLLGATE_BIN } from '../helpers/ops-process.js';
import { PROVIDER_ENV } from '../../config/defaults.js';

const cli = (args: string[], env: Record<string, string> = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [TOLLGATE_BIN, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
  );

t.test('usage of every account: sorted, CSV, table and --json', async (t) => {
  // 1,000 prompt tokens and 500 completion tokens on gpt-4.1: 12 credits a call.
  const up = await startUpstream((_req, res) => json(res, 200, { id: 'c', object: 'chat.completion', model: 'gpt-4.1', choices: [], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } }));
  t.teardown(() => up.close());
  const keys = { a: 'tg_usage_a_00000000000000000000001', b: 'tg_usage_b_00000000000000000000002', c: 'tg_usage_c_00000000000000000000003' };
  const tg = await startTollgate({
    providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } },
    accounts: [
      { id: 'alpha', tier: 'free', apiKeys: [keys.a] },
      { id: 'bravo', tier: 'starter', apiKeys: [keys.b] },
      { id: 'charlie', tier: 'pro', apiKeys: [keys.c] },
    ],
  });
  t.teardown(() => tg.close());
  const chat = async (key: string, n: number) => {
    for (let i = 0; i < n; i++) {
      const r = await fetch(`${tg.proxyUrl}/openai/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 500 }) });
      t.equal(r.status, 200);
      await r.arrayBuffer();
    }
  };
  await chat(keys.a, 1);
  await chat(keys.b, 3);
  await chat(keys.c, 2);
  await tg.app.pipeline.idle(5_000);
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

  const sorted = (await (await fetch(`${tg.adminUrl}/admin/usage?sort=used&order=desc`, { headers: admin })).json()) as any;
  t.same(
    sorted.accounts.map((r: any) => [r.account, r.tier, r.status, r.credits.used, r.credits.limit, r.credits.overage, r.requestCount]),
    [
      ['bravo', 'starter', 'active', 36, 50000, 0, 3],
      ['charlie', 'pro', 'active', 24, 200000, 0, 2],
      ['alpha', 'free', 'active', 12, 2500, 0, 1],
    ],
  );
  const csvRes = await fetch(`${tg.adminUrl}/admin/usage?sort=requests&order=asc&format=csv`, { headers: admin });
  t.equal(csvRes.headers.get('content-type'), 'text/csv; charset=utf-8');
  const period = sorted.accounts[0].period;
  const last = Object.fromEntries(sorted.accounts.map((r: any) => [r.account, r.lastRequestAt]));
  for (const id of ['alpha', 'bravo', 'charlie']) t.match(last[id], /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, `${id}: last request time`);
  t.ok(Date.parse(last.charlie) >= Date.parse(last.bravo) && Date.parse(last.bravo) >= Date.parse(last.alpha), 'in the order the requests were made');
  const byLast = (await (await fetch(`${tg.adminUrl}/admin/usage?sort=lastRequest`, { headers: admin })).json()) as any;
  t.same(byLast.accounts.map((r: any) => r.account), ['charlie', 'bravo', 'alpha'], 'sort=lastRequest: newest first');
  t.equal(
    await csvRes.text(),
    [
      'account,tier,status,used,limit,overage,requests,period_start,period_end,last_request',
      `alpha,free,active,12,2500,0,1,${period.start},${period.end},${last.alpha}`,
      `charlie,pro,active,24,200000,0,2,${period.start},${period.end},${last.charlie}`,
      `bravo,starter,active,36,50000,0,3,${period.start},${period.end},${last.bravo}`,
      '',
    ].join('\n'),
  );
  t.equal((await fetch(`${tg.adminUrl}/admin/usage?sort=nope`, { headers: admin })).status, 400);

  const env = { TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN, TOLLGATE_ADMIN_URL: tg.adminUrl };
  const table = await cli(['usage', '--sort', 'used'], env);
  t.equal(table.code, 0, table.stderr);
  t.equal(
    table.stdout,
    [
      'ACCOUNT  TIER     STATUS  USED   LIMIT  OVERAGE  REQUESTS  LAST REQUEST',
      `bravo    starter  active    36   50000        0         3  ${last.bravo}`,
      `charlie  pro      active    24  200000        0         2  ${last.charlie}`,
      `alpha    free     active    12    2500        0         1  ${last.alpha}`,
      '',
    ].join('\n'),
  );
  const asJson = await cli(['usage', '--sort', 'used', '--json'], env);
  t.same(JSON.parse(asJson.stdout), sorted, '--json prints the API answer');
  const csv = await cli(['usage', '--csv'], env);
  t.match(csv.stdout, /^account,tier,status,used,limit,overage,requests,period_start,period_end,last_request\nalpha,free,active,12,2500,0,1,/);

  const list = await cli(['accounts', 'list'], env);
  t.match(list.stdout, /^ID +TIER +STATUS +SPEND LIMIT +ORIGIN +STRIPE +CREATED +TIME ZONE\nalpha +free +active +- +config +- +\d{4}-\S+ +UTC\n/);
  const tz = await cli(['accounts', 'set-timezone', 'alpha', 'Europe/Paris', '--json'], env);
  t.equal(JSON.parse(tz.stdout).account.timeZone, 'Europe/Paris');
  t.equal((await tg.app.ledger.getAccount('alpha'))?.timeZone, 'Europe/Paris');
  const badTz = await cli(['accounts', 'set-timezone', 'alpha', 'Mars/Olympus'], env);
  t.equal(badTz.code, 1);
  t.match(badTz.stderr, /IANA time zone/);
  const limit = await cli(['accounts', 'set-limit', 'charlie', '150', '--json'], env);
  t.equal(JSON.parse(limit.stdout).account.overageCapCredits, 150);
  t.equal((await tg.app.ledger.getAccount('charlie'))?.overageCapMicro, 150_000_000);
  const none = await cli(['accounts', 'set-limit', 'charlie', 'none'], env);
  t.match(none.stdout, /^ID .*\ncharlie +pro +active +- +config/);
  t.equal((await tg.app.ledger.getAccount('charlie'))?.overageCapMicro, null);
});

t.test('--help lists every command and environment variable', async (t) => {
  const r = await cli(['--help']);
  t.equal(r.code, 0);
  for (const cmd of ['serve', 'demo', 'accounts create', 'accounts list', 'accounts get', 'accounts set-tier', 'accounts set-limit', 'accounts set-timezone', 'accounts suspend', 'accounts resume', 'accounts delete', 'keys issue', 'keys list', 'keys revoke', 'byok rotate', 'tollgate usage', 'tollgate audit', '--json', '--workers', '--config']) {
    t.ok(r.stdout.includes(cmd), `--help: ${cmd}`);
  }
  for (const v of ['TOLLGATE_CONFIG', 'TOLLGATE_HOST', 'TOLLGATE_PORT', 'TOLLGATE_ADMIN_PORT', 'TOLLGATE_ADMIN_TOKEN', 'TOLLGATE_ADMIN_URL', 'TOLLGATE_DEMO_KEY', 'REDIS_URL', ...Object.values(PROVIDER_ENV)]) {
    t.ok(r.stdout.includes(v), `--help: ${v}`);
  }
});
