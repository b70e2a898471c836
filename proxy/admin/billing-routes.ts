// Billing endpoints on the admin port: subscription, Checkout, portal (customer key) and the
// Stripe webhook (verified against the raw body). Without `stripe:` in the config they answer 501.

import type { Billing } from '../../billing/index.js';
import { AdminHttpError, type AdminRouter } from './router.js';

export function registerBillingRoutes(router: AdminRouter, billing: Billing | undefined): void {
  const need = (): Billing => {
    if (!billing) throw new AdminHttpError(501, 'billing_not_configured', 'billing is not configured: add a stripe: block to the config');
    return billing;
  };
  router.add('GET', '/v1/billing/subscription', 'customer', async (ctx) => ({ body: await need().subscription(ctx.accountId) }));
  router.add('POST', '/v1/billing/checkout', 'customer', async (ctx) => ({ body: await need().checkout(ctx.accountId, await ctx.json()) }));
  router.add('POST', '/v1/billing/portal', 'customer', async (ctx) => ({ body: await need().portal(ctx.accountId, await ctx.json()) }));
  router.add('POST', '/v1/stripe/webhook', 'none', async (ctx) => {
    const sig = ctx.req.headers['stripe-signature'];
    const result = await need().webhook(await ctx.rawBody(), typeof sig === 'string' ? sig : undefined);
    return { body: result };
  });
}
