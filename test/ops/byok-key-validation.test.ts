// PUT /v1/provider-keys/{provider} checks the key before sealing it: no control characters or
// whitespace inside, and the provider's length bounds (default 8..512; Anthropic and Deepgram
// set their own in their adapter files). A refused key is 400 invalid_request saying why.
import t from 'tap';
import { startTollgate, TEST_KEY } from '../helpers/tollgate.js';

t.test('bad stored keys are 400 invalid_request with the reason; a good one is stored', async (t) => {
  const tg = await startTollgate({ byok: { masterKey: Buffer.alloc(32, 9).toString('base64') } });
  t.teardown(() => tg.close());
  const put = async (provider: string, key: string) => {
    const r = await fetch(`${tg.adminUrl}/v1/provider-keys/${provider}`, { method: 'PUT', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ key }) });
    return { status: r.status, body: (await r.json()) as any };
  };
  const cases: Array<[string, string, RegExp]> = [
    ['openai', 'sk-\n123', /key: contains a control character \(U\+000A\) at position 3/],
    ['openai', 'sk-abc def-0123456789', /key: contains whitespace at position 6/],
    ['openai', 'sk-abc\u0000def0123456789', /control character \(U\+0000\)/],
    ['openai', 'ab', /key: 2 characters is too short for a openai key \(at least 8\)/],
    ['openai', 'k'.repeat(10_000), /key: 10000 characters is too long for a openai key \(at most 512\)/],
    ['anthropic', 'sk-ant-short-0123', /too short for a anthropic key \(at least 40\)/],
    ['deepgram', '0123456789abcdef', /too short for a deepgram key \(at least 32\)/],
  ];
  for (const [provider, key, message] of cases) {
    const r = await put(provider, key);
    t.equal(r.status, 400, `${provider} ${JSON.stringify(key.slice(0, 20))}`);
    t.equal(r.body.error.code, 'invalid_request');
    t.match(r.body.error.message, message);
  }
  const list = await (await fetch(`${tg.adminUrl}/v1/provider-keys`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json();
  t.same(list, { providers: [] }, 'nothing was stored');

  const ok = await put('openai', '  sk-proj-customer-own-key-0123456789abcdef\n');
  t.equal(ok.status, 200, 'surrounding whitespace is trimmed, as before');
  t.same(ok.body, { provider: 'openai', stored: true });
  t.equal((await put('deepgram', '0123456789abcdef0123456789abcdef01234567')).status, 200, 'a 40-character Deepgram key');
  t.equal((await put('anthropic', `sk-ant-api03-${'x'.repeat(95)}`)).status, 200, 'a 108-character Anthropic key');
});
