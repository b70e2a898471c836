// Errors of the billing domain: one table of stable codes, one factory. The admin server renders
// a BillingError as {"error":{"message","type","code"}} with err.status.

/** Every code billing can raise, with its HTTP status and what it means (the docs table). */
export const BILLING_ERRORS = {
  invalid_request: { status: 400, description: 'the request body failed validation; the message lists every problem' },
  invalid_signature: { status: 400, description: 'the Stripe-Signature header is missing or does not match the raw body' },
  unknown_account: { status: 404, description: 'no account has that id' },
  already_subscribed: { status: 409, description: 'the account already has a paid subscription; change plans in the billing portal' },
  billing_not_configured: { status: 501, description: 'the config has no `stripe:` block, or no prices for the tier' },
  stripe_error: { status: 502, description: 'Stripe refused or failed the call (the cause carries its error)' },
} as const satisfies Record<string, { status: number; description: string }>;

export type BillingErrorCode = keyof typeof BILLING_ERRORS;

export class BillingError extends Error {
  override name = 'BillingError';
  readonly code: BillingErrorCode;
  readonly status: number;
  /** OpenAI-style error type for the body. */
  readonly type: 'invalid_request_error' | 'api_error';
  /** Stripe answered 5xx/429 or the connection failed: trying again later may succeed. */
  readonly retryable: boolean;

  constructor(code: BillingErrorCode, message: string, status: number, cause?: unknown, retryable = false) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.status = status;
    this.type = status >= 500 ? 'api_error' : 'invalid_request_error';
    this.retryable = retryable;
  }

  /** The body the admin server sends. */
  toJSON(): { error: { message: string; type: string; code: BillingErrorCode } } {
    return { error: { message: this.message, type: this.type, code: this.code } };
  }
}

export function createBillingError(
  code: BillingErrorCode,
  message: string,
  status: number = BILLING_ERRORS[code].status,
  cause?: unknown,
  retryable = false,
): BillingError {
  return new BillingError(code, message, status, cause, retryable);
}

export function isBillingError(err: unknown): err is BillingError {
  return err instanceof BillingError;
}
