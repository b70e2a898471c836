// With a stored key and an X-Provider-Key-OpenAI header, the header's key goes upstream.
import t from 'tap';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

t.test('a header key wins over a stored one', async (t) => {
  const up = await startUpstream((_req, res) =>
    json(res, 200, { id: 'c1', object: 'chat.completion', model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } }),
  );
  const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } }, byok: { masterKey: 'ab'.repeat(32) } });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const customer = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };
  t.equal((await fetch(`${tg.adminUrl}/v1/provider-keys/openai`, { method: 'PUT', headers: customer, body: JSON.stringify({ key: 'sk-stored' }) })).status, 200);
  const r = await fetch(`${tg.base('openai')}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...customer, 'x-provider-key-openai': 'sk-from-header' },
    body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] }),
  });
  t.equal(r.status, 200);
  t.equal(up.requests[0]!.headers.authorization, 'Bearer sk-from-header');
  t.equal(up.requests[0]!.headers['x-provider-key-openai'], undefined, 'the BYOK header itself is not forwarded');
  await tg.app.pipeline.idle(2_000);
  const u = await tg.usage();
  t.equal(u.byok.requestCount, 1);
  t.equal(u.credits.used, 0);
});
