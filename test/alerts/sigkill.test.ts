// kill -9 and alerts: a process killed between the crossing and the delivery, in the middle of
// a send, or after the receiver's 2xx but before marking it delivered. Nothing is lost; a
// resend carries the same id and body (the documented window, README Alerts).

import t, { type Test } from 'tap';
import { createAlertDeliverer, createRedisLedger, systemClock, type RedisLedger } from '../../ledger/index.js';
import { createWebhookSender } from '../../proxy/alerts/webhook.js';
import { ALERT_TEST_SECRET as CHILD_SECRET, startAlertReceiver, verifySignature, type AlertReceiver } from '../helpers/alert-receiver.js';
import { spawnChild, type Child } from '../helpers/ledger-child.js';
import { silentLogger } from '../helpers/ledger-backends.js';
import { testPricing } from '../helpers/ledger-pricing.js';
import { startRedis } from '../helpers/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());
const LEASE_MS = 1000;
let n = 0;

async function setup(t: Test): Promise<{ prefix: string; ledger: RedisLedger; receiver: AlertReceiver; p50: string; p80: string }> {
  const prefix = `k9x${++n}`;
  const receiver = await startAlertReceiver();
  t.teardown(() => receiver.close());
  const ledger = await createRedisLedger({ url: redis.url, keyPrefix: prefix, pricing: testPricing(), clock: systemClock, logger: silentLogger, alerts: { percent: [50, 80, 100], remainingMicro: [] } });
  t.teardown(() => ledger.close());
  await ledger.ensureAccount({ id: 'acme', tier: 'free' });
  const ps = (await ledger.usage('acme')).period.start / 1000;
  return { prefix, ledger, receiver, p50: `tga_acme_${ps}_p50`, p80: `tga_acme_${ps}_p80` };
}

function child(t: Test, prefix: string, receiver: AlertReceiver, mode: 'settle' | 'deliver'): Child {
  const c = spawnChild('alert-child.js', [redis.url, prefix, receiver.url, String(LEASE_MS), mode]);
  t.teardown(() => c.proc.kill('SIGKILL'));
  return c;
}

/** A fresh deliverer in this process, run until the receiver has accepted `count` (the dead one's lease must expire first). */
async function takeOver(ledger: RedisLedger, receiver: AlertReceiver, count: number): Promise<void> {
  const d = createAlertDeliverer({
    outbox: ledger.alerts,
    sender: createWebhookSender({ url: receiver.url, secret: CHILD_SECRET, clock: systemClock, timeoutMs: 2_000 }),
    clock: systemClock,
    logger: silentLogger,
    leaseMs: LEASE_MS,
  });
  const deadline = Date.now() + 5 * LEASE_MS;
  while (receiver.accepted().length < count && Date.now() < deadline) {
    await d.deliverOnce();
    if (receiver.accepted().length < count) await new Promise((r) => setTimeout(r, 100));
  }
  await d.stop();
}

const kill = async (c: Child) => {
  c.proc.kill('SIGKILL');
  return c.exited;
};

t.test('killed between the crossing and the delivery (and before marking the account pending): delivered once', async (t) => {
  const { prefix, ledger, receiver, p50, p80 } = await setup(t);
  const c = child(t, prefix, receiver, 'settle');
  await c.line((l) => l === 'settled');
  t.match(await kill(c), { signal: 'SIGKILL' });
  // As if the kill had come between the script and its SADD: the index does not know the account.
  const raw = redis.client();
  await raw.del(`${prefix}:alerts:pending`);
  t.same(await ledger.alerts.pendingAccounts(false), []);
  t.same((await ledger.alerts.waiting('acme')).map((r) => [r.token, r.usedMicro]), [['p50', 2_100_000_000], ['p80', 2_100_000_000]], 'recorded by the dead process');
  await takeOver(ledger, receiver, 2); // its first run sweeps every account
  t.same(receiver.attempts.map((a) => [a.id, a.status]), [[p50, 200], [p80, 200]], 'each once, found by the sweep');
  for (const a of receiver.attempts) t.ok(verifySignature(CHILD_SECRET, a.signature, a.body, Math.floor(Date.now() / 1000)));
  t.same(await ledger.alerts.waiting('acme'), []);
});

t.test('killed in the middle of a send: the next deliverer sends the same id and body; nothing lost', async (t) => {
  const { prefix, ledger, receiver, p50, p80 } = await setup(t);
  receiver.answer = (a, n) => (a.id === p50 && n === 1 ? 'hold' : 200);
  const c = child(t, prefix, receiver, 'deliver');
  const first = await receiver.next();
  t.equal(first.id, p50);
  t.match(await kill(c), { signal: 'SIGKILL' });
  await takeOver(ledger, receiver, 2);
  t.same(receiver.attempts.map((a) => [a.id, a.status]), [[p50, 0], [p50, 200], [p80, 200]]);
  t.equal(receiver.attempts[0]!.body, receiver.attempts[1]!.body, 'the resend is byte for byte the same event');
  t.same(await ledger.alerts.waiting('acme'), []);
});

t.test('killed after the receiver’s 2xx, before marking it delivered: resent once with the same id (receivers dedupe)', async (t) => {
  const { prefix, ledger, receiver, p50, p80 } = await setup(t);
  let c: Child | undefined;
  // The receiver acts on the event, and the sender dies before it reads the 200.
  receiver.answer = (a, n) => {
    if (a.id === p50 && n === 1) c!.proc.kill('SIGKILL');
    return 200;
  };
  c = child(t, prefix, receiver, 'deliver');
  t.match(await c.exited, { signal: 'SIGKILL' });
  await takeOver(ledger, receiver, 3);
  t.same(receiver.accepted().map((a) => a.id), [p50, p50, p80]);
  t.equal(receiver.attempts[0]!.body, receiver.attempts[1]!.body);
  t.same(new Set(receiver.accepted().map((a) => a.id)), new Set([p50, p80]), 'deduped by id: each crossing once');
  t.same(await ledger.alerts.waiting('acme'), []);
});
