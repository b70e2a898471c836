// With the in-memory ledger, `--workers 4` runs one process (state cannot be shared) and says why.
import t from 'tap';
import { startOpsProcess, logRecords } from './helpers/ops-process.js';

t.test('in-memory ledger forces 1 worker', async (t) => {
  const tg = await startOpsProcess({ accounts: [{ id: 'acme', apiKeys: ['tg_memory_workers_key_0000000001'] }] }, ['--workers', '4']);
  t.teardown(() => tg.stop('SIGKILL'));
  const warned = tg.logs.map((l) => JSON.parse(l) as { msg: string; workers?: number }).filter((r) => /in-memory ledger/.test(r.msg));
  t.equal(warned.length, 1);
  t.equal(warned[0]!.workers, 1);
  t.match(warned[0]!.msg, /running 1/);
  await new Promise((r) => setTimeout(r, 500));
  t.equal(logRecords(tg, 'tollgate listening').length, 1, 'one process listening');
  t.equal(logRecords(tg, 'starting workers').length, 0, 'no cluster');
  t.equal(await tg.stop('SIGTERM'), 0);
});
