// Alerts end to end on one Redis: the debits record them, the deliverer posts them signed to a
// real receiver, exactly once each; retried on 500s and timeouts with the same id and body; a
// new period re-arms every threshold.

import t, { type Test } from 'tap';
import { createAlertDeliverer, createRedisLedger, type AlertRules, type SettleInput } from '../../ledger/index.js';
import { createWebhookSender } from '../../proxy/alerts/webhook.js';
import { startAlertReceiver, verifySignature, type AlertReceiver } from '../helpers/alert-receiver.js';
import { silentLogger } from '../helpers/ledger-backends.js';
import { manualClock, utc } from '../helpers/ledger-clock.js';
import { cr, testPricing } from '../helpers/ledger-pricing.js';
import { startRedis } from '../helpers/redis.js';

const SECRET = 'whsec_test_alerts_0123456789abcdef';
const RULES: AlertRules = { percent: [50, 80, 100], remainingMicro: [] };
const redis = await startRedis();
t.teardown(() => redis.stop());
let n = 0;

async function setup(t: Test, receiver: AlertReceiver, opts: { timeoutMs?: number; retries?: number } = {}) {
  const clock = manualClock(utc(2026, 1, 10));
  const ledger = await createRedisLedger({ url: redis.url, keyPrefix: `wh${++n}`, pricing: testPricing(), clock, logger: silentLogger, alerts: RULES });
  t.teardown(() => ledger.close());
  const deliverer = createAlertDeliverer({
    outbox: ledger.alerts,
    sender: createWebhookSender({ url: receiver.url, secret: SECRET, clock, timeoutMs: opts.timeoutMs ?? 2_000 }),
    clock,
    logger: silentLogger,
    retries: opts.retries ?? 3,
    backoffMs: 20,
  });
  t.teardown(() => deliverer.stop());
  const settle = (accountId: string, requestId: string, microCredits: number): Promise<unknown> =>
    ledger.settle({ accountId, requestId, modality: 'llm', provider: 'openai', byok: false, microCredits, units: {}, outcome: 'ok' } satisfies SettleInput);
  return { clock, ledger, deliverer, settle };
}

const JAN = { start: '2026-01-01T00:00:00.000Z', end: '2026-02-01T00:00:00.000Z' };

t.test('a Free account driven to 50/80/100%: 3 threshold events and 1 exhausted, each delivered once, signed', async (t) => {
  const receiver = await startAlertReceiver();
  t.teardown(() => receiver.close());
  const { clock, ledger, deliverer, settle } = await setup(t, receiver);
  await ledger.ensureAccount({ id: 'acme', tier: 'free' });
  await settle('acme', 'r1', cr(1250));
  await settle('acme', 'r2', cr(750));
  await settle('acme', 'r3', cr(600)); // 100 credits past the cap: written off, used stops at 2,500
  await deliverer.deliverOnce();

  const body = (token: string, type: string, threshold: number, used: number) => ({
    id: `tga_acme_${utc(2026, 1, 1) / 1000}_${token}`,
    type,
    accountId: 'acme',
    threshold,
    thresholdType: 'percent',
    used,
    limit: 2500,
    period: JAN,
    createdAt: '2026-01-10T00:00:00.000Z',
  });
  t.same(receiver.attempts.map((a) => a.json), [
    body('p50', 'credits.threshold_crossed', 50, 1250),
    body('p80', 'credits.threshold_crossed', 80, 2000),
    body('p100', 'credits.threshold_crossed', 100, 2500),
    body('exhausted', 'credits.exhausted', 100, 2500),
  ]);
  t.same(receiver.attempts.map((a) => a.status), [200, 200, 200, 200]);
  const now = Math.floor(clock.now() / 1000);
  for (const a of receiver.attempts) {
    t.match(a.signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    t.ok(verifySignature(SECRET, a.signature, a.body, now), `${a.id}: the signature verifies with the secret`);
    t.notOk(verifySignature('whsec_some_other_secret_000000000', a.signature, a.body, now), 'and not with another');
    t.notOk(verifySignature(SECRET, a.signature, a.body.replace('"used":', '"used": '), now), 'nor over another body');
  }
  t.same(await ledger.alerts.waiting('acme'), [], 'delivered ones leave the outbox');
  t.same(await ledger.alerts.pendingAccounts(false), []);
  t.same(deliverer.stats().sent, { 'credits.threshold_crossed': 3, 'credits.exhausted': 1, 'overage.started': 0, 'spend_limit.reached': 0 });

  // More debits and a full sweep: nothing again.
  await settle('acme', 'r4', cr(5));
  await deliverer.deliverOnce(true);
  t.equal(receiver.attempts.length, 4, 'each crossing once');

  // February: every threshold is armed again, under new ids.
  clock.set(utc(2026, 2, 3));
  await settle('acme', 'f1', cr(1300));
  await deliverer.deliverOnce();
  t.equal(receiver.attempts.length, 5);
  t.same(receiver.attempts[4]!.json, {
    ...body('p50', 'credits.threshold_crossed', 50, 1300),
    id: `tga_acme_${utc(2026, 2, 1) / 1000}_p50`,
    period: { start: '2026-02-01T00:00:00.000Z', end: '2026-03-01T00:00:00.000Z' },
    createdAt: '2026-02-03T00:00:00.000Z',
  });
});

t.test('a receiver that answers 500 twice gets the event on the third try, same id and body', async (t) => {
  const receiver = await startAlertReceiver();
  t.teardown(() => receiver.close());
  receiver.answer = (_a, n) => (n <= 2 ? 500 : 200);
  const { ledger, deliverer, settle } = await setup(t, receiver);
  await ledger.ensureAccount({ id: 'beta', tier: 'free' });
  await settle('beta', 'r1', cr(1300));
  await deliverer.deliverOnce();
  t.same(receiver.attempts.map((a) => a.status), [500, 500, 200]);
  t.same(new Set(receiver.attempts.map((a) => a.id)), new Set([`tga_beta_${utc(2026, 1, 1) / 1000}_p50`]));
  t.same(new Set(receiver.attempts.map((a) => a.body)).size, 1, 'the same bytes each time');
  t.equal(receiver.accepted().length, 1);
  t.equal(deliverer.stats().failed['credits.threshold_crossed'], 2);
  t.equal(deliverer.stats().sent['credits.threshold_crossed'], 1);
  t.same(await ledger.alerts.waiting('beta'), []);
});

t.test('a receiver that does not answer in time is retried; one that keeps failing keeps the event for a later run', async (t) => {
  const receiver = await startAlertReceiver();
  t.teardown(() => receiver.close());
  receiver.answer = (_a, n) => (n === 1 ? 'hold' : 200);
  const { clock, ledger, deliverer, settle } = await setup(t, receiver, { timeoutMs: 300, retries: 1 });
  await ledger.ensureAccount({ id: 'gamma', tier: 'free' });
  await settle('gamma', 'r1', cr(1300));
  await deliverer.deliverOnce();
  t.same(receiver.attempts.map((a) => a.status), [0, 200], 'the first timed out (never answered), the retry was taken');
  t.equal(receiver.attempts[0]!.body, receiver.attempts[1]!.body);

  // Down for longer than a run's retries: the event waits, backed off, and goes later.
  receiver.answer = () => 503;
  await settle('gamma', 'r2', cr(800));
  await deliverer.deliverOnce();
  t.equal(receiver.attempts.length, 4, 'two more tries (1 retry), both 503');
  t.equal(deliverer.stats().deferred, 1);
  t.equal((await ledger.alerts.waiting('gamma')).length, 1, 'still in the outbox');
  await deliverer.deliverOnce();
  t.equal(receiver.attempts.length, 4, 'not tried again before its backoff');
  receiver.answer = () => 200;
  clock.advance(60_000);
  await deliverer.deliverOnce();
  t.same(receiver.attempts.slice(4).map((a) => [a.json.type, a.json.threshold, a.status]), [['credits.threshold_crossed', 80, 200]]);
  t.equal(deliverer.stats().deferred, 0);
  t.same(await ledger.alerts.waiting('gamma'), []);
});

t.test('stop() cuts a send in progress: the event stays in the outbox and the lease is released', async (t) => {
  const receiver = await startAlertReceiver();
  t.teardown(() => receiver.close());
  receiver.answer = () => 'hold';
  const { ledger, deliverer, settle } = await setup(t, receiver, { timeoutMs: 30_000 });
  await ledger.ensureAccount({ id: 'delta', tier: 'free' });
  await settle('delta', 'r1', cr(1300));
  const run = deliverer.deliverOnce();
  await receiver.next();
  await deliverer.stop(); // a shutdown: does not wait out the 30 s timeout
  await run;
  t.equal(deliverer.stats().failed['credits.threshold_crossed'], 0, 'a cut send is not counted as the receiver failing');
  t.equal((await ledger.alerts.waiting('delta')).length, 1, 'still waiting for the next process');
  t.equal(await ledger.alerts.lease('delta', 'someone-else', 1000), true, 'the lease was released');
});
