// Workers that keep dying soon after start stop the primary, non-zero (a supervisor sees a
// failure, not a process flapping forever), with the re-fork delay doubling meanwhile.
import t from 'tap';
import { startRedis } from '../helpers/redis.js';
import { listeningPids, logRecords, startOpsProcess, waitFor } from '../helpers/ops-process.js';

// Five worker starts in a row: about 2 s each on an idle machine, 10 s on a loaded one.
t.setTimeout(300_000);

t.test('workers dying again and again soon after start: the primary stops non-zero', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const tg = await startOpsProcess({ redis: { url: redis.url }, shutdown: { graceMs: 500 } }, ['--workers', '2']);
  t.teardown(() => tg.stop('SIGKILL'));
  const killed = new Set<number>();
  // Kill each worker as soon as it listens: five quick deaths in a row (backoff 0.5, 1, 2, 4 s).
  while (tg.child.exitCode === null && killed.size < 6) {
    const pid = await waitFor('the next worker', () => (tg.child.exitCode !== null || tg.child.signalCode !== null ? -1 : listeningPids(tg).find((p) => !killed.has(p))), 60_000);
    if (pid === -1) break;
    killed.add(pid);
    // The worker logs 'listening' and then tells the primary over IPC; killed before that message
    // arrives it would count as a worker that never started (stop at once, by design). Give the
    // message time to land: still a quick death (QUICK_DEATH_MS).
    await new Promise((r) => setTimeout(r, 500));
    process.kill(pid, 'SIGKILL');
  }
  t.equal(await tg.exited, 1, 'the primary exits 1');
  t.equal(killed.size, 5, 'after five quick deaths');
  const delays = logRecords(tg, 'worker died; starting another').map((r) => r.restartInMs);
  t.same(delays, [500, 1_000, 2_000, 4_000], 'backing off between restarts');
  t.equal(logRecords(tg, 'workers keep dying soon after start; stopping').length, 1);
});
