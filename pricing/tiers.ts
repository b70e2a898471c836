// The seed's subscription tiers as data, and the operator's `tiers:` overrides applied to them.

import { creditsToMicro } from './credits.js';
import { TIER_IDS, type Tier, type TierId } from './types.js';

/** shared/seed "Tiers". Overage prices are strings so Stripe gets them exactly. */
export const SEED_TIERS: readonly Tier[] = Object.freeze([
  tier({ id: 'free', priceCents: 0, includedMicro: 2_500_000_000, hardCap: true, overageUsdPerCredit: null, carryoverPeriods: 0 }),
  tier({ id: 'starter', priceCents: 2_900, includedMicro: 50_000_000_000, hardCap: false, overageUsdPerCredit: '0.0010', carryoverPeriods: 1 }),
  tier({ id: 'pro', priceCents: 9_900, includedMicro: 200_000_000_000, hardCap: false, overageUsdPerCredit: '0.0008', carryoverPeriods: 1 }),
  tier({ id: 'scale', priceCents: 49_900, includedMicro: 1_000_000_000_000, hardCap: false, overageUsdPerCredit: '0.0006', carryoverPeriods: 2 }),
]);

/** A plain decimal with at most 12 places: what Stripe's `unit_amount_decimal` accepts. */
const USD_DECIMAL = /^(?:0|[1-9]\d*)(?:\.\d{1,12})?$/;
const OVERRIDE_KEYS = new Set(['priceCents', 'includedCredits', 'carryoverPeriods', 'overageUsdPerCredit']);

/** Human-readable problems in a `tiers:` config section; empty when it is valid. */
export function validateTierOverrides(overrides: unknown): string[] {
  return resolveTiers(overrides).problems;
}

/**
 * The seed tiers with `overrides` applied, and every problem found. A tier without an
 * overage price is hard-capped: nothing could be billed for credits past its limit.
 */
export function resolveTiers(overrides: unknown): { tiers: readonly Tier[]; problems: string[] } {
  const problems: string[] = [];
  if (overrides === undefined || overrides === null) return { tiers: SEED_TIERS, problems };
  if (!isRecord(overrides)) return { tiers: SEED_TIERS, problems: ['tiers: must be a mapping of tier id to overrides'] };

  for (const id of Object.keys(overrides)) {
    if (!(TIER_IDS as readonly string[]).includes(id)) {
      problems.push(`tiers.${id}: unknown tier (expected one of ${TIER_IDS.join(', ')})`);
    }
  }
  const tiers = SEED_TIERS.map((seed) => {
    const o: unknown = overrides[seed.id];
    if (o === undefined) return seed;
    const path = `tiers.${seed.id}`;
    if (!isRecord(o)) {
      problems.push(`${path}: must be a mapping`);
      return seed;
    }
    for (const key of Object.keys(o)) {
      if (!OVERRIDE_KEYS.has(key)) problems.push(`${path}.${key}: unknown setting`);
    }
    const next: Tier = { ...seed };
    if (o.priceCents !== undefined) {
      if (isCount(o.priceCents)) next.priceCents = o.priceCents;
      else problems.push(`${path}.priceCents: must be a non-negative integer number of cents`);
    }
    if (o.includedCredits !== undefined) {
      const parsed = creditsToMicro(o.includedCredits, `${path}.includedCredits`);
      if ('micro' in parsed) next.includedMicro = parsed.micro;
      else problems.push(parsed.problem);
    }
    if (o.carryoverPeriods !== undefined) {
      if (isCount(o.carryoverPeriods)) next.carryoverPeriods = o.carryoverPeriods;
      else problems.push(`${path}.carryoverPeriods: must be a non-negative integer`);
    }
    if (o.overageUsdPerCredit !== undefined) {
      const usd = o.overageUsdPerCredit;
      if (usd === null || (typeof usd === 'string' && USD_DECIMAL.test(usd))) {
        next.overageUsdPerCredit = usd;
        next.hardCap = usd === null;
      } else {
        problems.push(`${path}.overageUsdPerCredit: must be null or a decimal string such as "0.0010"`);
      }
    }
    return tier(next);
  });
  return { tiers: Object.freeze(tiers), problems };
}

export function findTier(tiers: readonly Tier[], id: TierId): Tier {
  const found = tiers.find((t) => t.id === id);
  if (found === undefined) throw new Error(`unknown tier "${String(id)}" (expected one of ${TIER_IDS.join(', ')})`);
  return found;
}

function tier(t: Tier): Tier {
  return Object.freeze(t);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
