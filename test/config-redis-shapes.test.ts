// redis: takes exactly one of url, cluster, sentinel, each validated with its path and reason.
import t from 'tap';
import { ConfigError, parseConfig } from '../config/load.js';

const problems = (yaml: string) => (t.throws(() => parseConfig(yaml, {})) as ConfigError).problems;

t.test('a cluster by seed nodes, with the operator options and their defaults', async (t) => {
  const c = parseConfig(
    'redis: { cluster: { nodes: [redis://10.0.0.1:6379, rediss://10.0.0.2:6380], password: p, natMap: { "172.30.0.2:6379": { host: 127.0.0.1, port: 7001 } } } }',
    {},
  );
  t.same(c.redis?.cluster, {
    nodes: ['redis://10.0.0.1:6379', 'rediss://10.0.0.2:6380'],
    password: 'p',
    natMap: { '172.30.0.2:6379': { host: '127.0.0.1', port: 7001 } },
    tls: false,
    slotsRefreshInterval: 5000,
  });
  t.equal(c.redis?.url, undefined);
});

t.test('a sentinel group', async (t) => {
  const c = parseConfig('redis: { sentinel: { name: mymaster, sentinels: [redis://10.0.0.5:26379], sentinelPassword: s } }', {});
  t.same(c.redis?.sentinel, { name: 'mymaster', sentinels: ['redis://10.0.0.5:26379'], sentinelPassword: 's', tls: false });
});

t.test('none, or two, of url / cluster / sentinel is refused with the reason', async (t) => {
  t.same(problems('redis: { keyPrefix: x }'), [
    'redis: give one of redis.url (one Redis), redis.cluster (a Redis Cluster) or redis.sentinel (a master found through Sentinel)',
  ]);
  t.same(problems('redis: { url: redis://a:6379, cluster: { nodes: [redis://b:6379] } }'), ['redis: give only one of redis.url, redis.cluster, redis.sentinel (got url and cluster)']);
});

t.test('bad cluster and sentinel values name their paths', async (t) => {
  const p = problems('redis: { cluster: { nodes: [], slotsRefreshInterval: 5, natMap: { nohost: { host: h, port: 1 } } } }');
  t.ok(p.includes('redis.cluster.nodes: redis.cluster.nodes lists at least one seed node (redis://host:port)'), p.join('\n'));
  t.ok(p.includes('redis.cluster.slotsRefreshInterval: redis.cluster.slotsRefreshInterval is in ms, at least 100'), p.join('\n'));
  t.ok(p.some((x) => x.startsWith('redis.cluster.natMap.nohost: ')), p.join('\n'));
  t.same(problems('redis: { cluster: { nodes: [10.0.0.1:6379] } }'), ['redis.cluster.nodes.0: a redis:// or rediss:// URL']);
  const s = problems('redis: { sentinel: { name: "", sentinels: [] } }');
  t.ok(s.includes('redis.sentinel.name: redis.sentinel.name is the monitored master group'), s.join('\n'));
  t.ok(s.includes('redis.sentinel.sentinels: redis.sentinel.sentinels lists at least one sentinel (redis://host:26379)'), s.join('\n'));
});
