// Regression: a client that hung up while tollgate was still reserving left its request in flight
// for ever. The response's 'close' had fired before the pipeline listened for it, so nothing
// aborted the upstream call, and the first write (refused on the dead socket) waited for a
// 'drain' that never came: the request never settled, its upstream connection was never given
// back (the benchmark ran the pool dry at 512), and a graceful stop waited out its whole grace.
import t from 'tap';
import { request } from 'node:http';
import { pino } from 'pino';
import { validateConfig } from '../config/load.js';
import { createMemoryLedger } from '../ledger/index.js';
import { systemClock, type Ledger } from '../ledger/types.js';
import { createPricing } from '../pricing/index.js';
import { createApp } from '../proxy/app.js';
import type { SettledRecord } from '../proxy/pipeline.js';
import { json, startUpstream } from './helpers/upstream.js';
import { TEST_KEY } from './helpers/tollgate.js';

t.test('a client gone while the reservation is made: settled once as aborted, nothing forwarded', async (t) => {
  const up = await startUpstream((_req, res) => {
    json(res, 200, { id: 'c1', object: 'chat.completion', model: 'gpt-4.1', choices: [], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } });
  });
  const config = validateConfig(
    {
      proxy: { port: 0 },
      admin: { port: 0 },
      logging: { level: 'silent' },
      providers: { openai: { baseUrl: up.url, apiKey: 'sk-platform' } },
      accounts: [{ id: 'acct', tier: 'starter', apiKeys: [TEST_KEY] }],
    },
    {},
    'test',
  );
  const logger = pino({ level: 'silent' });
  const inner = createMemoryLedger({ pricing: createPricing(config.pricing, {}), clock: systemClock, logger });
  let reserving!: () => void;
  const reserveStarted = new Promise<void>((r) => (reserving = r));
  // The reservation takes 200 ms; the client leaves 50 ms into it.
  const ledger: Ledger = Object.assign(Object.create(inner) as Ledger, {
    async reserve(input: Parameters<Ledger['reserve']>[0]) {
      reserving();
      await new Promise((r) => setTimeout(r, 200));
      return inner.reserve(input);
    },
  });
  const settled: SettledRecord[] = [];
  let first!: () => void;
  const settledOnce = new Promise<void>((r) => (first = r));
  const app = await createApp({
    config,
    logger,
    ledger,
    events: {
      settled: (rec) => {
        settled.push(rec);
        first();
      },
    },
  });
  const { proxyUrl } = await app.listen();
  t.teardown(async () => {
    await app.close(1_000);
    await up.close();
  });

  const u = new URL(`${proxyUrl}/openai/v1/chat/completions`);
  const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' } });
  req.on('error', () => {});
  req.end(JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }));
  await reserveStarted;
  await new Promise((r) => setTimeout(r, 50));
  req.destroy();

  const timedOut = await Promise.race([settledOnce.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 2_000))]);
  t.equal(timedOut, false, 'the request settles instead of staying in flight');
  t.equal(await app.pipeline.idle(2_000), true);
  t.equal(app.pipeline.inFlight(), 0);
  t.equal(settled.length, 1, 'settled exactly once');
  t.equal(settled[0]!.outcome, 'aborted');
  t.equal(settled[0]!.microCredits, 0, 'nothing charged: the provider never saw it');
  t.equal(up.requests.length, 0, 'not forwarded after the client left');
  const usage = await ledger.usage('acct');
  t.equal(usage.reservedMicro, 0, 'the reservation is released');
});
