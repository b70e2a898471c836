// A client's X-Forwarded-*, Forwarded and X-Real-IP headers are its own claims: they never
// reach the provider, on metered, BYOK and free routes alike.
import t from 'tap';
import { startUpstream, json } from '../../helpers/upstream.js';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';

const SPOOFED = {
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-host': 'internal.example',
  'x-forwarded-proto': 'https',
  'x-forwarded-port': '443',
  forwarded: 'for=203.0.113.7;host=internal.example;proto=https',
  'x-real-ip': '203.0.113.7',
};

t.test('X-Forwarded-For/Host/Proto/Port, Forwarded, X-Real-IP do not reach the provider', async (t) => {
  const up = await startUpstream((req, res) =>
    req.method === 'GET'
      ? json(res, 200, { object: 'list', data: [] })
      : json(res, 200, { id: 'c', object: 'chat.completion', model: 'gpt-4.1', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } }),
  );
  const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } }, { tier: 'pro' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const headers = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', 'x-custom-header': 'kept', ...SPOOFED };
  const chat = { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] };
  t.equal((await fetch(`${tg.base('openai')}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(chat) })).status, 200, 'metered');
  t.equal((await fetch(`${tg.base('openai')}/v1/models`, { headers })).status, 200, 'free route');
  const byok = { ...headers, 'x-provider-key-openai': 'sk-customer-own-key-0123456789' };
  t.equal((await fetch(`${tg.base('openai')}/v1/chat/completions`, { method: 'POST', headers: byok, body: JSON.stringify(chat) })).status, 200, 'BYOK');
  t.equal(up.requests.length, 3);
  for (const r of up.requests) {
    for (const h of Object.keys(SPOOFED)) t.equal(r.headers[h], undefined, `${r.method} ${r.path}: no ${h}`);
    t.equal(r.headers['x-custom-header'], 'kept', 'other headers pass');
  }
});
