// Regression: a graceful close must wait for a request that is still reserving (before it is
// forwarded), and that request must settle before the ledger closes.
import t from 'tap';
import { pino } from 'pino';
import { createMemoryLedger } from '../ledger/index.js';
import { createPricing } from '../pricing/index.js';
import { systemClock, type Ledger, type ReserveInput, type ReserveResult } from '../ledger/types.js';
import { validateConfig } from '../config/load.js';
import { createApp } from '../proxy/app.js';
import { startUpstream, json } from './helpers/upstream.js';
import { TEST_KEY } from './helpers/tollgate.js';

t.test('close() waits for a request held in reserve(), which then completes and settles', async (t) => {
  const up = await startUpstream((_req, res) => json(res, 200, { id: 'c', object: 'chat.completion', model: 'gpt-4.1', choices: [], usage: { prompt_tokens: 1000, completion_tokens: 500 } }));
  t.teardown(() => up.close());
  const logger = pino({ level: 'silent' });
  const inner = createMemoryLedger({ pricing: createPricing(), clock: systemClock, logger });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inReserve = new Promise<void>((r) => (entered = r));
  let closedLedger = false;
  const ledger: Ledger = Object.create(inner, {
    reserve: {
      value: async (input: ReserveInput): Promise<ReserveResult> => {
        entered();
        await gate;
        return inner.reserve(input);
      },
    },
    close: {
      value: async () => {
        closedLedger = true;
      },
    },
  });
  const config = validateConfig(
    { proxy: { port: 0 }, admin: { port: 0 }, logging: { level: 'silent' }, providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } }, accounts: [{ id: 'acct', tier: 'starter', apiKeys: [TEST_KEY] }] },
    {},
  );
  const app = await createApp({ config, logger, ledger });
  const { proxyUrl } = await app.listen();
  const response = fetch(`${proxyUrl}/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await inReserve;
  let closed = false;
  const closing = app.close(10_000).then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(closed, false, 'close() is still waiting for the request in reserve()');
  t.equal(closedLedger, false, 'the ledger is still open');
  release();
  const r = await response;
  t.equal(r.status, 200);
  await closing;
  t.equal(closedLedger, true);
  const u = await inner.usage('acct');
  t.equal(u.usedMicro, 12_000_000, 'settled before the ledger closed: 12 credits');
  t.equal(u.requestCount, 1);
  t.equal(u.reservedMicro, 0);
});
