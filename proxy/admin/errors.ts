// The admin API's own error codes (the admin and customer routes on the admin port), in the one
// row shape of pricing/error-catalogue.ts. Codes the proxy, billing or ledger tables have already
// (invalid_request, invalid_api_key, unknown_account, …) mean the same here and are not repeated.

import type { ErrorCatalogue } from '../../pricing/error-catalogue.js';

export const ADMIN_ERRORS = {
  invalid_admin_token: { status: 401, type: 'authentication_error', description: 'an /admin route with no admin token or a wrong one' },
  invalid_metrics_token: { status: 401, type: 'authentication_error', description: 'GET /metrics without the Bearer metrics.token the config sets' },
  admin_disabled: { status: 403, type: 'permission_error', description: 'an /admin route while admin.token is unset: the admin API is off' },
  not_found: { status: 404, type: 'not_found_error', description: 'no admin route at that path, or no stored provider key to delete' },
  history_disabled: { status: 404, type: 'not_found_error', description: 'GET /v1/usage/history or /v1/usage/events (and the admin ones) while history.enabled is false' },
  unknown_key: { status: 404, type: 'not_found_error', description: 'no live key with that id to revoke' },
  method_not_allowed: { status: 405, type: 'invalid_request_error', description: 'the admin path exists, but not for that method' },
  account_exists: { status: 409, type: 'invalid_request_error', description: 'creating an account whose id is taken (a deleted one too: its history is kept)' },
  internal_error: { status: 500, type: 'api_error', description: 'an admin request failed unexpectedly (logged with its cause)' },
  byok_storage_disabled: { status: 501, type: 'api_error', description: 'storing a provider key while byok.masterKey is unset' },
  links_disabled: { status: 501, type: 'api_error', description: 'minting a signed dashboard link while dashboard.linkSecret is unset' },
} as const satisfies ErrorCatalogue;

export type AdminErrorCode = keyof typeof ADMIN_ERRORS;
