// Error codes are unique, mapped to the contract's statuses, and documented in the README.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, ERROR_TYPES, createError, fromUpstreamFailure } from '../proxy/errors.js';

t.test('codes match the contract statuses', async (t) => {
  t.same(ERROR_CODES, {
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
  });
  t.same(Object.keys(ERROR_TYPES).sort(), Object.keys(ERROR_CODES).sort());
});

t.test('every code is documented in the README', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const code of Object.keys(ERROR_CODES)) t.ok(readme.includes(`\`${code}\``), `${code} in README`);
});

t.test('transport failures map in one place: timeouts 504, the rest 502', async (t) => {
  const cases: Array<[string, number, string]> = [
    ['UND_ERR_HEADERS_TIMEOUT', 504, 'upstream_timeout'],
    ['UND_ERR_CONNECT_TIMEOUT', 504, 'upstream_timeout'],
    ['UND_ERR_BODY_TIMEOUT', 504, 'upstream_timeout'],
    ['ECONNREFUSED', 502, 'upstream_error'],
    ['ENOTFOUND', 502, 'upstream_error'],
    ['UND_ERR_SOCKET', 502, 'upstream_error'],
  ];
  for (const [code, status, out] of cases) {
    const e = fromUpstreamFailure(Object.assign(new Error(code), { code }), 'openai');
    t.equal(e.status, status, code);
    t.equal(e.code, out, code);
    t.equal((e.cause as { code: string }).code, code, 'cause attached');
  }
  const own = createError('unknown_route', 'x');
  t.equal(fromUpstreamFailure(own, 'openai'), own, 'a TollgateError passes unchanged');
});
