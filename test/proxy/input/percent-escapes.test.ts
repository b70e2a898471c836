// A malformed percent-escape in the request target is 400 invalid_request on both ports, never
// a 500, and never reaches a provider.
import t from 'tap';
import { startUpstream, json } from '../../helpers/upstream.js';
import { startTollgate, TEST_KEY, ADMIN_TOKEN } from '../../helpers/tollgate.js';
import { rawRequest } from '../../helpers/raw-http.js';

t.test('proxy and admin ports: 400 invalid_request', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, {}));
  const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } }, byok: { masterKey: Buffer.alloc(32, 3).toString('base64') } }, { tier: 'pro' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const customer = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };
  const byok = { ...customer, 'x-provider-key-openai': 'sk-customer-own-key-0123456789' };
  const cases: Array<[string, string, string, Record<string, string>, string?]> = [
    [tg.proxyUrl, 'GET', '/openai/v1/%zz', customer],
    [tg.proxyUrl, 'GET', '/openai/v1/%zz', byok], // BYOK may use any route: still refused
    [tg.proxyUrl, 'POST', '/openai/v1/chat/completions?x=%E0%A4%A', customer, '{"model":"gpt-4.1","messages":[]}'],
    [tg.proxyUrl, 'GET', '/openai/v1/models?x=%E0%A4', byok], // well-formed escapes, not UTF-8
    [tg.adminUrl, 'GET', '/v1/usage?x=%E0%A4%A', customer],
    [tg.adminUrl, 'PUT', '/v1/provider-keys/%zz', customer, '{"key":"sk-0123456789abcdef"}'],
    [tg.adminUrl, 'GET', '/admin/accounts/%E0%A4', { authorization: `Bearer ${ADMIN_TOKEN}` }],
  ];
  for (const [base, method, path, headers, body] of cases) {
    const a = await rawRequest(base, path, { method, headers, body: body ?? '' }).answer;
    t.equal(a.status, 400, `${method} ${path}`);
    t.equal(JSON.parse(a.body).error.code, 'invalid_request', `${method} ${path}: code`);
  }
  t.equal(up.requests.length, 0);
  // Well-formed escapes still pass.
  const ok = await rawRequest(tg.adminUrl, '/v1/usage?x=%E0%A4%A4', { method: 'GET', headers: customer, body: '' }).answer;
  t.equal(ok.status, 200);
});
