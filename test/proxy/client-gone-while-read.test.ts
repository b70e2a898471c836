// A client that sends its request and half-closes while tollgate authenticates it (a key cache
// miss against a Redis paused for 600 ms) is gone when its body is read: the request settles at
// once, nothing forwarded, nothing counted, inFlight() back to 0. Before (issue 18, scope 4), the
// body read waited on a destroyed stream for ever: the request stayed in flight, and a graceful
// stop waited out graceMs + 10 s for it.
import t from 'tap';
import { connect } from 'node:net';
import { startRedis } from '../helpers/redis.js';
import { json, startUpstream } from '../helpers/upstream.js';
import { eventually, startTollgate, TEST_KEY } from '../helpers/tollgate.js';

t.test('half-closed during a slow auth: settles at once, nothing forwarded', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const up = await startUpstream((_r, res) => json(res, 200, { id: 'c', object: 'chat.completion', model: 'gpt-4.1', choices: [], usage: { prompt_tokens: 10, completion_tokens: 5 } }));
  const tg = await startTollgate({ redis: { url: redis.url }, providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } } }, { tier: 'starter' });
  t.teardown(async () => {
    await tg.close();
    await up.close();
  });
  const admin = redis.client();
  const body = JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] });
  const u = new URL(tg.proxyUrl);

  // Redis answers nothing for 600 ms (under the ledger's 1 s command timeout): the key lookup waits.
  t.equal(await admin.call('CLIENT', 'PAUSE', '600', 'ALL'), 'OK');
  const paused = Date.now();
  const sock = connect(Number(u.port), u.hostname);
  sock.on('error', () => {});
  sock.on('data', () => {});
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(`POST /openai/v1/chat/completions HTTP/1.1\r\nHost: tollgate\r\nAuthorization: Bearer ${TEST_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  sock.end(); // half-close: the request is all sent
  await eventually(() => tg.app.pipeline.inFlight() === 1, 2_000);
  t.ok(Date.now() - paused < 600, 'the request entered while Redis was paused');

  // Settled soon after Redis answers again (600 ms): 5 s is a generous bound under load.
  await eventually(() => tg.app.pipeline.inFlight() === 0, 5_000);
  t.equal(tg.app.pipeline.inFlight(), 0, 'inFlight() is back to 0');
  t.equal(await tg.app.pipeline.idle(100), true);
  t.equal(up.requests.length, 0, 'nothing forwarded');
  const usage = await tg.usage();
  t.equal(usage.requestCount, 0, 'nothing counted');
  t.equal(usage.reserved, 0, 'nothing reserved');
  t.equal(usage.credits.used, 0);
  sock.destroy();
});
