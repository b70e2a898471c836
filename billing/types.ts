// Types of the billing domain: its config, the small Stripe gateway interface, and the plain
// shapes the gateway turns Stripe objects into (so nothing outside the gateway sees Stripe's types).

import type { TierId } from '../pricing/types.js';

export type PaidTierId = Exclude<TierId, 'free'>;
export const PAID_TIERS: readonly PaidTierId[] = ['starter', 'pro', 'scale'];

/** The `stripe:` block of the config, as billing uses it. */
export interface BillingConfig {
  secretKey: string;
  /** https://api.stripe.com, or http://127.0.0.1:PORT in tests. */
  apiBase: string;
  webhookSecret: string;
  /** The Billing Meter's event_name, e.g. tollgate_overage_credits. */
  meterEventName: string;
  /** Stripe price ids per paid tier: a licensed monthly base price and a metered overage price. */
  prices: Partial<Record<PaidTierId, { base: string; overage: string }>>;
}

// ---- what the gateway returns ----

export interface SubscriptionItemInfo {
  id: string;
  priceId: string;
  quantity: number | null;
  /** Unix seconds. Since API 2025-03-31.basil the period lives on items. */
  currentPeriodStart: number;
  currentPeriodEnd: number;
}

export interface SubscriptionInfo {
  id: string;
  customerId: string;
  /** Stripe's status: active, trialing, past_due, unpaid, paused, incomplete, incomplete_expired, canceled. */
  status: string;
  cancelAtPeriodEnd: boolean;
  metadata: Record<string, string>;
  items: SubscriptionItemInfo[];
}

export interface CheckoutSessionInfo {
  id: string;
  url: string | null;
  mode: string;
  clientReferenceId: string | null;
  customerId: string | null;
  subscriptionId: string | null;
  metadata: Record<string, string>;
}

export interface InvoiceInfo {
  id: string;
  customerId: string | null;
  subscriptionId: string | null;
}

/** A verified webhook event, reduced to what billing acts on. */
export type WebhookEvent = { id: string; created: number } & (
  | { type: 'checkout.session.completed'; session: CheckoutSessionInfo }
  | {
      type: 'customer.subscription.created' | 'customer.subscription.updated' | 'customer.subscription.deleted';
      subscription: SubscriptionInfo;
    }
  | { type: 'invoice.paid'; invoice: InvoiceInfo }
  | { type: 'ignored'; stripeType: string }
);

export interface MeterEventInput {
  eventName: string;
  identifier: string;
  customerId: string;
  /** Whole credits. */
  value: number;
  /** Unix seconds. */
  timestamp: number;
}

export interface CheckoutInput {
  customerId: string;
  accountId: string;
  tier: PaidTierId;
  basePriceId: string;
  overagePriceId: string;
  successUrl: string;
  cancelUrl: string;
}

/** Everything tollgate asks of Stripe. Implemented on stripe-node by stripe-gateway.ts only. */
export interface StripeGateway {
  /** Throws a BillingError stripe_error (retryable flag set for 5xx/429/network). */
  createCustomer(input: { accountId: string }, opts: { idempotencyKey: string }): Promise<{ id: string }>;
  /**
   * 'duplicate' when Stripe already has the identifier (400 "already exists"). Throws a
   * RetryableSinkError for 5xx, 409, 429 and network errors, a BillingError otherwise.
   */
  createMeterEvent(input: MeterEventInput, opts: { idempotencyKey: string }): Promise<'delivered' | 'duplicate'>;
  createCheckoutSession(input: CheckoutInput): Promise<{ id: string; url: string }>;
  createPortalSession(input: { customerId: string; returnUrl?: string }): Promise<{ url: string }>;
  retrieveSubscription(id: string): Promise<SubscriptionInfo>;
  /** Verifies the signature against the raw bytes; throws BillingError invalid_signature. */
  constructWebhookEvent(rawBody: Buffer, signature: string | undefined, secret: string): WebhookEvent;
}
