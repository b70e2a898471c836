// A session's reservation steps: the meter's step while the stream runs at real time; doubled
// (to 8× at most) each time a step is reserved less than a settle interval after the one
// before (a stream faster than real time), and back to one step after a slower one.

import t from 'tap';
import type { Ledger } from '../../../ledger/types.js';
import type { Settlement } from '../../../proxy/metering/settlement.js';
import { SessionAccount } from '../../../proxy/realtime/session.js';
import type { SessionMeter } from '../../../proxy/realtime/types.js';

const STEP = 750_000; // 5 s of audio at 9 credits a minute

t.test('steps double while each lasts under a settle interval, to 8×, and fall back to 1×', async (t) => {
  let now = 0;
  const reserved: number[] = [];
  const settlement: Settlement = {
    reserve: async (input) => {
      reserved.push(input.microCredits);
      return { ok: true };
    },
    settle: async () => {},
  };
  const meter: SessionMeter = { modality: 'stt', stepMicro: STEP, client: (f) => ({ forward: f, microCredits: 0 }), provider: (f) => ({ forward: f, microCredits: 0 }), totals: () => ({ microCredits: 0, units: {} }) };
  const a = new SessionAccount({ ledger: {} as Ledger, settlement, ttlMs: 600_000, settleIntervalMs: 5_000, now: () => now }, { sessionId: 's', accountId: 'acme', provider: 'deepgram', byok: false, meter });
  t.same(await a.open(), { ok: true });
  // Spend each step as soon as it is there, 100 ms apart: six more steps.
  for (let i = 0; i < 6; i++) {
    a.consume(a.budget().microCredits);
    t.equal(a.wantsTopUp(), true);
    now += 100;
    await a.topUp();
  }
  // The next one comes 6 s later: a real-time pace again.
  a.consume(a.budget().microCredits);
  now += 6_000;
  await a.topUp();
  t.same(reserved, [STEP, STEP, 2 * STEP, 4 * STEP, 8 * STEP, 8 * STEP, 8 * STEP, STEP]);
  t.equal(a.budget().microCredits, STEP, 'the budget is the last step');
  t.equal(a.spentMicro, 32 * STEP, 'every step was spent');
});
