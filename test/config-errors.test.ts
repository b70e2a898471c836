// A bad config lists every problem at once, each with its path.
import t from 'tap';
import { ConfigError, parseConfig } from '../config/load.js';
import { defaultConfig } from '../config/defaults.js';

t.test('every problem is reported at once with its path', async (t) => {
  const yaml = `
proxy: { port: 99999 }
admin: { token: short }
providers:
  openai: { baseUrl: not-a-url }
  nosuch: { apiKey: x }
  kokoro: { apiKey: x }
accounts:
  - { id: a, tier: gold, apiKeys: [tooshort] }
  - { id: a, apiKeys: [] }
unknownTopLevel: 1
`;
  const err = t.throws(() => parseConfig(yaml, {})) as ConfigError;
  t.type(err, ConfigError);
  const paths = err.problems.map((p) => p.split(':')[0]);
  for (const want of ['proxy.port', 'admin.token', 'providers.openai.baseUrl', 'providers', 'accounts.0.tier', 'accounts.0.apiKeys.0', '(root)']) {
    t.ok(paths.includes(want), `reports ${want}`);
  }
  t.ok(err.problems.length >= 7, `${err.problems.length} problems listed`);
});

t.test('a cross-field problem is reported after the schema passes', async (t) => {
  const err = t.throws(() => parseConfig('providers: { kokoro: { apiKey: x } }\naccounts: [{id: a}, {id: a}]', {})) as ConfigError;
  t.same(err.problems.sort(), ['accounts.1.id: duplicate account id a', 'providers.kokoro.baseUrl: kokoro is self-hosted and has no default baseUrl'].sort());
});

t.test('an unset ${VAR} inside a longer string is an error; ${VAR:-default} is not', async (t) => {
  const err = t.throws(() => parseConfig('redis: { url: "redis://${REDIS_HOST}:6379" }', {})) as ConfigError;
  t.same(err.problems, ['redis.url: environment variable REDIS_HOST is not set']);
  const c = parseConfig('redis: { url: "redis://${REDIS_HOST:-localhost}:6379" }', {});
  t.equal(c.redis?.url, 'redis://localhost:6379');
});

t.test('YAML cannot be injected through an environment value', async (t) => {
  const c = parseConfig('providers: { openai: { apiKey: "${K}" } }', { K: 'x\nadmin: { port: 1 }' });
  t.equal(c.providers.openai?.apiKey, 'x\nadmin: { port: 1 }');
  t.equal(c.admin.port, 8081);
});

t.test('embedded defaults: demo account, in-memory ledger, keys from the environment', async (t) => {
  const d = defaultConfig({ OPENAI_API_KEY: 'sk-1' });
  t.match(d.demoKey, /^tg_[0-9A-Za-z]{32}$/);
  t.equal(d.config.redis, undefined);
  t.same(d.config.accounts, [{ id: 'demo', tier: 'free', apiKeys: [d.demoKey] }]);
  t.equal(d.config.providers.openai?.apiKey, 'sk-1');
  t.equal(d.config.providers.anthropic, undefined);
});

t.test('a provider baseUrl with a version path is refused: the client path carries /v1', async (t) => {
  const { parseConfig } = await import('../config/load.js');
  t.throws(() => parseConfig('providers: { openai: { baseUrl: "https://api.openai.com/v1" } }', {}), {
    message: /providers\.openai\.baseUrl: leave out the version path \(\/v1\): the client's path carries it/,
  });
});

t.test('realtime.sessionLeaseMs: 1 s to 10 min, each bound named', async (t) => {
  for (const [v, msg] of [
    [500, 'realtime.sessionLeaseMs: realtime.sessionLeaseMs is at least 1000 (sessions renew every third of it)'],
    [600_001, 'realtime.sessionLeaseMs: realtime.sessionLeaseMs is at most 600000 (a crashed process holds its sessions that long)'],
  ] as const) {
    const err = t.throws(() => parseConfig(`realtime: { sessionLeaseMs: ${v} }`, {})) as ConfigError;
    t.same(err.problems, [msg]);
  }
  t.equal(parseConfig('realtime: { sessionLeaseMs: 1000 }', {}).realtime.sessionLeaseMs, 1_000);
  t.equal(parseConfig('', {}).realtime.sessionLeaseMs, 30_000, 'default 30 s');
});
