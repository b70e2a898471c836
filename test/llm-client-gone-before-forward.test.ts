// Regression: a client that disconnects while tollgate is still authenticating or reserving
// (before the proxy listens for the connection closing) must not leave the request hanging
// with its reservation held. It is settled once, nothing is charged or left reserved, and the
// provider is not called for nobody.
import t from 'tap';
import { request } from 'node:http';
import { eventually, TEST_KEY } from './helpers/tollgate.js';
import { latch } from './helpers/llm-fixtures.js';
import { startLlmStack } from './helpers/llm-tollgate.js';
import type { SettledRecord } from '../proxy/pipeline.js';

t.test('client gone during the reservation', async (t) => {
  const settled: SettledRecord[] = [];
  const { tg, up, settledUsage } = await startLlmStack(t, { tier: 'free', events: { settled: (r) => settled.push(r) } });

  // Hold the reservation until the client is gone and tollgate has seen its connection close.
  const reserving = latch();
  const proceed = latch();
  const ledger = tg.app.ledger;
  const reserve = ledger.reserve.bind(ledger);
  ledger.reserve = async (input) => {
    reserving.open();
    await proceed.wait;
    return reserve(input);
  };
  const closed = latch();
  tg.app.proxyServer.once('request', (_req, res) => res.once('close', () => closed.open()));

  const req = request(`${tg.base('openai')}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' } });
  req.on('error', () => {});
  req.end(JSON.stringify({ model: 'gpt-4.1', stream: true, max_tokens: 1000, messages: [{ role: 'user', content: 'hello' }] }));
  await reserving.wait;
  req.destroy();
  await closed.wait;
  proceed.open();

  // pipeline.idle() only counts requests past their reservation: wait for the settlement itself.
  await eventually(() => settled.length > 0, 5_000).catch(() => {});
  t.ok(await tg.app.pipeline.idle(5_000), 'the request settles instead of hanging');
  t.equal(settled.length, 1);
  t.equal(settled[0]?.outcome, 'aborted');
  t.equal(up.openai.requests.length, 0, 'the provider is not called for a client that is gone');
  const u = await settledUsage();
  t.equal(u.credits.used, 0);
  t.equal(u.reserved, 0);
  t.equal(u.requestCount, 1);
});
