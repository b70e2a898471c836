// POST /v1/stripe/webhook: keeps account tiers in step with Stripe subscriptions.
//
// Replays and out-of-order deliveries are harmless: an event is only a hint of which
// subscription changed; the subscription is retrieved from Stripe and the account set to its
// current state (absolute values, never increments). Event ids seen by this process are
// remembered too, so a replay costs no Stripe call.

import type { Logger } from 'pino';
import type { Account, Ledger } from '../ledger/types.js';
import { recordAudit } from '../ledger/audit-log.js';
import type { PriceIndex } from './subscription-state.js';
import { patchFor, subscriptionState } from './subscription-state.js';
import type { StripeGateway, SubscriptionInfo, WebhookEvent } from './types.js';

export interface WebhookResult {
  received: true;
  eventId: string;
  /** Stripe's event type. */
  type: string;
  /** applied: the account was updated; ignored: nothing to do; duplicate: event already processed. */
  action: 'applied' | 'ignored' | 'duplicate';
  accountId?: string;
  reason?: string;
}

type Outcome = Pick<WebhookResult, 'action' | 'accountId' | 'reason'>;

const REMEMBERED_EVENTS = 10_000;

export function createWebhookHandler(deps: {
  gateway: StripeGateway;
  ledger: Ledger;
  prices: PriceIndex;
  webhookSecret: string;
  logger: Logger;
}): (rawBody: Buffer, signatureHeader: string | undefined) => Promise<WebhookResult> {
  const { gateway, ledger, prices } = deps;
  const logger = deps.logger.child({ component: 'stripe-webhook' });
  const done = new Set<string>();
  const inFlight = new Map<string, Promise<Outcome>>();

  function remember(id: string): void {
    done.add(id);
    if (done.size > REMEMBERED_EVENTS) done.delete(done.values().next().value as string);
  }

  async function findAccount(accountId: string | null | undefined, customerId: string | null | undefined): Promise<Account | null> {
    if (accountId) {
      const account = await ledger.getAccount(accountId);
      if (account) return account;
    }
    return customerId ? ledger.findAccountByStripeCustomer(customerId) : null;
  }

  /** Put the account in step with the subscription's current state. */
  async function apply(account: Account, sub: SubscriptionInfo, eventId: string): Promise<Outcome> {
    const state = subscriptionState(sub, prices);
    if (state.phase !== 'ended' && state.paidTier === null) {
      logger.warn({ accountId: account.id, subscriptionId: sub.id, prices: sub.items.map((i) => i.priceId) }, 'subscription has no configured tollgate price');
      return { action: 'ignored', accountId: account.id, reason: 'no configured price' };
    }
    // An account has one subscription. Another one that is not (or no longer) paying must not
    // touch it (a replaced subscription being canceled, say); a paying one replaces it.
    if (account.stripeSubscriptionId && account.stripeSubscriptionId !== sub.id && state.phase !== 'entitled') {
      return { action: 'ignored', accountId: account.id, reason: `account follows ${account.stripeSubscriptionId}` };
    }
    const patch = patchFor(sub, state);
    const after = await ledger.updateAccount(account.id, patch);
    logger.info({ accountId: account.id, subscriptionId: sub.id, stripeStatus: sub.status, tier: state.tier }, 'account follows subscription');
    const view = (a: Account) => ({ tier: a.tier, status: a.status, stripeSubscriptionId: a.stripeSubscriptionId ?? null });
    await recordAudit(ledger.audit, logger, { actor: `stripe:${eventId}`, action: 'account.subscription_synced', accountId: account.id, before: view(account), after: view(after) });
    return { action: 'applied', accountId: account.id };
  }

  async function handle(event: WebhookEvent): Promise<Outcome> {
    switch (event.type) {
      case 'checkout.session.completed': {
        const s = event.session;
        if (s.mode !== 'subscription' || !s.subscriptionId) return { action: 'ignored', reason: 'not a subscription checkout' };
        const account = await findAccount(s.clientReferenceId ?? s.metadata.accountId, s.customerId);
        if (!account) return unknownAccount(event, s.clientReferenceId);
        return apply(account, await gateway.retrieveSubscription(s.subscriptionId), event.id);
      }
      case 'customer.subscription.created':
      case 'customer.subscription.updated': {
        const sub = event.subscription;
        const account = await findAccount(sub.metadata.accountId, sub.customerId);
        if (!account) return unknownAccount(event, sub.metadata.accountId);
        // The payload may be older than a later event already applied: use the current state.
        return apply(account, await gateway.retrieveSubscription(sub.id), event.id);
      }
      case 'customer.subscription.deleted': {
        // Final: a deleted subscription never comes back, so the payload is the truth.
        const sub = event.subscription;
        const account = await findAccount(sub.metadata.accountId, sub.customerId);
        if (!account) return unknownAccount(event, sub.metadata.accountId);
        return apply(account, { ...sub, status: 'canceled' }, event.id);
      }
      case 'invoice.paid': {
        // A renewal moves the period on.
        const inv = event.invoice;
        if (!inv.subscriptionId) return { action: 'ignored', reason: 'invoice without subscription' };
        const sub = await gateway.retrieveSubscription(inv.subscriptionId);
        const account = await findAccount(sub.metadata.accountId, sub.customerId || inv.customerId);
        if (!account) return unknownAccount(event, sub.metadata.accountId);
        return apply(account, sub, event.id);
      }
      case 'ignored':
        return { action: 'ignored', reason: 'event type not handled' };
    }
  }

  function unknownAccount(event: WebhookEvent, hint: string | null | undefined): Outcome {
    // 200 all the same: Stripe would retry for days an event no retry can fix.
    logger.warn({ eventId: event.id, type: event.type, accountHint: hint }, 'webhook for an unknown account');
    return { action: 'ignored', reason: 'unknown account' };
  }

  return async (rawBody, signatureHeader) => {
    // Throws invalid_signature (400) before anything is read or changed.
    const event = deps.gateway.constructWebhookEvent(rawBody, signatureHeader, deps.webhookSecret);
    const type = event.type === 'ignored' ? event.stripeType : event.type;
    if (done.has(event.id)) return { received: true, eventId: event.id, type, action: 'duplicate' };
    let pending = inFlight.get(event.id);
    const first = !pending;
    if (!pending) {
      pending = handle(event).finally(() => inFlight.delete(event.id));
      inFlight.set(event.id, pending);
    }
    // A failure (Stripe unreachable, ledger down) is not remembered: Stripe redelivers.
    const outcome = await pending;
    remember(event.id);
    return first
      ? { received: true, eventId: event.id, type, ...outcome }
      : { received: true, eventId: event.id, type, action: 'duplicate' };
  };
}
