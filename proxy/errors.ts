// The proxy's error codes: one table, one constructor, one mapping from transport errors.

export const ERROR_CODES = {
  invalid_request: 400,
  unpriced_model: 400,
  byok_not_enabled: 400,
  invalid_api_key: 401,
  insufficient_credits: 402,
  spend_limit_reached: 402,
  unknown_provider: 404,
  unknown_route: 404,
  payload_too_large: 413,
  upstream_error: 502,
  ledger_unavailable: 503,
  provider_not_configured: 503,
  server_busy: 503,
  upstream_timeout: 504,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** OpenAI-style error `type` for each code: what SDKs switch on. */
export const ERROR_TYPES: Record<ErrorCode, string> = {
  invalid_request: 'invalid_request_error',
  unpriced_model: 'invalid_request_error',
  byok_not_enabled: 'invalid_request_error',
  invalid_api_key: 'authentication_error',
  insufficient_credits: 'insufficient_quota',
  spend_limit_reached: 'insufficient_quota',
  unknown_provider: 'not_found_error',
  unknown_route: 'not_found_error',
  payload_too_large: 'invalid_request_error',
  upstream_error: 'api_error',
  ledger_unavailable: 'api_error',
  provider_not_configured: 'api_error',
  server_busy: 'api_error',
  upstream_timeout: 'timeout_error',
};

export class TollgateError extends Error {
  override name = 'TollgateError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function createError(code: ErrorCode, message: string, cause?: unknown): TollgateError {
  return new TollgateError(code, message, ERROR_CODES[code], cause === undefined ? undefined : { cause });
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
]);

/**
 * The one place transport failures become gateway errors: timeouts are 504
 * `upstream_timeout`, everything else that kept us from a provider answer is 502
 * `upstream_error`. The provider's own non-2xx answers are not errors here: they pass through.
 */
export function fromUpstreamFailure(err: unknown, provider: string): TollgateError {
  if (err instanceof TollgateError) return err;
  const code = (err as { code?: string } | null)?.code ?? '';
  if (TIMEOUT_CODES.has(code) || (err as Error | null)?.name === 'TimeoutError') {
    return createError('upstream_timeout', `${provider} did not answer in time`, err);
  }
  return createError('upstream_error', `could not reach ${provider}${code ? ` (${code})` : ''}`, err);
}
