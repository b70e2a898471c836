// Stripe customers on demand: one customer per account, even with several replicas asking at once.

import type { Logger } from 'pino';
import type { Account, Ledger } from '../ledger/types.js';
import type { StripeGateway } from './types.js';

export type CustomerResolver = (account: Account) => Promise<string>;

/** Stripe replays the first answer for a key for 24 h, so every replica gets the same customer. */
export function customerIdempotencyKey(accountId: string): string {
  return `tollgate-customer-${accountId}`;
}

export function createCustomerResolver(deps: {
  gateway: StripeGateway;
  ledger: Ledger;
  logger: Logger;
}): CustomerResolver {
  const { gateway, ledger } = deps;
  const logger = deps.logger.child({ component: 'stripe-customers' });
  // One creation in flight per account in this process.
  const inFlight = new Map<string, Promise<string>>();

  async function resolve(account: Account): Promise<string> {
    // The caller's copy may be stale: another replica may have stored a customer meanwhile.
    const fresh = (await ledger.getAccount(account.id)) ?? account;
    if (fresh.stripeCustomerId) return fresh.stripeCustomerId;
    // A deterministic Idempotency-Key makes concurrent creations (this process, other replicas,
    // a retry after a crash between create and store) all receive the same customer.
    const { id } = await gateway.createCustomer(
      { accountId: account.id },
      { idempotencyKey: customerIdempotencyKey(account.id) },
    );
    await ledger.updateAccount(account.id, { stripeCustomerId: id });
    logger.info({ accountId: account.id, customerId: id }, 'created Stripe customer');
    return id;
  }

  return async (account) => {
    if (account.stripeCustomerId) return account.stripeCustomerId;
    let pending = inFlight.get(account.id);
    if (!pending) {
      pending = resolve(account).finally(() => inFlight.delete(account.id));
      inFlight.set(account.id, pending);
    }
    return pending;
  };
}
