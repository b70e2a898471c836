// The ledger's errors: stable codes, an HTTP status for the proxy, the cause always attached.

export const LEDGER_ERRORS = {
  /** Redis is down, slow or refusing: the proxy answers 503 instead of waiting. */
  ledger_unavailable: { status: 503, message: 'the ledger is unavailable' },
  unknown_account: { status: 404, message: 'no such account' },
  invalid_input: { status: 400, message: 'invalid ledger input' },
  /** The key hash already belongs to another account. */
  key_conflict: { status: 409, message: 'the key belongs to another account' },
} as const;

export type LedgerErrorCode = keyof typeof LEDGER_ERRORS;

export class LedgerError extends Error {
  override name = 'LedgerError';
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function createLedgerError(code: LedgerErrorCode, message?: string, cause?: unknown): LedgerError {
  return new LedgerError(code, message ?? LEDGER_ERRORS[code].message, LEDGER_ERRORS[code].status, { cause });
}

/** The one place transport errors become ledger errors: anything not already a LedgerError is an outage. */
export function toLedgerError(err: unknown): LedgerError {
  if (err instanceof LedgerError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return createLedgerError('ledger_unavailable', `ledger unavailable: ${detail}`, err);
}
