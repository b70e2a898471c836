// config.example.yaml parses, with and without its environment variables.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../config/load.js';

const text = readFileSync(new URL('../../config.example.yaml', import.meta.url), 'utf8');

t.test('parses with no environment: defaults fill in, unset keys drop out', async (t) => {
  const c = parseConfig(text, {});
  t.equal(c.proxy.port, 8080);
  t.equal(c.admin.port, 8081);
  t.equal(c.admin.token, undefined);
  t.equal(c.redis?.url, 'redis://127.0.0.1:6379/0');
  t.equal(c.providers.openai?.apiKey, undefined, 'an unset ${OPENAI_API_KEY} means BYOK only');
  t.equal(c.providers.kokoro?.baseUrl, 'http://127.0.0.1:8880');
  t.same(c.accounts[0], { id: 'acme', tier: 'starter', apiKeys: [] }, 'no placeholder key: an unset ${ACME_API_KEY} drops out');
  t.same(c.proxy.maxJsonBodyBytes, { llm: 20971520, tts: 4194304, stt: 65536, rag: 65536 });
  t.equal(c.metrics.token, undefined);
  t.equal(c.stripe?.meterEventName, 'tollgate_overage_credits');
  t.equal(c.stripe?.prices.pro?.overage, 'price_pro_overage');
  t.same(c.pricing.llm?.['mistral:mistral-small-latest'], { input: 1, output: 3 });
});

t.test('parses with the environment set', async (t) => {
  const c = parseConfig(text, {
    TOLLGATE_PORT: '9090',
    TOLLGATE_ADMIN_TOKEN: 'a-very-long-admin-token',
    OPENAI_API_KEY: 'sk-platform',
    REDIS_URL: 'redis://redis:6379/2',
    ACME_API_KEY: 'tg_from_env_Vh3kQ9zL2mXw8RtY5pNc',
  });
  t.equal(c.proxy.port, 9090);
  t.equal(c.admin.token, 'a-very-long-admin-token');
  t.equal(c.providers.openai?.apiKey, 'sk-platform');
  t.equal(c.redis?.url, 'redis://redis:6379/2');
  t.same(c.accounts[0]?.apiKeys, ['tg_from_env_Vh3kQ9zL2mXw8RtY5pNc']);
});
