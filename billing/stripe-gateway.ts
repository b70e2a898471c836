// The only module that imports `stripe`: the StripeGateway on stripe-node, and the one function
// that maps Stripe's errors to tollgate's. Stripe objects are reduced to billing/types.ts shapes here.
// API facts: shared/reference/stripe.md (meter events, Idempotency-Key, basil item periods).

import Stripe from 'stripe';
import type { Logger } from 'pino';
import { RetryableSinkError } from '../ledger/types.js';
import { createBillingError, isBillingError, type BillingError } from './errors.js';
import type {
  CheckoutSessionInfo,
  InvoiceInfo,
  StripeGateway,
  SubscriptionInfo,
  WebhookEvent,
} from './types.js';

export interface StripeGatewayOptions {
  secretKey: string;
  /** https://api.stripe.com (default) or e.g. http://127.0.0.1:4010; only scheme, host and port are used. */
  apiBase?: string;
  logger: Logger;
  /**
   * stripe-node's own retries (with our idempotency key, so safe). Default 0: the flusher owns
   * retries and backoff, and a failed call surfaces at once. stripe-node still retries a reset
   * connection once regardless of this setting.
   */
  maxNetworkRetries?: number;
  /** Per-request timeout, ms. Default 20 s (stripe-node's 80 s would stall a flush). */
  timeoutMs?: number;
}

export function createStripeGateway(opts: StripeGatewayOptions): StripeGateway {
  const logger = opts.logger.child({ component: 'stripe-gateway' });
  const stripe = new Stripe(opts.secretKey, {
    ...addressOf(opts.apiBase ?? 'https://api.stripe.com'),
    maxNetworkRetries: opts.maxNetworkRetries ?? 0,
    timeout: opts.timeoutMs ?? 20_000,
    telemetry: false,
    appInfo: { name: 'tollgate' },
  });

  return {
    async createCustomer({ accountId }, { idempotencyKey }) {
      try {
        // Parameters must be a pure function of the account: the same key with other
        // parameters is an idempotency_error.
        const customer = await stripe.customers.create(
          { description: `tollgate account ${accountId}`, metadata: { accountId } },
          { idempotencyKey },
        );
        return { id: customer.id };
      } catch (err) {
        throw mapStripeError(err, 'create customer');
      }
    },

    async createMeterEvent(input, { idempotencyKey }) {
      try {
        await stripe.billing.meterEvents.create(
          {
            event_name: input.eventName,
            identifier: input.identifier,
            timestamp: input.timestamp,
            payload: { stripe_customer_id: input.customerId, value: String(input.value) },
          },
          { idempotencyKey },
        );
        return 'delivered';
      } catch (err) {
        // Stripe already has this identifier: an earlier attempt (perhaps by a process that
        // crashed before recording it) was delivered. Not an error for the flusher.
        if (isDuplicateIdentifier(err)) {
          logger.info({ identifier: input.identifier }, 'meter event already delivered');
          return 'duplicate';
        }
        const mapped = mapStripeError(err, 'create meter event');
        if (mapped.retryable) throw new RetryableSinkError(mapped.message, { cause: err });
        throw mapped;
      }
    },

    async createCheckoutSession(input) {
      try {
        const session = await stripe.checkout.sessions.create({
          mode: 'subscription',
          customer: input.customerId,
          client_reference_id: input.accountId,
          line_items: [
            { price: input.basePriceId, quantity: 1 },
            // Metered prices take no quantity: usage arrives as meter events.
            { price: input.overagePriceId },
          ],
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
          metadata: { accountId: input.accountId, tier: input.tier },
          subscription_data: { metadata: { accountId: input.accountId, tier: input.tier } },
        });
        if (!session.url) throw new Error(`checkout session ${session.id} has no url`);
        return { id: session.id, url: session.url };
      } catch (err) {
        throw mapStripeError(err, 'create checkout session');
      }
    },

    async createPortalSession({ customerId, returnUrl }) {
      try {
        const session = await stripe.billingPortal.sessions.create({
          customer: customerId,
          ...(returnUrl ? { return_url: returnUrl } : {}),
        });
        return { url: session.url };
      } catch (err) {
        throw mapStripeError(err, 'create billing portal session');
      }
    },

    async retrieveSubscription(id) {
      try {
        return toSubscriptionInfo(await stripe.subscriptions.retrieve(id));
      } catch (err) {
        throw mapStripeError(err, 'retrieve subscription');
      }
    },

    constructWebhookEvent(rawBody, signature, secret) {
      if (!signature) throw createBillingError('invalid_signature', 'missing Stripe-Signature header');
      let event: Stripe.Event;
      try {
        // Verified against the raw bytes; tolerance 300 s against wall time.
        event = stripe.webhooks.constructEvent(rawBody, signature, secret);
      } catch (err) {
        throw createBillingError('invalid_signature', 'webhook signature verification failed', 400, err);
      }
      return toWebhookEvent(event);
    },
  };
}

/** new Stripe() wants host/port/protocol, not a URL. */
function addressOf(apiBase: string): { host: string; port: number; protocol: 'http' | 'https' } {
  const url = new URL(apiBase);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.port ? Number(url.port) : protocol === 'http' ? 80 : 443;
  return { host: url.hostname, port, protocol };
}

function isDuplicateIdentifier(err: unknown): boolean {
  return (
    err instanceof Stripe.errors.StripeError &&
    err.statusCode === 400 &&
    /already exists/i.test(err.message)
  );
}

/**
 * The one place Stripe's failures become tollgate's: every failure is stripe_error 502, marked
 * retryable when trying again may succeed (connection errors, timeouts, 409 lock conflicts,
 * 429, 5xx). 4xx answers are permanent: bad key, bad price id, idempotency misuse.
 */
export function mapStripeError(err: unknown, what: string): BillingError {
  if (isBillingError(err)) return err;
  if (err instanceof Stripe.errors.StripeConnectionError) {
    return createBillingError('stripe_error', `Stripe ${what}: connection failed: ${err.message}`, 502, err, true);
  }
  if (err instanceof Stripe.errors.StripeError) {
    const status = err.statusCode ?? 0;
    const retryable =
      status === 409 || status === 429 || status >= 500 || err.headers?.['stripe-should-retry'] === 'true';
    const code = err.code ? ` (${err.code})` : '';
    return createBillingError('stripe_error', `Stripe ${what}: ${status} ${err.rawType ?? err.type}${code}: ${err.message}`, 502, err, retryable);
  }
  const message = err instanceof Error ? err.message : String(err);
  return createBillingError('stripe_error', `Stripe ${what}: ${message}`, 502, err, false);
}

function idOf(x: string | { id: string } | null | undefined): string | null {
  if (x == null) return null;
  return typeof x === 'string' ? x : x.id;
}

function toSubscriptionInfo(sub: Stripe.Subscription): SubscriptionInfo {
  return {
    id: sub.id,
    customerId: idOf(sub.customer) ?? '',
    status: sub.status,
    cancelAtPeriodEnd: Boolean(sub.cancel_at_period_end),
    metadata: { ...(sub.metadata ?? {}) },
    items: (sub.items?.data ?? []).map((item) => ({
      id: item.id,
      priceId: item.price.id,
      quantity: item.quantity ?? null,
      currentPeriodStart: item.current_period_start,
      currentPeriodEnd: item.current_period_end,
    })),
  };
}

function toCheckoutSessionInfo(session: Stripe.Checkout.Session): CheckoutSessionInfo {
  return {
    id: session.id,
    url: session.url ?? null,
    mode: session.mode,
    clientReferenceId: session.client_reference_id ?? null,
    customerId: idOf(session.customer),
    subscriptionId: idOf(session.subscription),
    metadata: { ...(session.metadata ?? {}) },
  };
}

function toInvoiceInfo(invoice: Stripe.Invoice): InvoiceInfo {
  // Since basil the subscription of an invoice is under parent.subscription_details.
  const details = invoice.parent?.subscription_details;
  return {
    id: invoice.id ?? '',
    customerId: idOf(invoice.customer),
    subscriptionId: details ? idOf(details.subscription) : null,
  };
}

function toWebhookEvent(event: Stripe.Event): WebhookEvent {
  const base = { id: event.id, created: event.created };
  switch (event.type) {
    case 'checkout.session.completed':
      return { ...base, type: event.type, session: toCheckoutSessionInfo(event.data.object) };
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      return { ...base, type: event.type, subscription: toSubscriptionInfo(event.data.object) };
    case 'invoice.paid':
      return { ...base, type: event.type, invoice: toInvoiceInfo(event.data.object) };
    default:
      return { ...base, type: 'ignored', stripeType: event.type };
  }
}
