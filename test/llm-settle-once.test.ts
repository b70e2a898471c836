// Every request settles exactly once, whatever happens at its edges.
//
// Race at the end: the provider sends the usage chunk, then ends its stream ([DONE] and the end
// of the body) at the same moment the client, having seen the usage, drops the connection, in
// five orders (drop first, both at once, end first): the end of the stream and the abort race
// inside tollgate. 30 calls: 30 settlements, requestCount 30, 12 credits each (the usage always
// arrived first), nothing left reserved.
//
// Regression: a client that disconnects while tollgate is still authenticating or reserving
// (before the proxy listens for the connection closing) left the request hanging with its
// reservation held. It is settled once, nothing charged or reserved, the provider not called.
import t from 'tap';
import { request } from 'node:http';
import { eventually, TEST_KEY } from './helpers/tollgate.js';
import { startLlmStack } from './helpers/llm-tollgate.js';
import { blocksFor, latch, writeSse } from './helpers/llm-fixtures.js';
import type { SettledRecord } from '../proxy/pipeline.js';

const K = 30;
const ORDERS = 5;

/**
 * POSTs; once `last` appears in the answer, drops the connection and lets the provider end its
 * stream, in `order`: 0 drop, and end once tollgate has seen the client go (the abort path);
 * 1 drop, end a tick later; 2 drop and end at once; 3 end and drop at once; 4 end, drop a tick later.
 */
function cutAtEnd(url: string, payload: string, last: string, order: number, end: () => void, tollgateSawClose: Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' } }, (res) => {
      let seen = '';
      let cut = false;
      res.on('data', (d: Buffer) => {
        seen += d.toString();
        if (cut || !seen.includes(last)) return;
        cut = true;
        if (order === 0) {
          // tollgate has seen the client go before the provider ends: the abort path, for sure
          tollgateSawClose.then(end);
          req.destroy();
        } else if (order === 1) {
          req.destroy();
          setImmediate(end);
        } else if (order === 2) {
          req.destroy();
          end();
        } else if (order === 3) {
          end();
          req.destroy();
        } else {
          end();
          setImmediate(() => req.destroy());
        }
        resolve(seen);
      });
      res.on('end', () => resolve(seen));
      res.on('error', () => resolve(seen));
    });
    req.on('error', (e: Error & { code?: string }) => (e.code === 'ECONNRESET' || e.message.includes('socket hang up') ? undefined : reject(e)));
    req.end(payload);
  });
}

t.test('a client abort racing the end of the answer settles once', async (t) => {
  const settled: SettledRecord[] = [];
  let ends = latch();
  const { tg, up, settledUsage } = await startLlmStack(t, {
    events: { settled: (r) => settled.push(r) },
    override: {
      openai: async (req, res) => {
        const blocks = blocksFor('openai', req, 'chat-stream.sse');
        await writeSse(res, blocks.slice(0, -1), { before: ends.wait.then(() => res.write(blocks.at(-1))) });
        return true;
      },
    },
  });
  let closed = latch();
  tg.app.proxyServer.on('request', (_req, res) => {
    const mine = closed; // this request's latch, not whichever is current when the socket closes
    res.once('close', () => mine.open());
  });
  const url = `${tg.base('openai')}/v1/chat/completions`;
  const payload = JSON.stringify({ model: 'gpt-4.1', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hello' }] });
  for (let i = 0; i < K; i++) {
    const seen = await cutAtEnd(url, payload, '"choices":[],"usage":{', i % ORDERS, ends.open, closed.wait);
    t.match(seen, /"completion_tokens":500/, `call ${i} saw the usage`);
    await tg.app.pipeline.idle(5_000);
    ends = latch();
    closed = latch();
  }
  const u = await settledUsage();
  t.equal(up.openai.requests.length, K);
  t.equal(settled.length, K, 'one settlement per request');
  t.equal(new Set(settled.map((r) => r.requestId)).size, K);
  t.equal(u.requestCount, K);
  t.equal(u.credits.used, 12 * K, 'each charged the provider\'s usage, once');
  t.equal(u.reserved, 0);
  const outcomes = settled.reduce<Record<string, number>>((m, r) => ((m[r.outcome] = (m[r.outcome] ?? 0) + 1), m), {});
  t.comment(`outcomes: ${JSON.stringify(outcomes)}`);
});

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
