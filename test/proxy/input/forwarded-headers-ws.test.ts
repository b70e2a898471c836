// WebSocket upgrades drop the client's X-Forwarded-*, Forwarded and X-Real-IP too, and refuse
// a malformed percent-escape with 400 invalid_request before the provider sees anything.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { startTollgate, TEST_KEY } from '../../helpers/tollgate.js';

t.test('a BYOK session reaches the provider without the client\'s forwarding headers', async (t) => {
  const seen: Array<Record<string, unknown>> = [];
  const server = createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    seen.push(req.headers);
    ws.on('message', (m) => ws.send(`echo:${m.toString()}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const tg = await startTollgate({ providers: { openai: { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'sk-platform' } } }, { tier: 'starter' });
  t.teardown(async () => {
    await tg.close();
    wss.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const wsBase = tg.proxyUrl.replace('http', 'ws');
  const headers = {
    authorization: `Bearer ${TEST_KEY}`,
    'x-provider-key-openai': 'sk-customer-own-key-0123456789',
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-host': 'internal.example',
    'x-forwarded-proto': 'https',
    forwarded: 'for=203.0.113.7',
    'x-real-ip': '203.0.113.7',
  };
  const ws = new WebSocket(`${wsBase}/openai/v1/realtime?model=gpt-realtime`, { headers });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send('hello');
  t.equal(await new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString()))), 'echo:hello');
  ws.close();
  await new Promise((r) => ws.once('close', r));
  t.equal(seen.length, 1);
  for (const h of ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded', 'x-real-ip']) t.equal(seen[0]![h], undefined, `no ${h}`);

  const bad = new WebSocket(`${wsBase}/openai/v1/realtime?x=%E0%A4%A`, { headers });
  const status = await new Promise<number>((resolve) => bad.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  t.equal(status, 400);
  t.equal(seen.length, 1, 'the provider never saw it');
});
