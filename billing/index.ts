// Billing domain: Stripe customers, Checkout, portal, subscription webhooks, and the flusher's meter sink.

export { createBilling, createDisabledBilling } from './service.js';
export type { Billing, BillingDeps, BillingService, SubscriptionView } from './service.js';
export { createStripeMeterSink } from './meter-sink.js';
export { createStripeGateway, mapStripeError } from './stripe-gateway.js';
export { createCustomerResolver, customerIdempotencyKey } from './customers.js';
export type { StripeGatewayOptions } from './stripe-gateway.js';
export { BILLING_ERRORS, BillingError, createBillingError, isBillingError } from './errors.js';
export type { BillingErrorCode } from './errors.js';
export type { WebhookResult } from './webhook.js';
export { PAID_TIERS } from './types.js';
export type { BillingConfig, PaidTierId, StripeGateway, SubscriptionInfo, WebhookEvent } from './types.js';
