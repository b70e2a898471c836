// Start or fail loudly (issue 20, row 1-2): a startup failure — Redis unreachable, a port taken,
// a bad master key — exits non-zero within seconds with one stderr line naming what failed and
// where, alone or with 2 workers (the primary used to exit 0 after "worker died; starting another").
import t from 'tap';
import { createServer, type Server } from 'node:net';
import { execFile } from 'node:child_process';
import { runOpsToExit, TOLLGATE_BIN } from '../helpers/ops-process.js';
import { freePort, startRedis } from '../helpers/redis.js';

const ports = { proxy: { port: 0 }, admin: { port: 0 } };

/** How long starting a node process takes on this machine now (the CPU is shared): the 5 s bound is tollgate's own wait on top. */
async function nodeStartMs(): Promise<number> {
  const t0 = performance.now();
  await new Promise((r) => execFile(process.execPath, [TOLLGATE_BIN, '--help'], r));
  return performance.now() - t0;
}
const failureLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('tollgate: cannot start:'));

for (const workers of ['1', '2']) {
  t.test(`Redis unreachable, --workers ${workers}: non-zero within 5 s, one line naming the URL`, async (t) => {
    const startup = await nodeStartMs();
    const r = await runOpsToExit({ ...ports, redis: { url: 'redis://127.0.0.1:6399/0' } }, ['--workers', workers]);
    t.not(r.code, 0, `exit code ${r.code}`);
    // One process starting (with workers: the primary, then a worker loading the whole app), plus at most 5 s of waiting.
    const bound = 5_000 + (Number(workers) === 1 ? 2 : 4) * startup;
    t.ok(r.ms < bound, `exited after ${Math.round(r.ms)} ms (bound ${Math.round(bound)} ms)`);
    t.same(failureLines(r.stderr), ['tollgate: cannot start: Redis at redis://127.0.0.1:6399/0 is unavailable: Connection is closed.']);
    t.notMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  });
}

t.test('the Redis password is redacted in the line', async (t) => {
  const r = await runOpsToExit({ ...ports, redis: { url: 'redis://tg:s3cret-pass@127.0.0.1:6399/0' } }, ['--workers', '2']);
  t.not(r.code, 0);
  t.same(failureLines(r.stderr), ['tollgate: cannot start: Redis at redis://tg:***@127.0.0.1:6399/0 is unavailable: Connection is closed.']);
  t.notMatch(r.stderr + r.stdout, /s3cret-pass/);
});

t.test('port taken: non-zero, the line names host:port, alone and with 2 workers', async (t) => {
  const taken = await freePort();
  const blocker: Server = createServer();
  await new Promise<void>((r) => blocker.listen(taken, '127.0.0.1', r));
  t.teardown(() => blocker.close());
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  for (const [workers, extra] of [
    ['1', {}],
    ['2', { redis: { url: redis.url } }],
  ] as const) {
    const r = await runOpsToExit({ proxy: { port: taken }, admin: { port: 0 }, ...extra }, ['--workers', workers]);
    t.not(r.code, 0, `--workers ${workers}: exit code ${r.code}`);
    const bound = 5_000 + (workers === '1' ? 2 : 4) * (await nodeStartMs());
    t.ok(r.ms < bound, `exited after ${Math.round(r.ms)} ms (bound ${Math.round(bound)} ms)`);
    t.same(failureLines(r.stderr), [`tollgate: cannot start: the proxy port 127.0.0.1:${taken} is already in use (EADDRINUSE)`]);
  }
  const r = await runOpsToExit({ proxy: { port: 0 }, admin: { port: taken } });
  t.same(failureLines(r.stderr), [`tollgate: cannot start: the admin port 127.0.0.1:${taken} is already in use (EADDRINUSE)`]);
  t.not(r.code, 0);
});

t.test('a bad master key: non-zero, one line', async (t) => {
  const r = await runOpsToExit({ ...ports, byok: { masterKey: 'not-32-bytes' } });
  t.equal(r.code, 1);
  t.same(failureLines(r.stderr), ['tollgate: cannot start: bad master key: byok.masterKey must be 32 bytes as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)']);
});
