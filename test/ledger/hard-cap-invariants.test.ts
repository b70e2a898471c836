// Property (issue 18): over random sequences of reserves, settles (with duplicates, BYOK,
// unreserved and late ones) and clock moves, on three accounts (Free; Starter with a spend
// limit; Pro with none), after every step: Σ breakdown = used, remaining ≥ 0, held ≥ 0; Free
// used ≤ limit and the spend-limited account's used ≤ limit + spend limit; a settle that writes
// something off leaves used exactly at that ceiling; charged + written off = what was settled;
// settling twice = settling once. The memory ledger at length, Redis in a shorter run.
import t, { type Test } from 'tap';
import fc from 'fast-check';
import type { Modality } from '../../pricing/types.js';
import { backends } from '../helpers/ledger-backends.js';
import { manualClock, utc } from '../helpers/ledger-clock.js';
import { cr, testPricing } from '../helpers/ledger-pricing.js';
import { startRedis } from '../helpers/redis.js';

const ACCOUNTS = ['free', 'capped', 'open'] as const;
const CAP = cr(100);
const MODALITIES: Modality[] = ['tts', 'stt', 'llm', 'rag'];
// Small allowances so random amounts reach the caps: Free 2,500, Starter and Pro 1,000 credits.
const pricing = testPricing({ starter: { includedMicro: cr(1000) }, pro: { includedMicro: cr(1000) } });

type Op =
  | { kind: 'reserve'; acct: number; rid: number; amount: number }
  | { kind: 'settle'; acct: number; rid: number; amount: number; modality: number; byok: boolean }
  | { kind: 'advance'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('reserve' as const), acct: fc.nat(2), rid: fc.nat(11), amount: fc.nat(cr(900)) }),
  fc.record({ kind: fc.constant('settle' as const), acct: fc.nat(2), rid: fc.nat(11), amount: fc.nat(cr(1300)), modality: fc.nat(3), byok: fc.boolean() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(20_000) }),
);

async function run(redisUrl: string | undefined, runs: number, t: Test): Promise<void> {
  const backend = backends(redisUrl ?? 'redis://unused').find((b) => b.name === (redisUrl ? 'redis' : 'memory'))!;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
      const clock = manualClock(utc(2026, 1, 10));
      const { ledger, close } = await backend.make(clock, pricing);
      try {
        await ledger.ensureAccount({ id: 'free', tier: 'free' });
        await ledger.ensureAccount({ id: 'capped', tier: 'starter' });
        await ledger.updateAccount('capped', { overageCapMicro: CAP });
        await ledger.ensureAccount({ id: 'open', tier: 'pro' });
        const settled = { free: 0, capped: 0, open: 0 };
        const writtenOff = { free: 0, capped: 0, open: 0 };
        for (const o of ops) {
          if (o.kind === 'advance') {
            clock.advance(o.ms);
            continue;
          }
          const id = ACCOUNTS[o.acct]!;
          const rid = `r${o.rid}`;
          if (o.kind === 'reserve') {
            await ledger.reserve({ accountId: id, requestId: rid, microCredits: o.amount, ttlMs: 30_000 });
          } else {
            const input = { accountId: id, requestId: rid, modality: MODALITIES[o.modality]!, provider: 'p', byok: o.byok, microCredits: o.amount, units: o.byok ? { chars: 3 } : {}, outcome: 'ok' as const };
            const r = await ledger.settle(input);
            const after = await ledger.usage(id);
            if (r.applied && !o.byok) {
              settled[id] += o.amount;
              writtenOff[id] += r.writtenOffMicro ?? 0;
              if (r.writtenOffMicro) {
                if (id === 'open') throw new Error('an open account had something written off');
                const ceiling = after.limitMicro + (id === 'capped' ? CAP : 0);
                if (after.usedMicro !== ceiling) throw new Error(`written off below the ceiling: used ${after.usedMicro} of ${ceiling}`);
              }
            }
            if (!r.applied && r.writtenOffMicro) throw new Error('a duplicate wrote something off');
            // Settling twice = settling once.
            const again = await ledger.settle(input);
            if (again.applied || again.writtenOffMicro) throw new Error(`a second settle of ${rid} applied`);
            const twice = await ledger.usage(id);
            if (twice.usedMicro !== after.usedMicro || twice.requestCount !== after.requestCount) throw new Error('a second settle changed the usage');
          }
          for (const a of ACCOUNTS) {
            const u = await ledger.usage(a);
            const sum = MODALITIES.reduce((s, m) => s + u.breakdownMicro[m], 0);
            if (sum !== u.usedMicro) throw new Error(`${a}: Σ breakdown ${sum} ≠ used ${u.usedMicro}`);
            if (u.remainingMicro < 0 || u.reservedMicro < 0) throw new Error(`${a}: negative remaining or held`);
            if (a === 'free' && u.usedMicro > u.limitMicro) throw new Error(`free: used ${u.usedMicro} > limit ${u.limitMicro}`);
            if (a === 'capped' && u.usedMicro > u.limitMicro + CAP) throw new Error(`capped: used ${u.usedMicro} > limit + cap`);
            if (u.usedMicro + writtenOff[a] !== settled[a]) throw new Error(`${a}: charged ${u.usedMicro} + written off ${writtenOff[a]} ≠ settled ${settled[a]}`);
          }
        }
      } finally {
        await close();
      }
    }),
    { numRuns: runs },
  );
  t.pass(`${runs} random sequences hold every invariant`);
}

t.test('memory ledger', (t) => run(undefined, 300, t));

t.test('redis ledger (a shorter run)', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  await run(redis.url, 25, t);
});
