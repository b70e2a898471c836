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
  const always = Object.entries(doc.services).filter(([, s]) => !s.profiles).map(([k]) => k);
  t.same(always.sort(), ['redis', 'tollgate-a', 'tollgate-b'], 'without a profile: one Redis, two replicas');
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

t.test('docker-compose.yml, profile cluster: 3 masters + 3 replicas, a one-shot create, two replicas on the cluster', async (t) => {
  const doc = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any>; volumes: Record<string, unknown>; networks: Record<string, any> };
  const inProfile = Object.entries(doc.services).filter(([, s]) => s.profiles?.includes('cluster')).map(([k]) => k);
  const nodes = ['redis-node-1', 'redis-node-2', 'redis-node-3', 'redis-node-4', 'redis-node-5', 'redis-node-6'];
  t.same(inProfile.sort(), [...nodes, 'redis-cluster-init', 'tollgate-cluster-a', 'tollgate-cluster-b'].sort());
  const conf = read('docker/redis-cluster.conf');
  for (const line of ['cluster-enabled yes', 'cluster-config-file nodes.conf', 'appendonly yes', 'port 6379', 'dir /data']) t.match(conf, new RegExp(`^${line}$`, 'm'), `redis-cluster.conf: ${line}`);
  const subnet = doc.networks['redis-cluster'].ipam.config[0].subnet as string;
  const addrs: string[] = [];
  for (const n of nodes) {
    const s = doc.services[n];
    t.same(s.command, ['redis-server', '/usr/local/etc/redis/redis.conf'], `${n} runs the cluster config`);
    t.ok(s.volumes.includes('./docker/redis-cluster.conf:/usr/local/etc/redis/redis.conf:ro'), `${n} mounts docker/redis-cluster.conf`);
    const data = s.volumes.find((v: string) => v.endsWith(':/data')).split(':')[0];
    t.ok(data in doc.volumes, `${n} keeps /data (AOF, nodes.conf) on the named volume ${data}`);
    t.ok(s.healthcheck.test.includes('ping'), `${n} has a healthcheck`);
    const ip = s.networks['redis-cluster'].ipv4_address as string;
    t.equal(ip.split('.').slice(0, 3).join('.'), subnet.split('.').slice(0, 3).join('.'), `${n}'s fixed address is in ${subnet}`);
    addrs.push(`${ip}:6379`);
  }
  t.equal(new Set(addrs).size, 6, 'six distinct node addresses');
  const init = doc.services['redis-cluster-init'];
  for (const n of nodes) t.equal(init.depends_on[n].condition, 'service_healthy', `init waits for ${n}`);
  const script = init.command.join(' ');
  t.match(script, new RegExp(`redis-cli --cluster create ${addrs.join(' ').replace(/\./g, '\\.')} --cluster-replicas 1 --cluster-yes`), 'creates 3 masters with a replica each from all six nodes');
  t.match(script, /cluster_known_nodes:6/, 'a restart finds the cluster formed and skips the create');
  t.match(script, /until .*cluster_state:ok/, 'exits only once the cluster is ok');
  t.equal(init.restart, 'no', 'one shot');
  const cfgEnv = { TOLLGATE_ADMIN_TOKEN: 'a'.repeat(32), TOLLGATE_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') };
  const c = parseConfig(read('docker/tollgate-cluster.yaml'), cfgEnv, 'docker/tollgate-cluster.yaml') as any;
  t.equal(c.redis?.url, undefined, 'the cluster config has no single-node url');
  const seeds = (c.redis.cluster.nodes as string[]).map((u) => u.replace('redis://', ''));
  t.ok(seeds.length >= 3 && seeds.every((s) => addrs.includes(s)), `every seed node is a node of the cluster: ${seeds.join(', ')}`);
  for (const name of ['tollgate-cluster-a', 'tollgate-cluster-b']) {
    const s = doc.services[name];
    t.equal(s.depends_on['redis-cluster-init'].condition, 'service_completed_successfully', `${name} starts once the cluster is created`);
    t.same(s.networks, ['redis-cluster'], `${name} reaches the nodes at the addresses they announce`);
    t.same(s.volumes, ['./docker/tollgate-cluster.yaml:/etc/tollgate/tollgate.yaml:ro']);
    t.match(s.healthcheck.test.join(' '), /\/readyz/, `${name} has a readiness healthcheck`);
    t.ok(parseInt(s.stop_grace_period, 10) > 30, `${name} stop grace exceeds shutdown.graceMs`);
  }
  const hostPorts = ['tollgate-a', 'tollgate-b', 'tollgate-cluster-a', 'tollgate-cluster-b'].flatMap((n) => doc.services[n].ports.map((p: string) => p.replace(/:\d+$/, '')));
  t.equal(new Set(hostPorts).size, hostPorts.length, 'no two replicas share a host port (both profiles can run at once)');
});
