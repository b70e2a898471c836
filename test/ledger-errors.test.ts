// Ledger error codes carry their status, transport failures map to ledger_unavailable in one
// place with the cause attached, and the codes the proxy shows are in the README.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { LEDGER_ERRORS, LedgerError, createLedgerError } from '../ledger/index.js';
import { toLedgerError } from '../ledger/errors.js';

t.test('codes and statuses', async (t) => {
  t.same(
    Object.fromEntries(Object.entries(LEDGER_ERRORS).map(([code, e]) => [code, e.status])),
    { ledger_unavailable: 503, unknown_account: 404, invalid_input: 400, key_conflict: 409 },
  );
  const e = createLedgerError('key_conflict');
  t.ok(e instanceof LedgerError);
  t.match(e, { code: 'key_conflict', status: 409, message: LEDGER_ERRORS.key_conflict.description });
});

t.test('transport failures become ledger_unavailable, with the cause', async (t) => {
  const cause = new Error("Stream isn't writeable and enableOfflineQueue options is false");
  const e = toLedgerError(cause);
  t.match(e, { code: 'ledger_unavailable', status: 503 });
  t.equal(e.cause, cause);
  const own = createLedgerError('unknown_account');
  t.equal(toLedgerError(own), own, 'a LedgerError passes unchanged');
});

t.test('the codes clients can see are documented in the README', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const code of ['ledger_unavailable', 'unknown_account']) t.ok(readme.includes(`\`${code}\``), `${code} in README`);
});
