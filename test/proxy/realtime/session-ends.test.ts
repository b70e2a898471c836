// Ends of a realtime session that no side announces, each billing exactly what passed, leaving
// nothing reserved and counting one request: an idle session closed 1000 `idle_timeout` (never
// before Deepgram's own 10 s, whatever realtime.idleTimeoutMs says); a client that stops
// answering pings (its TCP socket stops reading, no close frame) and a provider that does the
// same, found by ping/pong; a provider and a client vanishing in the middle of a frame.
// (Client killed, provider close codes and SIGTERM 1001: deepgram-ends.test.ts.)
// Idle time is moved on an injected clock; pings run on the real one (pingIntervalMs).

import t, { type Test } from 'tap';
import { WebSocket } from 'ws';
import type { Socket } from 'node:net';
import { startTollgate, TEST_KEY, type TestTollgate } from '../../helpers/tollgate.js';
import { setReading, sinePcm, startFakeDeepgram, until, type FakeDeepgram } from '../../helpers/realtime/deepgram.js';

const TWO_S = 64_000; // 2 s of 16 kHz linear16 mono: 0.3 credits at 9 a minute

interface Session {
  tg: TestTollgate;
  dg: FakeDeepgram;
  ws: WebSocket;
  messages: string[];
  closed: Promise<{ code: number; reason: string }>;
  clock: { offset: number };
}

async function open(t: Test, realtime: Record<string, unknown>): Promise<Session> {
  const dg = await startFakeDeepgram();
  t.teardown(() => dg.close());
  const clock = { offset: 0 };
  const tg = await startTollgate(
    { providers: { deepgram: { baseUrl: dg.url, apiKey: 'dg-platform-key' } }, realtime: { settleIntervalMs: 250, ...realtime } },
    { tier: 'free', clock: { now: () => Date.now() + clock.offset } },
  );
  t.teardown(() => tg.close());
  const ws = new WebSocket(`${tg.proxyUrl.replace('http', 'ws')}/deepgram/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000`, { headers: { authorization: `Token ${TEST_KEY}` } });
  t.teardown(() => ws.terminate());
  const messages: string[] = [];
  ws.on('message', (d) => messages.push(String(d)));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  ws.send(sinePcm(2));
  await until(() => dg.connections[0]?.bytes === TWO_S, 'the provider got 2 s');
  return { tg, dg, ws, messages, closed, clock };
}

/** The session settled: 2 s = 0.3 credits, nothing reserved, one request; ended as `end`. */
async function billedTwoSeconds(t: Test, s: Session, end: string): Promise<void> {
  await until(async () => s.tg.app.realtime.open() === 0 && (await s.tg.usage()).requestCount === 1, 'the final settle');
  const u = await s.tg.usage();
  t.equal(u.credits.used, 0.3, '2 s at 9 credits a minute = exactly 0.3 credits');
  t.equal(u.reserved, 0, 'nothing left reserved');
  t.equal(u.requestCount, 1, 'one request');
  t.equal(s.dg.connections[0]!.bytes, TWO_S, 'the provider got exactly the 2 s');
  const metrics = await (await fetch(`${s.tg.adminUrl}/metrics`)).text();
  t.match(metrics, new RegExp(`^tollgate_realtime_sessions_total\\{provider="deepgram",end="${end}"\\} 1$`, 'm'), `ended as ${end}`);
}

const rawSocket = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

t.test('idle: closed 1000 idle_timeout after the provider’s own 10 s, not the shorter configured 1 s', async (t) => {
  const s = await open(t, { idleTimeoutMs: 1_000, pingIntervalMs: 600_000 });
  s.clock.offset += 9_000;
  // Several sweeps (every 50 ms at this settle interval) see 9 s of idle: below Deepgram's 10 s.
  await new Promise((r) => setTimeout(r, 400));
  t.equal(s.tg.app.realtime.open(), 1, 'still open at 9 s idle: Deepgram closes idle sockets at 10 s itself');
  t.equal(s.dg.connections[0]!.closed, undefined);
  s.clock.offset += 1_500;
  t.same(await s.closed, { code: 1000, reason: 'idle_timeout' }, 'the client gets 1000 idle_timeout');
  await until(() => s.dg.connections[0]!.closed !== undefined, 'the provider side closed');
  t.same(s.dg.connections[0]!.closed, { code: 1000, reason: '' }, 'the provider side is closed normally');
  await billedTwoSeconds(t, s, 'idle');
});

t.test('a client that stops answering pings (its socket stops reading, no close frame) is cut', async (t) => {
  const s = await open(t, { pingIntervalMs: 1_000 });
  rawSocket(s.ws).pause();
  await until(() => s.dg.connections[0]!.closed !== undefined, 'tollgate gave up on the client and closed the provider side');
  t.same(s.dg.connections[0]!.closed, { code: 1000, reason: '' }, 'the provider side is closed normally');
  await billedTwoSeconds(t, s, 'client_gone');
});

t.test('a provider that stops answering pings (stops reading) is cut, and the client with it', async (t) => {
  const s = await open(t, { pingIntervalMs: 1_000 });
  await until(() => s.messages.length === 2, 'two Results');
  setReading(s.dg.connections[0]!, false);
  t.equal((await s.closed).code, 1006, 'the client socket is cut (no close frame: the provider gave none)');
  await billedTwoSeconds(t, s, 'provider_gone');
});

t.test('a provider vanishing mid-frame: the client gets no part of that frame; what passed is billed', async (t) => {
  const s = await open(t, {});
  await until(() => s.messages.length === 2, 'two Results');
  // A text frame header announcing 100 bytes, 12 of them, then the TCP connection is gone.
  const sock = rawSocket(s.dg.connections[0]!.ws);
  sock.write(Buffer.concat([Buffer.from([0x81, 100]), Buffer.from('{"type":"Res')]));
  sock.destroy();
  t.equal((await s.closed).code, 1006, 'the client socket is cut too');
  t.equal(s.messages.length, 2, 'only whole frames reached the client');
  await billedTwoSeconds(t, s, 'provider_gone');
});

t.test('a client vanishing mid-frame: the provider gets no part of that frame; what passed is billed', async (t) => {
  const s = await open(t, {});
  // A masked binary frame header announcing 3,200 bytes (mask 0: the payload as is), 1,000 of them.
  const sock = rawSocket(s.ws);
  sock.write(Buffer.concat([Buffer.from([0x82, 0x80 | 126, 3_200 >> 8, 3_200 & 0xff, 0, 0, 0, 0]), Buffer.alloc(1_000, 1)]));
  sock.destroy();
  await until(() => s.dg.connections[0]!.closed !== undefined, 'tollgate closed the provider side');
  t.same(s.dg.connections[0]!.closed, { code: 1000, reason: '' });
  t.equal(s.dg.connections[0]!.binaryFrames, 1, 'no part of the cut frame went upstream');
  await billedTwoSeconds(t, s, 'client_gone');
});
