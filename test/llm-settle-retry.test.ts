// A settle that fails (the ledger unreachable for a moment) is tried again, 100 ms later, then
// 200 ms, ..., until it lands: the request is charged once, at its exact cost, and counted in
// flight until then (a graceful stop waits for it). The openai SDK as the client; gpt-4.1 at
// 4 / 16 credits per 1,000 tokens, 1,000 in + 500 out = 12 credits.
import t from 'tap';
import { pino } from 'pino';
import { validateConfig } from '../config/load.js';
import { createLedgerError } from '../ledger/errors.js';
import { createMemoryLedger, systemClock } from '../ledger/index.js';
import type { Ledger, SettleInput } from '../ledger/types.js';
import { createPricing } from '../pricing/index.js';
import { createApp } from '../proxy/app.js';
import { startLlmUpstream } from './helpers/llm-fixtures.js';
import { MISTRAL_PRICING, PLATFORM_KEYS } from './helpers/llm-tollgate.js';
import { TEST_KEY } from './helpers/tollgate.js';
import OpenAI from 'openai';

t.test('two failed settles, then one that lands: charged once, 12 credits, in flight until then', async (t) => {
  const up = await startLlmUpstream('openai');
  t.teardown(() => up.close());
  const config = validateConfig(
    {
      proxy: { port: 0 },
      admin: { port: 0, token: 'admin_token_for_tests_0001' },
      logging: { level: 'silent' },
      pricing: MISTRAL_PRICING,
      accounts: [{ id: 'acct', tier: 'starter', apiKeys: [TEST_KEY] }],
      providers: { openai: { baseUrl: up.url, apiKey: PLATFORM_KEYS.openai } },
    },
    {},
    'test',
  );
  const logger = pino({ level: 'silent' });
  const inner = createMemoryLedger({ pricing: createPricing(config.pricing), clock: systemClock, logger });
  const calls: Array<{ at: number; ok: boolean; input: SettleInput }> = [];
  let failures = 2;
  const ledger: Ledger = Object.create(inner) as Ledger;
  ledger.settle = async (input) => {
    if (failures > 0) {
      failures--;
      calls.push({ at: performance.now(), ok: false, input });
      throw createLedgerError('ledger_unavailable', 'Redis went away for a moment');
    }
    calls.push({ at: performance.now(), ok: true, input });
    return inner.settle(input);
  };
  const ledgerCalls: string[] = [];
  const app = await createApp({ config, logger, ledger, events: { ledgerCall: (op, _s, ok) => void ledgerCalls.push(`${op}:${ok ? 'ok' : 'failed'}`) } });
  const { proxyUrl } = await app.listen();
  let closed = false;
  t.teardown(() => (closed ? undefined : app.close(2_000)));

  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${proxyUrl}/openai/v1`, maxRetries: 0 });
  const r = await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] });
  t.equal(r.usage?.prompt_tokens, 1000, 'the client has its answer before the settle lands');
  t.equal(calls.length, 1, 'the first settle has been tried');
  t.equal(app.pipeline.inFlight(), 1, 'and the request is still in flight');

  // A graceful stop waits for the retries.
  await app.close(5_000);
  closed = true;
  t.same(
    calls.map((c) => c.ok),
    [false, false, true],
    'tried three times',
  );
  t.ok(calls[1]!.at - calls[0]!.at >= 95, `the second try ~100 ms after the first (${Math.round(calls[1]!.at - calls[0]!.at)} ms)`);
  t.ok(calls[2]!.at - calls[1]!.at >= 195, `the third ~200 ms after the second (${Math.round(calls[2]!.at - calls[1]!.at)} ms)`);
  t.ok(calls.every((c) => c.input.requestId === calls[0]!.input.requestId), 'the same request each time');
  t.equal(calls[2]!.input.microCredits, 12_000_000);
  t.same(ledgerCalls.filter((c) => c.startsWith('settle')), ['settle:failed', 'settle:failed', 'settle:ok']);
  t.equal(app.pipeline.inFlight(), 0);
  const u = await inner.usage('acct');
  t.equal(u.usedMicro, 12_000_000, '12 credits, once');
  t.equal(u.requestCount, 1);
  t.equal(u.reservedMicro, 0, 'nothing left reserved');
});
