// The ledger's errors: stable codes (pricing/error-catalogue.ts's row shape), an HTTP status for
// the proxy, the cause always attached.

import { CodedError, errorFactory, type ErrorCatalogue } from '../pricing/error-catalogue.js';

export const LEDGER_ERRORS = {
  /** Redis is down, slow or refusing: the proxy answers 503 instead of waiting. */
  ledger_unavailable: { status: 503, type: 'api_error', description: 'the ledger is unavailable' },
  unknown_account: { status: 404, type: 'invalid_request_error', description: 'no such account' },
  invalid_input: { status: 400, type: 'invalid_request_error', description: 'invalid ledger input' },
  /** The key hash already belongs to another account. */
  key_conflict: { status: 409, type: 'invalid_request_error', description: 'the key belongs to another account' },
} as const satisfies ErrorCatalogue;

export type LedgerErrorCode = keyof typeof LEDGER_ERRORS;

export class LedgerError extends CodedError<LedgerErrorCode> {
  override name = 'LedgerError';
}

const make = errorFactory(LEDGER_ERRORS, LedgerError);

export function createLedgerError(code: LedgerErrorCode, message?: string, cause?: unknown): LedgerError {
  return make(code, message, cause);
}

/** The one place transport errors become ledger errors: anything not already a LedgerError is an outage. */
export function toLedgerError(err: unknown): LedgerError {
  if (err instanceof LedgerError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return createLedgerError('ledger_unavailable', `ledger unavailable: ${detail}`, err);
}
