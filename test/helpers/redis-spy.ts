// Test helper: a Redis ledger on a private server whose client records the name of every
// command it sends (round trips and batching are asserted by count).

import type { Test } from 'tap';
import { Redis } from 'ioredis';
import { createRedisLedger, systemClock } from '../../ledger/index.js';
import type { Clock } from '../../ledger/types.js';
import type { Pricing } from '../../pricing/types.js';
import { silentLogger } from './ledger-backends.js';
import { testPricing } from './ledger-pricing.js';
import { startRedis } from './redis.js';

export async function spiedLedger(t: Test, opts: { clock?: Clock; pricing?: Pricing; settleDelayMs?: number; openSettleDelayMs?: number; termsTtlMs?: number } = {}) {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const client = new Redis(redis.url, { enableOfflineQueue: false, lazyConnect: true });
  await client.connect();
  t.teardown(() => client.quit());
  const sent: string[] = [];
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
    sent.push(cmd.name);
    return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
  }) as typeof client.sendCommand;
  const ledger = await createRedisLedger({ redis: client, pricing: opts.pricing ?? testPricing(), clock: opts.clock ?? systemClock, logger: silentLogger, settleDelayMs: opts.settleDelayMs, openSettleDelayMs: opts.openSettleDelayMs, termsTtlMs: opts.termsTtlMs });
  t.teardown(() => ledger.close());
  /** Scripts sent (EVALSHA, and EVAL after a NOSCRIPT). */
  const scripts = () => sent.filter((n) => n === 'evalsha' || n === 'eval').length;
  return { redis, client, ledger, sent, scripts };
}
