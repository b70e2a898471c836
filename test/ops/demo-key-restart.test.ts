// The embedded defaults with REDIS_URL, restarted: each start's demo key works and the previous
// one is revoked (it used to stay valid, one more live key per restart).
import t from 'tap';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startRedis } from '../helpers/redis.js';
import { TOLLGATE_BIN } from '../helpers/ops-process.js';

async function startDefaults(redisUrl: string): Promise<{ adminUrl: string; key: string; stop(): Promise<unknown> }> {
  const child = spawn(process.execPath, [TOLLGATE_BIN], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REDIS_URL: redisUrl, TOLLGATE_PORT: '0', TOLLGATE_ADMIN_PORT: '0', TOLLGATE_DEMO_KEY: '' } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  const adminUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start in 60 s: ${stderr}`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (!l.includes('"tollgate listening"')) return;
      clearTimeout(timer);
      resolve((JSON.parse(l) as { adminUrl: string }).adminUrl);
    });
  });
  const deadline = Date.now() + 10_000;
  while (!/demo key: (tg_\w+)/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const key = /demo key: (tg_\w+)/.exec(stderr)![1]!;
  return {
    adminUrl,
    key,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

const usage = async (adminUrl: string, key: string) => (await fetch(`${adminUrl}/v1/usage`, { headers: { authorization: `Bearer ${key}` } })).status;

t.test('restart twice on one Redis: only the newest demo key works', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const first = await startDefaults(redis.url);
  t.equal(await usage(first.adminUrl, first.key), 200);
  await first.stop();
  const second = await startDefaults(redis.url);
  t.teardown(() => second.stop());
  t.not(second.key, first.key);
  t.equal(await usage(second.adminUrl, second.key), 200, 'the new demo key works');
  t.equal(await usage(second.adminUrl, first.key), 401, 'the previous one is revoked');
});
