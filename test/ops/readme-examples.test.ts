// The README's first requests work: every ```bash block marked `# docs:check` is run, line by
// line (`export`s set the environment, each curl runs in bash), against a tollgate started on
// the embedded defaults with that environment — offline, no provider key set. `npm run docs:check`.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { freePort } from '../helpers/redis.js';
import { TOLLGATE_BIN } from '../helpers/ops-process.js';
import { PROVIDER_ENV } from '../../config/defaults.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** The commands of the marked blocks, continuation lines joined, comments dropped. */
function checkedCommands(): string[] {
  const out: string[] = [];
  for (const m of readme.matchAll(/```bash\n# docs:check\n([\s\S]*?)```/g)) {
    const joined = m[1]!.replace(/\\\n\s*/g, ' ');
    for (const line of joined.split('\n')) {
      const cmd = line.replace(/\s+#.*$/, '').trim();
      if (cmd && !cmd.startsWith('#')) out.push(cmd);
    }
  }
  return out;
}

t.test('the README curl examples against the embedded defaults', async (t) => {
  const cmds = checkedCommands();
  t.ok(cmds.length >= 3, `${cmds.length} commands found`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const v of Object.values(PROVIDER_ENV)) delete env[v];
  delete env.REDIS_URL;
  delete env.TOLLGATE_CONFIG;
  for (const c of cmds.filter((c) => c.startsWith('export '))) {
    const [name, value] = c.slice(7).split('=') as [string, string];
    env[name] = value;
  }
  const [proxyPort, adminPort] = [await freePort(), await freePort()];
  env.TOLLGATE_PORT = String(proxyPort);
  env.TOLLGATE_ADMIN_PORT = String(adminPort);
  const child = spawn(process.execPath, [TOLLGATE_BIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tollgate did not start in 60 s')), 60_000);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.includes('"tollgate listening"')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const outputs: string[] = [];
  for (const c of cmds.filter((c) => c.startsWith('curl '))) {
    const cmd = c.replace(/127\.0\.0\.1:8080/g, `127.0.0.1:${proxyPort}`).replace(/127\.0\.0\.1:8081/g, `127.0.0.1:${adminPort}`);
    const r = await new Promise<{ code: number; stdout: string }>((resolve) => execFile('bash', ['-c', cmd], { env }, (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout })));
    t.equal(r.code, 0, `${c.slice(0, 60)}… exits 0`);
    outputs.push(r.stdout);
  }
  t.same(JSON.parse(outputs[0]!), { status: 'ok' }, '/healthz');
  t.match(JSON.parse(outputs[1]!), { credits: { used: 0, limit: 2500, remaining: 2500 }, requestCount: 0, tier: 'free' }, '/v1/usage with the demo key');
  t.match(JSON.parse(outputs[2]!), { error: { code: 'provider_not_configured' } }, 'the chat call says what is missing, as the README says');
  // The Dashboard section's minted link opens the demo account's page.
  const minted = outputs.find((o) => o.includes('"path":"/dashboard/me?link='));
  t.ok(minted, 'the mint answered');
  const link = JSON.parse(minted ?? '{}') as { account: string; path: string };
  t.match(link, { account: 'demo', path: /^\/dashboard\/me\?link=[A-Za-z0-9_.%-]+$/ });
  const page = await fetch(`http://127.0.0.1:${adminPort}${link.path}`);
  t.equal(page.status, 200, 'the minted link opens the customer page');
  t.match(await page.text(), /<title>Usage of demo · tollgate<\/title>/);
});
