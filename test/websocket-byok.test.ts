// WebSocket upgrades: BYOK sessions pass through on the customer's provider key; platform-key
// sessions are refused (404 unknown_route) before the provider sees them.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { startTollgate, TEST_KEY } from './helpers/tollgate.js';

t.test('a BYOK realtime session passes through; the platform key session is refused', async (t) => {
  const seen: Array<{ url: string; headers: Record<string, unknown> }> = [];
  const server = createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    ws.on('message', (m) => ws.send(`echo:${m.toString()}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tg = await startTollgate({ providers: { openai: { baseUrl: upstream, apiKey: 'sk-platform' } } }, { tier: 'starter' });
  t.teardown(async () => {
    await tg.close();
    wss.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const wsBase = tg.proxyUrl.replace('http', 'ws');

  const ws = new WebSocket(`${wsBase}/openai/v1/realtime?model=gpt-realtime`, {
    headers: { authorization: `Bearer ${TEST_KEY}`, 'x-provider-key-openai': 'sk-customer-own' },
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send('hello');
  const reply = await new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())));
  t.equal(reply, 'echo:hello');
  ws.close();
  await new Promise((r) => ws.once('close', r));
  t.equal(seen.length, 1);
  t.equal(seen[0]!.url, '/v1/realtime?model=gpt-realtime');
  t.equal(seen[0]!.headers.authorization, 'Bearer sk-customer-own', 'the BYOK key goes upstream in the provider\'s header');
  t.notOk(JSON.stringify(seen[0]!.headers).includes(TEST_KEY), 'the tollgate key never reaches the provider');
  t.notOk('x-provider-key-openai' in seen[0]!.headers);

  const refused = new WebSocket(`${wsBase}/openai/v1/realtime`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  t.equal(status, 404, 'platform-key realtime is refused with unknown_route');
  t.equal(seen.length, 1, 'the provider never saw the refused session');

  const bad = new WebSocket(`${wsBase}/openai/v1/realtime`, { headers: { authorization: 'Bearer tg_wrong_key_00000000000000' } });
  const badStatus = await new Promise<number>((resolve) => bad.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  t.equal(badStatus, 401);

  // The BYOK session counted once, zero credits.
  let u = await tg.usage();
  for (let i = 0; i < 50 && u.requestCount < 1; i++) {
    await new Promise((r) => setTimeout(r, 20));
    u = await tg.usage();
  }
  t.equal(u.requestCount, 1);
  t.equal(u.byok.requestCount, 1);
  t.equal(u.credits.used, 0);
});
