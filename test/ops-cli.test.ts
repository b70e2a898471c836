// The admin CLI against a running tollgate: create an account, set its tier, issue, list and
// revoke a key — each a real `node dist/bin/tollgate.js …` process; errors exit non-zero.
import t from 'tap';
import { execFile } from 'node:child_process';
import { startTollgate, ADMIN_TOKEN } from './helpers/tollgate.js';
import { TOLLGATE_BIN } from './helpers/ops-process.js';

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // --json: the API's answer, parsed below (the default output is a table: test/ops/cli-output.test.ts).
    const json = args[0] === '--help' ? [] : ['--json'];
    execFile(process.execPath, [TOLLGATE_BIN, ...args, ...json], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

t.test('tollgate accounts / keys against the admin API', async (t) => {
  const tg = await startTollgate();
  t.teardown(() => tg.close());
  const env = { TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN, TOLLGATE_ADMIN_URL: tg.adminUrl };

  let r = await cli(['accounts', 'create', 'acme', '--tier', 'starter'], env);
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { account: { id: 'acme', tier: 'starter' } });

  r = await cli(['accounts', 'set-tier', 'acme', 'pro', '--admin-url', tg.adminUrl], { TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN });
  t.equal(r.code, 0, r.stderr);
  t.equal((await tg.app.ledger.getAccount('acme'))?.tier, 'pro');

  r = await cli(['keys', 'issue', 'acme', '--label', 'ci'], env);
  t.equal(r.code, 0, r.stderr);
  const issued = JSON.parse(r.stdout) as { id: string; key: string };
  t.match(issued.key, /^tg_[0-9A-Za-z]{32}$/);
  t.match(r.stderr, /shown once/);
  t.equal(await tg.app.auth.resolve(issued.key), 'acme');
  t.equal(tg.app.auth.cached(issued.key), 'acme', 'now answered from the cache without waiting');

  r = await cli(['keys', 'list', 'acme'], env);
  t.same(JSON.parse(r.stdout).keys.map((k: { id: string; label: string }) => [k.id, k.label]), [[issued.id, 'ci']]);
  t.notOk(r.stdout.includes(issued.key), 'list never shows the key');

  r = await cli(['accounts', 'list'], env);
  t.same(JSON.parse(r.stdout).accounts.map((a: { id: string }) => a.id), ['acct', 'acme']);
  r = await cli(['accounts', 'get', 'acme'], env);
  t.match(JSON.parse(r.stdout), { account: { id: 'acme', tier: 'pro' }, usage: { credits: { used: 0, limit: 200000 }, requestCount: 0 } });

  r = await cli(['keys', 'revoke', issued.id], env);
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { id: issued.id, revoked: true });
  t.equal(tg.app.auth.cached(issued.key), undefined, 'the revocation evicted the cached key');
  t.equal(await tg.app.auth.resolve(issued.key), null);

  r = await cli(['accounts', 'get', 'nobody'], env);
  t.equal(r.code, 1);
  t.match(r.stderr, /404 unknown_account/);
  r = await cli(['accounts', 'list'], { TOLLGATE_ADMIN_URL: tg.adminUrl, TOLLGATE_ADMIN_TOKEN: 'wrong_token_0000000000' });
  t.equal(r.code, 1);
  t.match(r.stderr, /401 invalid_admin_token/);
  r = await cli(['accounts', 'list'], { TOLLGATE_ADMIN_URL: tg.adminUrl, TOLLGATE_ADMIN_TOKEN: '' });
  t.equal(r.code, 2);
  t.match(r.stderr, /TOLLGATE_ADMIN_TOKEN/);
  r = await cli(['--help'], {});
  t.equal(r.code, 0);
  for (const cmd of ['accounts create', 'accounts list', 'accounts get', 'accounts set-tier', 'keys issue', 'keys list', 'keys revoke', 'byok rotate', '--workers', 'demo']) {
    t.ok(r.stdout.includes(cmd), `--help documents ${cmd}`);
  }
});
