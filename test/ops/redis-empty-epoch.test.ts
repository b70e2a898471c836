// Redis restarted without persistence comes back empty: the ledger's epoch is gone, so /readyz
// goes red (503) with the reason, a metered request gets 503 ledger_unavailable and never
// reaches the provider, and one error line says the ledger came back empty (naming the Redis
// URL). On a tollgate without the epoch, every key answered 401 and /readyz said ready.
// The way out, `tollgate ledger adopt-epoch`, makes it serve again with the config's accounts.

import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { logRecords, startOpsProcess, TOLLGATE_BIN } from '../helpers/ops-process.js';
import { startRedis } from '../helpers/redis.js';
import { startUpstream } from '../helpers/upstream.js';

const KEY = 'tg_empty_epoch_key_00000000000001';

t.test('an emptied Redis is refused, not served as a new ledger; adopt-epoch is the way out', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-epoch-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const up = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg' });
    res.end(Buffer.alloc(64, 1));
  });
  t.teardown(() => up.close());
  const config = {
    redis: { url: redis.url, keyPrefix: 'ep', journal: { dir: join(dir, 'journal') }, epochCheckMs: 500 },
    pricing: { tts: { openai: 15 } },
    providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } },
    accounts: [{ id: 'acme', tier: 'pro', apiKeys: [KEY] }],
  };
  const tg = await startOpsProcess(config, ['--workers', '1']);
  t.teardown(() => tg.stop('SIGKILL'));
  const speech = () =>
    fetch(`${tg.proxyUrl}/openai/v1/audio/speech`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini-tts', voice: 'coral', input: 'a'.repeat(1000) }),
    });
  const readyz = async () => {
    const r = await fetch(`${tg.adminUrl}/readyz`);
    return { status: r.status, body: (await r.json()) as { status: string; ledgerReason?: string } };
  };

  t.equal((await speech()).status, 200);
  t.equal((await readyz()).status, 200);

  await redis.kill();
  await redis.restart(); // no persistence: empty
  const deadline = Date.now() + 20_000;
  let r = await readyz();
  while (r.status !== 503 || !/came back empty/.test(r.body.ledgerReason ?? '')) {
    if (Date.now() > deadline) break;
    await sleep(100);
    r = await readyz();
  }
  t.equal(r.status, 503, '/readyz is red');
  t.match(r.body.ledgerReason, /the ledger came back empty/);
  // Stays red: not a blip.
  await sleep(1_200);
  t.equal((await readyz()).status, 503);

  const calls = up.requests.length;
  const refused = await speech();
  t.equal(refused.status, 503);
  t.equal(refused.headers.get('x-tollgate-error'), 'ledger_unavailable');
  t.match(await refused.json(), { error: { code: 'ledger_unavailable' } });
  t.equal(up.requests.length, calls, 'the provider never saw it');
  const usage = await fetch(`${tg.adminUrl}/v1/usage`, { headers: { authorization: `Bearer ${KEY}` } });
  t.equal(usage.status, 503, 'usage is unavailable too, not a fresh zero');

  await sleep(1_100); // log lines are flushed at least every second
  const lines = tg.logs.filter((l) => l.includes('the ledger came back empty'));
  t.equal(lines.length, 1, 'one error line');
  const line = JSON.parse(lines[0]!) as { level: number; redis: string; msg: string };
  t.equal(line.level, 50, 'at error level');
  t.equal(line.redis, redis.url, 'naming the Redis URL');
  t.match(line.msg, /adopt-epoch/, 'and the way out');
  t.notOk(await (await fetch(`${tg.adminUrl}/readyz`)).ok);

  // The operator's way out: adopt the ledger as it now is, seeding the config's accounts.
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify(config));
  const out = await promisify(execFile)(process.execPath, [TOLLGATE_BIN, 'ledger', 'adopt-epoch', '--config', file]);
  const adopted = JSON.parse(out.stdout) as { epoch: string; replaced: string[]; accountsSeeded: number };
  t.equal(adopted.replaced.length, 1, 'it replaced the epoch this host remembered');
  t.equal(adopted.accountsSeeded, 1);
  r = await readyz();
  while (r.status !== 200 && Date.now() < deadline + 20_000) {
    await sleep(100);
    r = await readyz();
  }
  t.equal(r.status, 200, 'ready again once adopted');
  t.equal((await speech()).status, 200, 'and serving');
  // The settle follows the answer by up to redis openSettleDelayMs (local admission): poll for it.
  const usageNow = async () => (await (await fetch(`${tg.adminUrl}/v1/usage`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as any;
  let after = await usageNow();
  for (const until = Date.now() + 10_000; after.reserved !== 0 && Date.now() < until; after = await usageNow()) await sleep(50);
  t.equal(after.credits.used, 15, 'on the adopted ledger: what Redis lost stays lost (the first 15 credits)');
  t.equal(after.requestCount, 1);
  await sleep(1_100);
  t.equal(logRecords(tg, 'the ledger epoch is back: serving again').length, 1);
});
