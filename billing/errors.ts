// Errors of the billing domain: one table of stable codes (pricing/error-catalogue.ts's row
// shape), one factory. The admin server renders a BillingError as
// {"error":{"message","type","code"}} with err.status.

import { CodedError, errorFactory, type ErrorCatalogue } from '../pricing/error-catalogue.js';

/** Every code billing can raise, with its HTTP status and what it means (the docs table). */
export const BILLING_ERRORS = {
  invalid_request: { status: 400, type: 'invalid_request_error', description: 'the request body failed validation; the message lists every problem' },
  invalid_signature: { status: 400, type: 'invalid_request_error', description: 'the Stripe-Signature header is missing or does not match the raw body' },
  unknown_account: { status: 404, type: 'invalid_request_error', description: 'no account has that id' },
  already_subscribed: { status: 409, type: 'invalid_request_error', description: 'the account already has a paid subscription; change plans in the billing portal' },
  billing_not_configured: { status: 501, type: 'api_error', description: 'the config has no `stripe:` block, or no prices for the tier' },
  stripe_error: { status: 502, type: 'api_error', description: 'Stripe refused or failed the call (the cause carries its error)' },
} as const satisfies ErrorCatalogue;

export type BillingErrorCode = keyof typeof BILLING_ERRORS;

export class BillingError extends CodedError<BillingErrorCode> {
  override name = 'BillingError';
  /** Stripe answered 5xx/429 or the connection failed: trying again later may succeed. */
  retryable = false;

  /** The body the admin server sends. */
  toJSON(): { error: { message: string; type: string; code: BillingErrorCode } } {
    return { error: { message: this.message, type: this.type, code: this.code } };
  }
}

const make = errorFactory(BILLING_ERRORS, BillingError);

export function createBillingError(
  code: BillingErrorCode,
  message: string,
  status: number = BILLING_ERRORS[code].status,
  cause?: unknown,
  retryable = false,
): BillingError {
  const e = make(code, message, cause, status);
  e.retryable = retryable;
  return e;
}

export function isBillingError(err: unknown): err is BillingError {
  return err instanceof BillingError;
}
