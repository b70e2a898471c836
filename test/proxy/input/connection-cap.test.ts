// proxy.maxConnections: with the cap open, the next connection is closed as soon as it is
// accepted (no HTTP answer: the client sees the socket close) and counted; once one closes,
// a new connection is served again.
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { startUpstream, json } from '../../helpers/upstream.js';
import { startTollgate, eventually, TEST_KEY } from '../../helpers/tollgate.js';

const CAP = 3;

/** Opens a connection, sends a request, and reports what came back before the socket closed. */
function probe(port: number): { socket: Socket; result: Promise<{ data: string; closed: boolean }> } {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (c) => (data += c.toString()));
  const result = new Promise<{ data: string; closed: boolean }>((resolve) => {
    socket.on('error', () => {});
    socket.on('close', () => resolve({ data, closed: true }));
  });
  socket.on('connect', () => socket.write(`GET /openai/v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_KEY}\r\n\r\n`));
  return { socket, result };
}

t.test(`the (cap+1)th connection is closed at once; a slot freed serves again`, async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, { object: 'list', data: [] }));
  const tg = await startTollgate({ proxy: { maxConnections: CAP }, providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } }, { tier: 'pro' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const port = Number(new URL(tg.proxyUrl).port);
  const open: Socket[] = [];
  for (let i = 0; i < CAP; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    open.push(s);
  }
  const count = () => new Promise<number>((r) => tg.app.proxyServer.getConnections((_e, n) => r(n)));
  await eventually(async () => (await count()) === CAP, 10_000);

  const over = probe(port);
  const r = await over.result;
  t.ok(r.closed, 'closed');
  t.equal(r.data, '', 'no HTTP answer: the connection was closed on arrival');
  t.match(await tg.app.metrics.render(), /^tollgate_connections_dropped_total 1$/m);
  t.equal(await count(), CAP);

  open.pop()!.destroy();
  await eventually(async () => (await count()) === CAP - 1, 10_000);
  const again = probe(port);
  await eventually(() => again.socket.bytesRead > 0, 10_000);
  again.socket.destroy();
  const ok = await again.result;
  t.match(ok.data, /^HTTP\/1\.1 200 /, 'served once a slot is free');
  t.equal(up.requests.length, 1);
  for (const s of open) s.destroy();
});
