// Test helper (child process): a Redis ledger that records alerts and, in `deliver` mode, one
// delivery run to a receiver, so a test can SIGKILL it between the crossing and the delivery or
// in the middle of a send.
// argv: redisUrl keyPrefix receiverUrl leaseMs mode (settle: cross 50% and 80%, then wait; deliver: then one run)

import { pino } from 'pino';
import { createAlertDeliverer, createRedisLedger, systemClock } from '../../ledger/index.js';
import { createWebhookSender } from '../../proxy/alerts/webhook.js';
import { ALERT_TEST_SECRET as CHILD_SECRET } from './alert-receiver.js';
import { cr, testPricing } from './ledger-pricing.js';


const [url, keyPrefix, receiverUrl, leaseMs, mode] = process.argv.slice(2) as [string, string, string, string, string];
const logger = pino({ level: 'silent' });
const ledger = await createRedisLedger({ url, keyPrefix, pricing: testPricing(), clock: systemClock, logger, alerts: { percent: [50, 80, 100], remainingMicro: [] } });
// 2,100 of Free's 2,500 credits: 50% and 80% crossed, recorded by this settle's script.
await ledger.settle({ accountId: 'acme', requestId: 'cross', modality: 'llm', provider: 'openai', byok: false, microCredits: cr(2100), units: {}, outcome: 'ok' });
process.stdout.write('settled\n');
if (mode === 'settle') {
  setInterval(() => {}, 60_000); // wait to be killed
} else {
  const deliverer = createAlertDeliverer({
    outbox: ledger.alerts,
    sender: createWebhookSender({ url: receiverUrl, secret: CHILD_SECRET, clock: systemClock, timeoutMs: 30_000 }),
    clock: systemClock,
    logger,
    leaseMs: Number(leaseMs),
    retries: 0,
  });
  process.stdout.write('delivering\n');
  await deliverer.deliverOnce(true);
  process.stdout.write('delivered\n');
  await ledger.close();
}
