// A worker that dies after start is replaced (the re-fork timer used to be unref'd, so the
// primary could exit 0 instead); workers that keep dying soon after start stop the primary, non-zero.
import t from 'tap';
import { startRedis } from '../helpers/redis.js';
import { listeningPids, logRecords, startOpsProcess, waitFor } from '../helpers/ops-process.js';

const KEY = 'tg_worker_restart_key_000000000001';

t.test('a worker killed after start is replaced; the port keeps answering', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const tg = await startOpsProcess({ redis: { url: redis.url }, accounts: [{ id: 'acme', tier: 'pro', apiKeys: [KEY] }], shutdown: { graceMs: 1_000 } }, ['--workers', '2']);
  t.teardown(() => tg.stop('SIGKILL'));
  const two = await waitFor('two workers', () => (listeningPids(tg).length >= 2 ? listeningPids(tg) : undefined));
  process.kill(two[0]!, 'SIGKILL');
  const third = await waitFor('a replacement worker', () => listeningPids(tg).find((p) => !two.includes(p)));
  t.ok(third > 0, 'a new worker is listening');
  t.equal(tg.child.exitCode, null, 'the primary is still running');
  t.equal(logRecords(tg, 'worker died; starting another').length, 1);
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${tg.adminUrl}/v1/usage`, { headers: { authorization: `Bearer ${KEY}`, connection: 'close' } });
    t.equal(res.status, 200);
  }
  t.equal(await tg.stop('SIGTERM', 15_000), 0, 'a graceful stop still exits 0');
});
