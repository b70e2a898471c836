// Pure mapping from a Stripe subscription to an account's tier, status and period. No I/O.

import type { AccountPatch, AccountStatus } from '../ledger/types.js';
import type { TierId } from '../pricing/types.js';
import { PAID_TIERS, type BillingConfig, type PaidTierId, type SubscriptionInfo, type SubscriptionItemInfo } from './types.js';

export interface PriceIndex {
  /** The tier a price id belongs to, and whether it is the tier's base or overage price. */
  lookup(priceId: string): { tier: PaidTierId; role: 'base' | 'overage' } | undefined;
}

export function createPriceIndex(prices: BillingConfig['prices']): PriceIndex {
  const byId = new Map<string, { tier: PaidTierId; role: 'base' | 'overage' }>();
  for (const tier of PAID_TIERS) {
    const p = prices[tier];
    if (!p) continue;
    byId.set(p.base, { tier, role: 'base' });
    byId.set(p.overage, { tier, role: 'overage' });
  }
  return { lookup: (id) => byId.get(id) };
}

/**
 * entitled: the paid tier applies (past_due is Stripe's dunning grace period).
 * ended: the subscription is over for good; the account goes back to Free.
 * suspended: alive but unpaid/paused/incomplete; Free limits until Stripe says otherwise.
 */
export type SubscriptionPhase = 'entitled' | 'suspended' | 'ended';

export interface SubscriptionState {
  phase: SubscriptionPhase;
  /** The paid tier its prices name, or null when none of its prices is in config.prices. */
  paidTier: PaidTierId | null;
  /** The tier the account should have now. */
  tier: TierId;
  status: AccountStatus;
  /** The base item's current period, ms; null when the subscription has no items. */
  period: { start: number; end: number } | null;
}

const STATUS: Record<string, { phase: SubscriptionPhase; status: AccountStatus }> = {
  active: { phase: 'entitled', status: 'active' },
  trialing: { phase: 'entitled', status: 'trialing' },
  past_due: { phase: 'entitled', status: 'past_due' },
  unpaid: { phase: 'suspended', status: 'unpaid' },
  paused: { phase: 'suspended', status: 'unpaid' },
  incomplete: { phase: 'suspended', status: 'incomplete' },
  incomplete_expired: { phase: 'ended', status: 'active' },
  // After cancellation the account is an active Free account.
  canceled: { phase: 'ended', status: 'active' },
};

export function subscriptionState(sub: SubscriptionInfo, prices: PriceIndex): SubscriptionState {
  const { phase, status } = STATUS[sub.status] ?? { phase: 'suspended' as const, status: 'incomplete' as const };
  const base = baseItem(sub, prices);
  const match = base ? prices.lookup(base.priceId) : undefined;
  const paidTier = match?.tier ?? null;
  const period = base ? { start: base.currentPeriodStart * 1000, end: base.currentPeriodEnd * 1000 } : null;
  const tier: TierId = phase === 'entitled' && paidTier ? paidTier : 'free';
  return { phase, paidTier, tier, status, period };
}

/** The item carrying a tier's base price; else one with an overage price; else the first. */
export function baseItem(sub: SubscriptionInfo, prices: PriceIndex): SubscriptionItemInfo | undefined {
  return (
    sub.items.find((i) => prices.lookup(i.priceId)?.role === 'base') ??
    sub.items.find((i) => prices.lookup(i.priceId) !== undefined) ??
    sub.items[0]
  );
}

/** The ledger patch that puts an account in step with the subscription. */
export function patchFor(sub: SubscriptionInfo, state: SubscriptionState): AccountPatch {
  if (state.phase === 'ended') return { tier: 'free', status: 'active', stripeSubscriptionId: null };
  const patch: AccountPatch = {
    tier: state.tier,
    status: state.status,
    stripeSubscriptionId: sub.id,
  };
  if (sub.customerId) patch.stripeCustomerId = sub.customerId;
  // Periods follow Stripe only while the paid tier applies.
  if (state.phase === 'entitled' && state.period) patch.period = state.period;
  return patch;
}
