// The seed tiers, exactly, and the operator's `tiers:` overrides.

import t from 'tap';
import { createPricing, SEED_TIERS, TIER_IDS, validateTierOverrides, type TierId } from '../pricing/index.js';

t.test('the seed tiers', async (t) => {
  const pricing = createPricing();
  t.same(pricing.tiers(), [
    { id: 'free', priceCents: 0, includedMicro: 2_500_000_000, hardCap: true, overageUsdPerCredit: null, carryoverPeriods: 0 },
    { id: 'starter', priceCents: 2_900, includedMicro: 50_000_000_000, hardCap: false, overageUsdPerCredit: '0.0010', carryoverPeriods: 1 },
    { id: 'pro', priceCents: 9_900, includedMicro: 200_000_000_000, hardCap: false, overageUsdPerCredit: '0.0008', carryoverPeriods: 1 },
    { id: 'scale', priceCents: 49_900, includedMicro: 1_000_000_000_000, hardCap: false, overageUsdPerCredit: '0.0006', carryoverPeriods: 2 },
  ]);
  t.same(pricing.tiers().map((x) => x.id), TIER_IDS, 'in TIER_IDS order');
  for (const id of TIER_IDS) t.equal(pricing.tier(id).id, id);
  t.equal(pricing.tier('pro').includedMicro, 200_000 * 1_000_000, 'pro: 200,000 credits');
  t.ok(Object.isFrozen(SEED_TIERS) && SEED_TIERS.every(Object.isFrozen), 'frozen');
  t.throws(() => pricing.tier('gold' as TierId), /unknown tier "gold"/);
});

t.test('overrides replace only the settings they name', async (t) => {
  const pricing = createPricing(undefined, {
    starter: { includedCredits: 60_000.5, priceCents: 3_900 },
    scale: { carryoverPeriods: 3, overageUsdPerCredit: '0.0005' },
  });
  t.same(pricing.tier('starter'), {
    id: 'starter', priceCents: 3_900, includedMicro: 60_000_500_000, hardCap: false, overageUsdPerCredit: '0.0010', carryoverPeriods: 1,
  });
  t.same(pricing.tier('scale'), {
    id: 'scale', priceCents: 49_900, includedMicro: 1_000_000_000_000, hardCap: false, overageUsdPerCredit: '0.0005', carryoverPeriods: 3,
  });
  t.same(pricing.tier('free'), SEED_TIERS[0], 'others untouched');
  t.equal(createPricing().tier('starter').priceCents, 2_900, 'the seed is not mutated');
});

t.test('an overage price decides the hard cap', async (t) => {
  const pricing = createPricing(undefined, { pro: { overageUsdPerCredit: null }, free: { overageUsdPerCredit: '0.002' } });
  t.equal(pricing.tier('pro').hardCap, true, 'no overage price: refused past the limit');
  t.equal(pricing.tier('free').hardCap, false, 'an overage price: billed past the limit');
});

t.test('invalid tier overrides are all reported', async (t) => {
  const problems = validateTierOverrides({
    gold: {},
    free: { includedCredits: -1 },
    starter: { priceCents: 29.5, overageUsdPerCredit: 0.001 },
    pro: { includedCredits: 0.0000001, carryoverPeriods: -1, credits: 5 },
  });
  t.same(problems, [
    'tiers.gold: unknown tier (expected one of free, starter, pro, scale)',
    'tiers.free.includedCredits: must not be negative, got -1',
    'tiers.starter.priceCents: must be a non-negative integer number of cents',
    'tiers.starter.overageUsdPerCredit: must be null or a decimal string such as "0.0010"',
    'tiers.pro.credits: unknown setting',
    'tiers.pro.includedCredits: at most 6 decimals of a credit (1 µcr), got 1e-7',
    'tiers.pro.carryoverPeriods: must be a non-negative integer',
  ]);
  t.same(validateTierOverrides(undefined), []);
  t.same(validateTierOverrides({ scale: { overageUsdPerCredit: '1.000000000001' } }), []);
  t.same(validateTierOverrides({ scale: { overageUsdPerCredit: '-1' } }).length, 1);
  t.throws(() => createPricing(undefined, { free: { includedCredits: -1 } }), {
    code: 'invalid_pricing_config',
    problems: ['tiers.free.includedCredits: must not be negative, got -1'],
  });
});
