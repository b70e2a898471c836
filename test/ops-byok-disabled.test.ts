// Without byok.masterKey, storing a key answers 501 byok_storage_disabled; an unknown provider is 404.
import t from 'tap';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

t.test('no master key: PUT is 501; unknown provider: 404', async (t) => {
  const tg = await startTollgate();
  t.teardown(() => tg.close());
  const customer = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };
  const put = await fetch(`${tg.adminUrl}/v1/provider-keys/openai`, { method: 'PUT', headers: customer, body: JSON.stringify({ key: 'sk-x' }) });
  t.equal(put.status, 501);
  t.match(await put.json(), { error: { code: 'byok_storage_disabled', message: /byok\.masterKey/ } });
  const unknown = await fetch(`${tg.adminUrl}/v1/provider-keys/nosuch`, { method: 'PUT', headers: customer, body: JSON.stringify({ key: 'sk-x' }) });
  t.equal(unknown.status, 404);
  t.match(await unknown.json(), { error: { code: 'unknown_provider' } });
  const list = await fetch(`${tg.adminUrl}/v1/provider-keys`, { headers: customer });
  t.same(await list.json(), { providers: [] });
  const anon = await fetch(`${tg.adminUrl}/v1/provider-keys`);
  t.equal(anon.status, 401);
});
