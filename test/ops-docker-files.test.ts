// The container files hold together (no Docker engine here; `docker compose config` also
// validates the compose file): the compose config parses as a tollgate config, the compose file
// has Redis with AOF on a volume, two replicas with healthchecks and a stop grace longer than
// tollgate's, and the Dockerfile is multi-stage on node:24-slim, prod deps only, non-root.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseConfig } from '../config/load.js';

const root = new URL('../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');

t.test('docker/tollgate.yaml is a valid config for the replicas', async (t) => {
  const env = { TOLLGATE_ADMIN_TOKEN: 'a'.repeat(32), TOLLGATE_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'), OPENAI_API_KEY: '' };
  const c = parseConfig(read('docker/tollgate.yaml'), env, 'docker/tollgate.yaml');
  t.equal(c.proxy.host, '0.0.0.0');
  t.equal(c.admin.port, 8081);
  t.equal(c.redis?.url, 'redis://redis:6379/0');
  t.equal(c.workers, 2);
  t.equal(c.providers.openai?.apiKey, undefined, 'an empty key means BYOK only');
  t.equal(c.shutdown.graceMs, 30_000);
});

t.test('docker-compose.yml: Redis with AOF, two healthy replicas', async (t) => {
  const doc = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any>; volumes: Record<string, unknown> };
  t.same(Object.keys(doc.services).sort(), ['redis', 'tollgate-a', 'tollgate-b']);
  const redis = doc.services.redis;
  t.ok(redis.command.join(' ').includes('--appendonly yes'));
  t.same(redis.volumes, ['redis-data:/data']);
  t.ok('redis-data' in doc.volumes);
  t.ok(redis.healthcheck.test.includes('ping'));
  for (const name of ['tollgate-a', 'tollgate-b']) {
    const s = doc.services[name];
    t.equal(s.depends_on.redis.condition, 'service_healthy', `${name} waits for Redis`);
    t.match(s.healthcheck.test.join(' '), /\/readyz/, `${name} has a readiness healthcheck`);
    t.ok(parseInt(s.stop_grace_period, 10) > 30, `${name} stop grace exceeds shutdown.graceMs`);
    t.same(s.command, ['serve', '--config', '/etc/tollgate/tollgate.yaml']);
  }
  t.not(doc.services['tollgate-a'].ports[0], doc.services['tollgate-b'].ports[0], 'distinct host ports');
});

t.test('Dockerfile: multi-stage node:24-slim, prod deps, non-root, healthcheck', async (t) => {
  const d = read('Dockerfile');
  t.equal((d.match(/^FROM node:24-slim/gm) ?? []).length, 2);
  t.match(d, /npm ci --omit=dev/);
  t.match(d, /^USER node$/m);
  t.match(d, /^HEALTHCHECK .*\n?.*\/healthz/m);
  t.match(d, /COPY ledger\/scripts/, 'the Lua scripts ship');
  t.match(read('.dockerignore'), /^node_modules$/m);
});

t.test('compose and the container config pass every provider key the README lists', async (t) => {
  const { PROVIDER_ENV } = await import('../config/defaults.js');
  const readme = read('README.md');
  const listed = Object.values(PROVIDER_ENV);
  t.equal(listed.length, 11);
  for (const v of listed) t.ok(readme.includes(v), `README lists ${v}`);
  const doc = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any> };
  const env = Object.fromEntries(listed.map((v) => [v, `key-for-${v}`]));
  const c = parseConfig(read('docker/tollgate.yaml'), { ...env, TOLLGATE_ADMIN_TOKEN: 'a'.repeat(32) }, 'docker/tollgate.yaml');
  for (const [id, v] of Object.entries(PROVIDER_ENV)) {
    for (const name of ['tollgate-a', 'tollgate-b']) t.equal(doc.services[name].environment[v], `\${${v}:-}`, `${name} passes ${v}`);
    t.equal(c.providers[id as keyof typeof c.providers]?.apiKey, `key-for-${v}`, `docker/tollgate.yaml: providers.${id}.apiKey from ${v}`);
  }
});
