// The one shape of tollgate's error tables and the one factory behind proxy/errors.ts,
// billing/errors.ts and ledger/errors.ts. It lives in pricing/ because every domain imports
// pricing and it is pure (no I/O). A code raised by two domains means the same in both
// (test/errors-catalogue.test.ts checks: one status, one type, documented in the README, used).

/** One row of an error table: the HTTP status, the OpenAI-style `type`, what the code means. */
export interface ErrorRow {
  readonly status: number;
  readonly type: 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'insufficient_quota' | 'not_found_error' | 'api_error' | 'timeout_error' | 'rate_limit_error';
  readonly description: string;
}

export type ErrorCatalogue<C extends string = string> = { readonly [K in C]: ErrorRow };

/** The base of every domain's error class: a stable code, its status and type, the cause attached. */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  readonly status: number;
  readonly type: ErrorRow['type'];
  constructor(code: C, message: string, row: Pick<ErrorRow, 'status' | 'type'>, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.status = row.status;
    this.type = row.type;
  }
}

/** The factory: `make(code, message?, cause?)` for a catalogue and a class (the message defaults to the description). */
export function errorFactory<C extends string, E extends CodedError<C>>(
  catalogue: ErrorCatalogue<C>,
  Make: new (code: C, message: string, row: Pick<ErrorRow, 'status' | 'type'>, cause?: unknown) => E,
): (code: C, message?: string, cause?: unknown, status?: number) => E {
  return (code, message, cause, status) => {
    const row = catalogue[code];
    return new Make(code, message ?? row.description, status === undefined ? row : { status, type: row.type }, cause);
  };
}

/** The `type` a status gets when no row says otherwise. */
export const typeForStatus = (status: number): ErrorRow['type'] => (status >= 500 ? 'api_error' : 'invalid_request_error');
