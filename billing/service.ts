// The billing handlers the admin server mounts: subscription, checkout, portal, webhook.
// Each takes the authenticated account id (the webhook: raw body and signature) and returns a
// JSON-ready value or throws a BillingError (render {error:{message,type,code}} with err.status).

import type { Logger } from 'pino';
import { z } from 'zod';
import type { Account, Clock, Ledger, MeterEventSink } from '../ledger/types.js';
import { MICRO_PER_CREDIT, type Pricing, type TierId } from '../pricing/types.js';
import { createStripeMeterSink } from './meter-sink.js';
import { createBillingError } from './errors.js';
import { createStripeGateway } from './stripe-gateway.js';
import { baseItem, createPriceIndex } from './subscription-state.js';
import { PAID_TIERS, type BillingConfig, type StripeGateway } from './types.js';
import { createWebhookHandler, type WebhookResult } from './webhook.js';

export interface SubscriptionView {
  tier: TierId;
  /** Stripe's subscription status, or the account's status without a subscription. */
  status: string;
  /** ISO 8601. */
  currentPeriod: { start: string; end: string };
  cancelAtPeriodEnd: boolean;
  /** The tier's included credits a period (present when pricing was passed in). */
  includedCredits?: number;
  stripeCustomerId: string | null;
  subscription: {
    id: string;
    status: string;
    items: Array<{ id: string; price: string; quantity: number | null; currentPeriodStart: string; currentPeriodEnd: string }>;
  } | null;
}

export interface Billing {
  subscription(accountId: string): Promise<SubscriptionView>;
  /** Body {tier, successUrl, cancelUrl} → a subscription-mode Checkout session. */
  checkout(accountId: string, body: unknown): Promise<{ url: string; id: string }>;
  /** Body {returnUrl?} (or none) → a billing portal session. */
  portal(accountId: string, body: unknown): Promise<{ url: string }>;
  /** The raw request bytes and the Stripe-Signature header. */
  webhook(rawBody: Buffer, signatureHeader: string | undefined): Promise<WebhookResult>;
}

/** What createBilling returns: the handlers, plus the flusher's sink on the same Stripe client. */
export interface BillingService extends Billing {
  /** Pass to createFlusher({ sink }). Shares customers-on-demand with checkout and portal. */
  readonly sink: MeterEventSink;
}

export interface BillingDeps {
  config: BillingConfig;
  ledger: Ledger;
  /** For the tier's included credits in the subscription view. */
  pricing?: Pricing;
  /** Accepted for symmetry with the other factories; billing reads no time of its own yet. */
  clock?: Clock;
  logger: Logger;
  /** Injected in tests; otherwise built from config.secretKey and config.apiBase. */
  gateway?: StripeGateway;
}

const httpUrl = z.url({ protocol: /^https?$/ });

const CheckoutBody = z.object({
  tier: z.enum(PAID_TIERS as [string, ...string[]]).transform((t) => t as (typeof PAID_TIERS)[number]),
  successUrl: httpUrl,
  cancelUrl: httpUrl,
});

const PortalBody = z.object({ returnUrl: httpUrl.optional() }).optional().nullable();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`);
  throw createBillingError('invalid_request', `invalid request body: ${problems.join('; ')}`, 400, result.error);
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function createBilling(deps: BillingDeps): BillingService {
  const { config, ledger } = deps;
  const logger = deps.logger.child({ component: 'billing' });
  const gateway =
    deps.gateway ?? createStripeGateway({ secretKey: config.secretKey, apiBase: config.apiBase, logger: deps.logger });
  const prices = createPriceIndex(config.prices);
  const sink = createStripeMeterSink({ gateway, ledger, eventName: config.meterEventName, logger: deps.logger });
  const customerFor = sink.customerFor;
  const verifiedWebhook = createWebhookHandler({ gateway, ledger, prices, webhookSecret: config.webhookSecret, logger: deps.logger });
  const webhook: Billing['webhook'] = config.webhookSecret
    ? verifiedWebhook
    : async () => {
        // Without a secret nothing can be verified: refuse rather than trust unsigned bodies.
        throw createBillingError('billing_not_configured', 'the Stripe webhook is not configured: set stripe.webhookSecret');
      };

  const included = (tier: TierId): { includedCredits?: number } =>
    deps.pricing ? { includedCredits: deps.pricing.tier(tier).includedMicro / MICRO_PER_CREDIT } : {};

  async function account(id: string): Promise<Account> {
    const acct = await ledger.getAccount(id);
    if (!acct) throw createBillingError('unknown_account', `no account ${id}`);
    return acct;
  }

  return {
    async subscription(accountId) {
      const acct = await account(accountId);
      const stripeCustomerId = acct.stripeCustomerId ?? null;
      if (!acct.stripeSubscriptionId) {
        const { period } = await ledger.usage(accountId);
        return {
          tier: acct.tier,
          status: acct.status,
          currentPeriod: { start: iso(period.start), end: iso(period.end) },
          cancelAtPeriodEnd: false,
          ...included(acct.tier),
          stripeCustomerId,
          subscription: null,
        };
      }
      const sub = await gateway.retrieveSubscription(acct.stripeSubscriptionId);
      const base = baseItem(sub, prices);
      const period = base
        ? { start: base.currentPeriodStart * 1000, end: base.currentPeriodEnd * 1000 }
        : (await ledger.usage(accountId)).period;
      return {
        tier: acct.tier,
        status: sub.status,
        currentPeriod: { start: iso(period.start), end: iso(period.end) },
        cancelAtPeriodEnd: sub.cancelAtPeriodEnd,
        ...included(acct.tier),
        stripeCustomerId: sub.customerId || stripeCustomerId,
        subscription: {
          id: sub.id,
          status: sub.status,
          items: sub.items.map((i) => ({
            id: i.id,
            price: i.priceId,
            quantity: i.quantity,
            currentPeriodStart: iso(i.currentPeriodStart * 1000),
            currentPeriodEnd: iso(i.currentPeriodEnd * 1000),
          })),
        },
      };
    },

    async checkout(accountId, body) {
      const input = parse(CheckoutBody, body);
      const tierPrices = config.prices[input.tier];
      if (!tierPrices) {
        throw createBillingError('billing_not_configured', `no Stripe prices configured for tier ${input.tier}`);
      }
      const acct = await account(accountId);
      // A second subscription would bill twice; plan changes go through the portal.
      if (acct.stripeSubscriptionId && acct.tier !== 'free') {
        throw createBillingError(
          'already_subscribed',
          `account ${accountId} already has subscription ${acct.stripeSubscriptionId} (${acct.tier}); change plans in the billing portal`,
        );
      }
      const customerId = await customerFor(acct);
      const session = await gateway.createCheckoutSession({
        customerId,
        accountId,
        tier: input.tier,
        basePriceId: tierPrices.base,
        overagePriceId: tierPrices.overage,
        successUrl: input.successUrl,
        cancelUrl: input.cancelUrl,
      });
      logger.info({ accountId, tier: input.tier, sessionId: session.id }, 'checkout session created');
      return { url: session.url, id: session.id };
    },

    async portal(accountId, body) {
      const input = parse(PortalBody, body);
      const acct = await account(accountId);
      const customerId = await customerFor(acct);
      const returnUrl = input?.returnUrl;
      return gateway.createPortalSession(returnUrl ? { customerId, returnUrl } : { customerId });
    },

    webhook,
    sink,
  };
}

/** The handlers when the config has no `stripe:` block: every billing route answers 501. */
export function createDisabledBilling(): Billing {
  const fail = async (): Promise<never> => {
    throw createBillingError('billing_not_configured', 'billing is not configured: add a stripe: block to the config');
  };
  return { subscription: fail, checkout: fail, portal: fail, webhook: fail };
}
