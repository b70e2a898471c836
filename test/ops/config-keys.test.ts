// API keys in config (accounts[].apiKeys) are stored as SHA-256: safe for long random keys,
// guessable offline for short or patterned ones. So a key under 32 characters, with
// whitespace, or with fewer than 8 distinct characters is refused at start, its path named
// and the key itself never printed; auth.allowWeakKeys (demos, tests) accepts them.
import t from 'tap';
import { ConfigError, parseConfig, validateConfig } from '../../config/load.js';
import { defaultConfig } from '../../config/defaults.js';

t.test('weak config keys are refused with their path, never echoed', async (t) => {
  const short = 'tg_short_key_0123456789';
  const patterned = 'a'.repeat(20) + 'b'.repeat(20);
  const spaced = 'tg_good_length_key with_a_space_0123';
  const err = t.throws(() =>
    validateConfig({ accounts: [{ id: 'a', apiKeys: ['tg_Vh3kQ9zL2mXw8RtY5pNcQ7dF4gH2jK6s', short] }, { id: 'b', apiKeys: [patterned, spaced] }] }, {}),
  ) as ConfigError;
  t.type(err, ConfigError);
  t.same(
    err.problems.map((p) => p.split(';')[0]),
    [
      'accounts.0.apiKeys.1: an API key from config is at least 32 characters (this one has 23)',
      'accounts.1.apiKeys.0: an API key from config needs at least 8 distinct characters (this one has 2): too little entropy',
      'accounts.1.apiKeys.1: an API key may not contain whitespace or control characters',
    ],
  );
  for (const k of [short, patterned, spaced]) t.notOk(err.message.includes(k), 'the key is not in the message');
  t.match(err.problems[0], /auth\.allowWeakKeys: true accepts it/);
});

t.test('listed beside schema problems; allowWeakKeys accepts; the demo mode allows its key', async (t) => {
  const err = t.throws(() => parseConfig('proxy: { port: 99999 }\naccounts: [{ id: a, apiKeys: [tooshort] }]', {})) as ConfigError;
  t.same(err.problems.map((p) => p.split(':')[0]).sort(), ['accounts.0.apiKeys.0', 'proxy.port']);
  const c = parseConfig('auth: { allowWeakKeys: true }\naccounts: [{ id: a, apiKeys: [tooshort-but-allowed] }]', {});
  t.same(c.accounts[0]!.apiKeys, ['tooshort-but-allowed']);
  const d = defaultConfig({ TOLLGATE_DEMO_KEY: 'demo_key_16_char' });
  t.same(d.config.accounts[0]!.apiKeys, ['demo_key_16_char']);
  t.equal(d.config.auth.allowWeakKeys, true);
});
