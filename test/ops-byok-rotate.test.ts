// Rotating byok.masterKey: with the old key in previousMasterKeys, stored keys still work and are
// re-sealed under the new one — lazily when read, or all at once by POST /admin/byok/rotate;
// after that the old key can be dropped.
import t from 'tap';
import { startRedis } from './helpers/redis.js';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, ADMIN_TOKEN, TEST_KEY } from './helpers/tollgate.js';
import { masterKeyId, parseMasterKey } from '../proxy/secrets.js';

const OLD = Buffer.alloc(32, 1).toString('base64');
const NEW = Buffer.alloc(32, 2).toString('hex');
const kid = (k: string) => masterKeyId(parseMasterKey(k));

t.test('rotation: old key readable, re-sealed lazily and by the rotate command', async (t) => {
  const redis = await startRedis();
  const up = await startUpstream((_req, res) =>
    json(res, 200, { id: 'c1', object: 'chat.completion', model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } }),
  );
  const client = redis.client();
  t.teardown(async () => {
    await up.close();
    await redis.stop();
  });
  const customer = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };
  const start = (byok: Record<string, unknown>) => startTollgate({ redis: { url: redis.url }, providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } }, byok });
  const sealed = async () => client.hgetall('tg:{acct:acct}:secrets');
  const chat = (base: string) =>
    fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: customer, body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }) });

  // 1. Two keys stored under the old master key.
  let tg = await start({ masterKey: OLD });
  for (const [p, key] of [['openai', 'sk-own-openai'], ['anthropic', 'sk-ant-api03-own-key-for-rotation-tests-0001']]) {
    t.equal((await fetch(`${tg.adminUrl}/v1/provider-keys/${p}`, { method: 'PUT', headers: customer, body: JSON.stringify({ key }) })).status, 200);
  }
  await tg.close();
  let s = await sealed();
  t.match(s.openai, new RegExp(`^v1\\.${kid(OLD)}\\.`));
  t.match(s.anthropic, new RegExp(`^v1\\.${kid(OLD)}\\.`));

  // 2. New master key, old one kept as previous: reading openai's key re-seals it.
  tg = await start({ masterKey: NEW, previousMasterKeys: [OLD] });
  t.equal((await chat(tg.base('openai'))).status, 200);
  t.equal(up.requests[0]!.headers.authorization, 'Bearer sk-own-openai');
  await tg.app.pipeline.idle(2_000);
  await new Promise((r) => setTimeout(r, 100)); // the lazy re-seal is fire-and-forget
  s = await sealed();
  t.match(s.openai, new RegExp(`^v1\\.${kid(NEW)}\\.`), 'openai re-sealed on read');
  t.match(s.anthropic, new RegExp(`^v1\\.${kid(OLD)}\\.`), 'anthropic not read yet');

  const rotate = (url: string) => fetch(`${url}/admin/byok/rotate`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const r = await rotate(tg.adminUrl);
  t.equal(r.status, 200);
  t.same(await r.json(), { accounts: 1, keys: 2, resealed: 1, failed: 0 });
  s = await sealed();
  t.match(s.anthropic, new RegExp(`^v1\\.${kid(NEW)}\\.`), 'anthropic re-sealed by rotate');
  t.same(await (await rotate(tg.adminUrl)).json(), { accounts: 1, keys: 2, resealed: 0, failed: 0 }, 'a second rotate has nothing to do');
  await tg.close();

  // 3. The old key dropped: everything still opens.
  tg = await start({ masterKey: NEW });
  t.equal((await chat(tg.base('openai'))).status, 200);
  t.equal(up.requests[1]!.headers.authorization, 'Bearer sk-own-openai');
  await tg.close();

  // 4. Only the old key (a botched rollback): the stored key cannot be opened, and the request
  //    is refused rather than silently billed on the platform key.
  tg = await start({ masterKey: OLD });
  const refused = await chat(tg.base('openai'));
  t.equal(refused.status, 503);
  t.equal(up.requests.length, 2, 'nothing reached the provider');
  await tg.close();
});
