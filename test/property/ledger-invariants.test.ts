// Property: random sequences of reserves and settles (duplicates, settles without a reservation,
// BYOK, settles above the estimate, late settles after the clock moved past a reservation's ttl)
// keep the ledger's invariants on both backends:
//   Σ breakdown = used; remaining = max(0, limit − used) ≥ 0; reserved ≥ 0;
//   a settle applied twice changes nothing (applied false, nothing written off, same usage);
//   requestCount = distinct requests settled; an open account's used = Σ of its settles;
//   the Free hard cap and the spend limit hold: used ≤ limit (Free), ≤ limit + cap (capped),
//   and what is charged there is the sum clamped at the ceiling: each settle's writtenOffMicro is
//   exactly the part past it (never on the open account), so charged + written off = settled.
// The memory ledger runs many sequences; Redis (a real redis-server) a short run.
// (Issue 18's hard-cap property file was merged into this one.)
import t from 'tap';
import fc from 'fast-check';
import type { Modality } from '../../pricing/types.js';
import { backends } from '../helpers/ledger-backends.js';
import { manualClock, utc, type ManualClock } from '../helpers/ledger-clock.js';
import { testPricing } from '../helpers/ledger-pricing.js';
import { startRedis } from '../helpers/redis.js';
import type { TestLedger } from '../helpers/ledger-contract.js';

const FREE_LIMIT = 2_500_000_000;
const STARTER_INCLUDED = 3_000_000_000;
const CAP = 1_000_000_000;
const ACCOUNTS = ['free', 'open', 'capped'] as const;
type Acct = (typeof ACCOUNTS)[number];
const MODALITIES: Modality[] = ['llm', 'tts', 'stt', 'rag'];

type Cmd =
  | { op: 'reserve'; acct: Acct; estimate: number }
  | { op: 'settle'; pick: number; actual: number; modality: Modality }
  | { op: 'settle-unreserved'; acct: Acct; actual: number; byok: boolean; modality: Modality }
  | { op: 'settle-again'; pick: number }
  | { op: 'advance'; ms: number };

const amount = fc.integer({ min: 0, max: 900_000_000 });
const modality = fc.constantFrom(...MODALITIES);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('reserve' as const), acct: fc.constantFrom(...ACCOUNTS), estimate: amount }) },
  // The actual cost may be up to twice the estimate's range: estimates can be low.
  { weight: 4, arbitrary: fc.record({ op: fc.constant('settle' as const), pick: fc.nat(), actual: fc.integer({ min: 0, max: 1_800_000_000 }), modality }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('settle-unreserved' as const), acct: fc.constantFrom('open' as const, 'free' as const, 'capped' as const), actual: amount, byok: fc.boolean(), modality }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('settle-again' as const), pick: fc.nat() }) },
  // Up to 40 s: past the 30 s reservation ttl, so some settles come after their reservation expired.
  { weight: 1, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.nat(40_000) }) },
);
const TTL_MS = 30_000;

const TIERS = { free: 'free', open: 'starter', capped: 'starter' } as const;
const ceilingOf = (a: Acct): number => (a === 'free' ? FREE_LIMIT : a === 'capped' ? STARTER_INCLUDED + CAP : Infinity);

/** Runs one sequence; returns a description of the first broken invariant, or undefined. */
async function runSequence(ledger: TestLedger, clock: ManualClock, cmds: Cmd[]): Promise<string | undefined> {
  let n = 0;
  const reserved: Array<{ acct: Acct; rid: string }> = [];
  const settledRids: Array<{ acct: Acct; rid: string; input: Parameters<TestLedger['settle']>[0] }> = [];
  const model = { free: 0, open: 0, capped: 0 } as Record<Acct, number>;
  const count = { free: 0, open: 0, capped: 0 } as Record<Acct, number>;
  const check = async (where: string): Promise<string | undefined> => {
    for (const a of ACCOUNTS) {
      const u = await ledger.usage(a);
      const sum = Object.values(u.breakdownMicro).reduce((x, y) => x + y, 0);
      if (sum !== u.usedMicro) return `${where}: ${a} Σ breakdown ${sum} ≠ used ${u.usedMicro}`;
      if (u.remainingMicro !== Math.max(0, u.limitMicro - u.usedMicro) || u.remainingMicro < 0) return `${where}: ${a} remaining ${u.remainingMicro}`;
      if (u.reservedMicro < 0) return `${where}: ${a} reserved ${u.reservedMicro}`;
      if (u.usedMicro > ceilingOf(a)) return `${where}: ${a} used ${u.usedMicro} > ceiling ${ceilingOf(a)}`;
      if (u.usedMicro !== model[a]) return `${where}: ${a} used ${u.usedMicro} ≠ expected ${model[a]}`;
      if (u.requestCount !== count[a]) return `${where}: ${a} requestCount ${u.requestCount} ≠ ${count[a]}`;
    }
    return undefined;
  };
  const apply = async (acct: Acct, input: Parameters<TestLedger['settle']>[0]) => {
    const r = await ledger.settle(input);
    if (!r.applied) return `first settle of ${input.requestId} not applied`;
    count[acct]++;
    const want = input.byok ? model[acct] : Math.min(ceilingOf(acct), model[acct] + input.microCredits);
    const writtenOff = input.byok ? 0 : model[acct] + input.microCredits - want;
    if ((r.writtenOffMicro ?? 0) !== writtenOff) return `${input.requestId}: written off ${r.writtenOffMicro ?? 0} ≠ ${writtenOff}`;
    model[acct] = want;
    settledRids.push({ acct, rid: input.requestId, input });
    return undefined;
  };
  for (const c of cmds) {
    const rid = `r${++n}`;
    let err: string | undefined;
    if (c.op === 'advance') {
      clock.advance(c.ms);
      continue;
    }
    if (c.op === 'reserve') {
      const r = await ledger.reserve({ accountId: c.acct, requestId: rid, microCredits: c.estimate, ttlMs: TTL_MS });
      if (r.ok) reserved.push({ acct: c.acct, rid });
      else if (c.acct === 'open') err = `open account refused: ${JSON.stringify(r)}`;
    } else if (c.op === 'settle') {
      if (reserved.length === 0) continue;
      const [{ acct, rid: id }] = reserved.splice(c.pick % reserved.length, 1) as [{ acct: Acct; rid: string }];
      err = await apply(acct, { accountId: acct, requestId: id, modality: c.modality, provider: 'p', byok: false, microCredits: c.actual, units: {}, outcome: 'ok' });
    } else if (c.op === 'settle-unreserved') {
      err = await apply(c.acct, { accountId: c.acct, requestId: rid, modality: c.modality, provider: 'p', byok: c.byok, microCredits: c.byok ? 0 : c.actual, units: c.byok ? { inputTokens: 7 } : {}, outcome: 'ok' });
    } else {
      if (settledRids.length === 0) continue;
      const s = settledRids[c.pick % settledRids.length]!;
      const before = JSON.stringify(await ledger.usage(s.acct));
      const r = await ledger.settle({ ...s.input, microCredits: s.input.microCredits + 1 });
      if (r.applied || r.writtenOffMicro) err = `second settle of ${s.rid} applied`;
      else if (JSON.stringify(await ledger.usage(s.acct)) !== before) err = `second settle of ${s.rid} changed the usage`;
    }
    err ??= await check(`${c.op} ${rid}`);
    if (err) return err;
  }
  // Every reservation settled: nothing held.
  for (const { acct, rid } of reserved.splice(0)) {
    const e = await apply(acct, { accountId: acct, requestId: rid, modality: 'llm', provider: 'p', byok: false, microCredits: 0, units: {}, outcome: 'aborted' });
    if (e) return e;
  }
  for (const a of ACCOUNTS) if ((await ledger.usage(a)).reservedMicro !== 0) return `${a}: reserved after every settle`;
  return check('end');
}

t.test('ledger invariants under random reserve/settle sequences', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  for (const { name, make } of backends(redis.url)) {
    const runs = name === 'memory' ? 150 : 25;
    t.test(name, async (t) => {
      let done = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(cmd, { minLength: 1, maxLength: name === 'memory' ? 60 : 30 }), async (cmds) => {
          done++;
          const clock = manualClock(utc(2026, 12, 3, 8));
          const { ledger, close } = await make(clock, testPricing({ starter: { includedMicro: STARTER_INCLUDED } }));
          try {
            for (const a of ACCOUNTS) await ledger.ensureAccount({ id: a, tier: TIERS[a] });
            await ledger.updateAccount('capped', { overageCapMicro: CAP });
            const err = await runSequence(ledger, clock, cmds);
            if (err) throw new Error(err);
          } finally {
            await close();
          }
        }),
        { numRuns: runs, seed: Number(process.env.FC_SEED ?? 18) },
      );
      t.equal(done >= runs, true, `${runs} random sequences on the ${name} ledger kept every invariant`);
    });
  }
});
