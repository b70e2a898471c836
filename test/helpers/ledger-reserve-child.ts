// Test helper (child process): connect a Redis ledger, say "ready", wait for "go", then fire
// N concurrent reservations and print their results as one JSON line.
// argv: redisUrl keyPrefix accountId count microCredits

import { once } from 'node:events';
import { pino } from 'pino';
import { createRedisLedger, systemClock } from '../../ledger/index.js';
import { testPricing } from './ledger-pricing.js';

const [url, keyPrefix, accountId, count, micro] = process.argv.slice(2) as [string, string, string, string, string];
const ledger = await createRedisLedger({ url, keyPrefix, pricing: testPricing(), clock: systemClock, logger: pino({ level: 'silent' }) });
process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.destroy();
const results = await Promise.all(
  Array.from({ length: Number(count) }, (_, i) =>
    ledger.reserve({ accountId, requestId: `${process.pid}-${i}`, microCredits: Number(micro), ttlMs: 60_000 }),
  ),
);
process.stdout.write(`${JSON.stringify(results)}\n`);
await ledger.close();
