// Paths with dot segments, encoded dots or slashes, or backslashes are refused before routing:
// they could reach an upstream path other than the one tollgate matched and metered.
import t from 'tap';
import { request } from 'node:http';
import { startUpstream, json } from './helpers/upstream.js';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';
import { isUnsafePath, parseTarget } from '../proxy/registry.js';

t.test('parseTarget splits provider, path and query', async (t) => {
  t.same(parseTarget('/OpenAI/v1/chat/completions?x=1'), { providerId: 'openai', path: '/v1/chat/completions', search: '?x=1' });
  t.same(parseTarget('/rag'), { providerId: 'rag', path: '/', search: '' });
  for (const p of ['/v1/../v1/files', '/v1/./x', '/v1/%2e%2e/files', '/v1%2Ffiles', '/v1\\files']) t.ok(isUnsafePath(p), p);
  for (const p of ['/v1/chat/completions', '/v1/models/gpt-4.1', '/tts/v1/voice:stream']) t.notOk(isUnsafePath(p), p);
});

t.test('a raw request with ../ gets 400 invalid_request and never reaches the provider', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, {}));
  const tg = await startTollgate({ providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } }, { tier: 'starter' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const u = new URL(tg.proxyUrl);
  for (const path of ['/openai/v1/chat/completions/../../v1/files', '/openai/v1/%2e%2e/v1/files']) {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, method: 'POST', path, headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' } }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      });
      req.on('error', reject);
      req.end('{"model":"gpt-4.1","messages":[]}');
    });
    t.equal(status, 400, path);
    t.equal(JSON.parse(body).error.code, 'invalid_request');
  }
  t.equal(up.requests.length, 0);
});
