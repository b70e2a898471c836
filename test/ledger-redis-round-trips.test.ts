// One round trip to reserve and one to settle, also for a paid account deep in overage (the
// flusher's pending set is told once per episode, not once per request); one in all (the
// settle) for a paid account with no spend limit, admitted locally.

import t from 'tap';
import { overageSettle } from './helpers/ledger-backends.js';
import { cr } from './helpers/ledger-pricing.js';
import { spiedLedger } from './helpers/redis-spy.js';

t.test('reserve + settle = 2 commands per metered request; 1 for a paid account admitted locally', async (t) => {
  for (const local of [false, true]) {
    const { ledger, sent } = await spiedLedger(t, local ? {} : { termsTtlMs: 0 });
    await ledger.ensureAccount({ id: 'acme', tier: 'pro', stripeCustomerId: 'cus_acme' });
    await ledger.reserve({ accountId: 'acme', requestId: 'base', microCredits: 0, ttlMs: 60_000 });
    await ledger.settle(overageSettle('acme', 'base', cr(200_000)));

    sent.length = 0;
    for (let i = 0; i < 50; i++) {
      await ledger.reserve({ accountId: 'acme', requestId: `r${i}`, microCredits: cr(3), ttlMs: 60_000 });
      await ledger.settle(overageSettle('acme', `r${i}`, cr(2)));
    }
    const count = (name: string) => sent.filter((n) => n === name).length;
    const scripts = local ? 50 : 100;
    t.equal(count('evalsha') + count('eval'), scripts, local ? 'one script per settle, none per reserve' : 'one script per reserve and per settle');
    t.equal(count('sadd'), 1, 'the pending set is told once, when the first whole credit is pending');
    t.equal(sent.length, scripts + 1, 'nothing else');
    t.equal((await ledger.usage('acme')).overageMicro, cr(100));
  }
});

t.test('a Redis that lost its scripts (SCRIPT FLUSH, restart) is answered by one EVAL, then EVALSHA again', async (t) => {
  const { client, ledger, sent } = await spiedLedger(t, { termsTtlMs: 0 });
  await ledger.ensureAccount({ id: 'acme', tier: 'pro' });
  await client.script('FLUSH');
  sent.length = 0;
  await ledger.reserve({ accountId: 'acme', requestId: 'r1', microCredits: cr(3), ttlMs: 60_000 });
  await ledger.settle(overageSettle('acme', 'r1', cr(2)));
  await ledger.reserve({ accountId: 'acme', requestId: 'r2', microCredits: cr(3), ttlMs: 60_000 });
  await ledger.settle(overageSettle('acme', 'r2', cr(2)));
  t.same(sent, ['evalsha', 'eval', 'evalsha', 'eval', 'evalsha', 'evalsha'], 'NOSCRIPT once per script, then by hash');
  const u = await ledger.usage('acme');
  t.equal(u.usedMicro, cr(4), 'both requests settled once each');
  t.equal(u.reservedMicro, 0);
});
