// WebSocket upgrades follow the HTTP BYOK rule: an X-Provider-Key-* header for a provider whose
// upstream takes no key (kokoro) is refused with 400 byok_not_enabled before the provider sees
// the upgrade (before, it was a free session); an empty header is 400 invalid_request.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';

t.test('upgrades: byok_not_enabled for kokoro, invalid_request for an empty key header', async (t) => {
  let upgrades = 0;
  const server = createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', () => upgrades++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tg = await startTollgate({ providers: { kokoro: { baseUrl: upstream }, openai: { baseUrl: upstream, apiKey: 'sk-platform' } } }, { tier: 'starter' });
  t.teardown(async () => {
    await tg.close();
    wss.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const wsBase = tg.proxyUrl.replace('http', 'ws');
  const refused = (path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
      const ws = new WebSocket(`${wsBase}${path}`, { headers: { authorization: `Bearer ${TEST_KEY}`, ...headers } });
      ws.once('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode ?? 0, code: res.headers['x-tollgate-error'] as string | undefined });
        res.resume();
      });
      ws.once('open', () => reject(new Error('the upgrade went through')));
      ws.once('error', () => {});
    });
  t.same(await refused('/kokoro/v1/audio/speech/ws', { 'x-provider-key-kokoro': 'anything' }), { status: 400, code: 'byok_not_enabled' });
  t.same(await refused('/openai/v1/realtime?model=gpt-realtime', { 'x-provider-key-openai': ' ' }), { status: 400, code: 'invalid_request' });
  t.equal(upgrades, 0, 'the provider saw no upgrade');
  const u = await tg.usage();
  t.equal(u.requestCount, 0);
});
