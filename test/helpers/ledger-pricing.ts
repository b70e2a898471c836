// Test helper: a Pricing with the seed's tiers only (the ledger uses nothing else), so ledger
// tests do not depend on pricing/'s implementation. Tiers can be overridden per test.

import type { Pricing, Tier, TierId } from '../../pricing/types.js';

export const TEST_TIERS: readonly Tier[] = [
  { id: 'free', priceCents: 0, includedMicro: 2_500_000_000, hardCap: true, overageUsdPerCredit: null, carryoverPeriods: 0 },
  { id: 'starter', priceCents: 2_900, includedMicro: 50_000_000_000, hardCap: false, overageUsdPerCredit: '0.0010', carryoverPeriods: 1 },
  { id: 'pro', priceCents: 9_900, includedMicro: 200_000_000_000, hardCap: false, overageUsdPerCredit: '0.0008', carryoverPeriods: 1 },
  { id: 'scale', priceCents: 49_900, includedMicro: 1_000_000_000_000, hardCap: false, overageUsdPerCredit: '0.0006', carryoverPeriods: 2 },
];

export function testPricing(overrides: Partial<Record<TierId, Partial<Tier>>> = {}): Pricing {
  const tiers = TEST_TIERS.map((t) => ({ ...t, ...overrides[t.id] }));
  const unused = (): never => {
    throw new Error('not used by the ledger');
  };
  return {
    ttsRate: unused,
    sttRate: unused,
    llmRate: unused,
    normalizeModel: unused,
    ragRate: unused,
    ttsCost: unused,
    sttCost: unused,
    llmCost: unused,
    tier(id: TierId) {
      const t = tiers.find((x) => x.id === id);
      if (!t) throw new Error(`unknown tier ${id}`);
      return t;
    },
    tiers: () => tiers,
  };
}

/** 1 credit = 1,000,000 µcr. */
export const cr = (credits: number): number => Math.round(credits * 1_000_000);
