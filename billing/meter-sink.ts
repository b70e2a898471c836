// The flusher's MeterEventSink on Stripe Billing Meters: one meter event per batch, exactly once.

import type { Logger } from 'pino';
import type { Ledger, MeterEvent, MeterEventSink } from '../ledger/types.js';
import { createCustomerResolver } from './customers.js';
import type { StripeGateway } from './types.js';

export function createStripeMeterSink(deps: {
  gateway: StripeGateway;
  ledger: Ledger;
  /** The Billing Meter's event_name (config stripe.meterEventName). */
  eventName: string;
  logger: Logger;
}): MeterEventSink {
  const { gateway, eventName } = deps;
  const logger = deps.logger.child({ component: 'stripe-meter-sink' });
  const customerFor = createCustomerResolver(deps);

  return {
    async send(event: MeterEvent) {
      if (!Number.isSafeInteger(event.value) || event.value <= 0) {
        throw new Error(`meter event ${event.identifier}: value must be a positive whole number of credits, got ${event.value}`);
      }
      // The batch identifier is both the meter event's identifier (Stripe rejects a second event
      // with it: "already exists" → duplicate) and the Idempotency-Key (a retry within 24 h gets
      // the first answer replayed). Either way a re-send after a crash is counted once.
      const result = await gateway.createMeterEvent(
        {
          eventName,
          identifier: event.identifier,
          customerId: event.stripeCustomerId,
          value: event.value,
          timestamp: event.timestamp,
        },
        { idempotencyKey: event.identifier },
      );
      logger.debug({ identifier: event.identifier, value: event.value, result }, 'meter event sent');
      return result;
    },
    customerFor,
  };
}
