// The proxy's error codes: one table (pricing/error-catalogue.ts's row shape), one constructor,
// one mapping from transport errors.

import { CodedError, errorFactory, type ErrorCatalogue } from '../pricing/error-catalogue.js';

export const PROXY_ERRORS = {
  invalid_request: { status: 400, type: 'invalid_request_error', description: 'the request is malformed (bad JSON, a path with dot segments, an empty X-Provider-Key header)' },
  unpriced_model: { status: 400, type: 'invalid_request_error', description: 'the model or voice has no price in the table; the operator can add one under pricing:' },
  byok_not_enabled: { status: 400, type: 'invalid_request_error', description: "an X-Provider-Key-* header (or a stored key) for a provider without BYOK: its upstream takes no key, or the operator turned BYOK off" },
  invalid_api_key: { status: 401, type: 'authentication_error', description: 'no tollgate key, an unknown one, or a revoked one' },
  insufficient_credits: { status: 402, type: 'insufficient_quota', description: "the Free tier's included credits are used up for the period" },
  spend_limit_reached: { status: 402, type: 'insufficient_quota', description: "the account's overage spend limit for the period is reached" },
  account_suspended: { status: 403, type: 'permission_error', description: 'the operator suspended the account; nothing reaches a provider until it is resumed' },
  unknown_provider: { status: 404, type: 'not_found_error', description: 'no provider by that name in the path' },
  unknown_route: { status: 404, type: 'not_found_error', description: 'a path tollgate does not meter for that provider (BYOK passes it through)' },
  payload_too_large: { status: 413, type: 'invalid_request_error', description: 'a body read whole over proxy.maxJsonBodyBytes for its modality' },
  too_many_sessions: { status: 429, type: 'rate_limit_error', description: "a realtime handshake past the account's open-session cap (realtime.maxSessionsPerAccount)" },
  upstream_error: { status: 502, type: 'api_error', description: 'the provider could not be reached or cut the answer' },
  ledger_unavailable: { status: 503, type: 'api_error', description: 'the ledger (Redis) is down or slow: nothing is served unmetered' },
  provider_not_configured: { status: 503, type: 'api_error', description: 'the provider has no baseUrl, or no platform key and the request is not BYOK' },
  server_busy: { status: 503, type: 'api_error', description: 'the process holds proxy.maxBufferedBytes of request bodies already: retry after Retry-After' },
  upstream_timeout: { status: 504, type: 'timeout_error', description: "the provider's headers did not come within the timeout" },
} as const satisfies ErrorCatalogue;

export type ErrorCode = keyof typeof PROXY_ERRORS;

/** Status by code (the provider adapters' error bodies use it). */
export const ERROR_CODES = Object.fromEntries(Object.entries(PROXY_ERRORS).map(([c, r]) => [c, r.status])) as { [K in ErrorCode]: (typeof PROXY_ERRORS)[K]['status'] };

/** OpenAI-style error `type` for each code: what SDKs switch on. */
export const ERROR_TYPES = Object.fromEntries(Object.entries(PROXY_ERRORS).map(([c, r]) => [c, r.type])) as Record<ErrorCode, string>;

export class TollgateError extends CodedError<ErrorCode> {
  override name = 'TollgateError';
}

const make = errorFactory(PROXY_ERRORS, TollgateError);

export function createError(code: ErrorCode, message: string, cause?: unknown): TollgateError {
  return make(code, message, cause);
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
