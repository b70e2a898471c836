// Test helper (child process): one flush of a Redis ledger's overage to a fake meter server,
// so a test can SIGKILL it in the middle of the flush.
// argv: redisUrl keyPrefix sinkUrl leaseMs

import { pino } from 'pino';
import { createFlusher, createRedisLedger, systemClock } from '../../ledger/index.js';
import { httpSink } from './ledger-fake-sink.js';
import { testPricing } from './ledger-pricing.js';

const [url, keyPrefix, sinkUrl, leaseMs] = process.argv.slice(2) as [string, string, string, string];
const logger = pino({ level: 'silent' });
const ledger = await createRedisLedger({ url, keyPrefix, pricing: testPricing(), clock: systemClock, logger });
const flusher = createFlusher({ ledger, sink: httpSink(sinkUrl), clock: systemClock, logger, leaseMs: Number(leaseMs) });
process.stdout.write('flushing\n');
const report = await flusher.flushOnce();
process.stdout.write(`${JSON.stringify(report)}\n`);
await ledger.close();
