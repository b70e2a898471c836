// One error catalogue shape: proxy, billing, ledger and admin-API codes share the row {status,
// type, description} and one factory; a code in two tables means the same in both; every code is
// in the README and raised somewhere in the sources; every code an admin route throws is a row.
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROXY_ERRORS, createError, TollgateError } from '../../proxy/errors.js';
import { BILLING_ERRORS, BillingError, createBillingError } from '../../billing/errors.js';
import { LEDGER_ERRORS, LedgerError, createLedgerError } from '../../ledger/errors.js';
import { ADMIN_ERRORS } from '../../proxy/admin/errors.js';
import { AdminHttpError } from '../../proxy/admin/router.js';
import { CodedError, type ErrorCatalogue } from '../../pricing/error-catalogue.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tables: Record<string, ErrorCatalogue> = { proxy: PROXY_ERRORS, billing: BILLING_ERRORS, ledger: LEDGER_ERRORS, admin: ADMIN_ERRORS };

t.test('one row shape; a code shared by two tables has one status and one type', async (t) => {
  const seen = new Map<string, { status: number; type: string; table: string }>();
  for (const [name, table] of Object.entries(tables)) {
    for (const [code, row] of Object.entries(table)) {
      t.same(Object.keys(row).sort(), ['description', 'status', 'type'], `${name}.${code}`);
      t.match(code, /^[a-z][a-z_]*[a-z]$/);
      t.ok(row.description.length > 10, `${code} is described`);
      const other = seen.get(code);
      if (other) t.same({ status: row.status, type: row.type }, { status: other.status, type: other.type }, `${code}: ${name} agrees with ${other.table}`);
      else seen.set(code, { status: row.status, type: row.type, table: name });
    }
  }
  t.equal(seen.size, 34, 'distinct codes across the four tables (issue 18 added byok_not_enabled and server_busy, issue 19 too_many_sessions, issue 20 the admin API\'s 10, issue 22 history_disabled)');
});

t.test('one factory: every domain error is a CodedError with its row', async (t) => {
  const p = createError('account_suspended', 'suspended', new Error('why'));
  t.ok(p instanceof TollgateError && p instanceof CodedError);
  t.match(p, { code: 'account_suspended', status: 403, type: 'permission_error', message: 'suspended' });
  t.equal((p.cause as Error).message, 'why');
  const b = createBillingError('stripe_error', 'no', undefined, undefined, true);
  t.ok(b instanceof BillingError && b instanceof CodedError);
  t.match(b, { status: 502, type: 'api_error', retryable: true });
  const a = new AdminHttpError(401, 'invalid_admin_token', 'no');
  t.ok(a instanceof CodedError);
  t.match(a, { code: 'invalid_admin_token', status: 401, type: 'authentication_error', message: 'no' });
  const l = createLedgerError('key_conflict');
  t.ok(l instanceof LedgerError && l instanceof CodedError);
  t.match(l, { status: 409, message: LEDGER_ERRORS.key_conflict.description });
});

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

t.test('every code is documented in the README and raised in the sources', async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const code = ['proxy', 'billing', 'ledger', 'bin']
    .flatMap((d) => sources(join(root, d)))
    .filter((f) => !/\/errors\.ts$/.test(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  for (const table of Object.values(tables)) {
    for (const c of Object.keys(table)) {
      t.ok(readme.includes(`\`${c}\``), `${c} in README`);
      t.ok(code.includes(`'${c}'`), `${c} raised outside its table`);
    }
  }
});

t.test('every code an admin route throws is a row of a table, with that status', async (t) => {
  const thrown = ['proxy', 'billing', 'bin']
    .flatMap((d) => sources(join(root, d)))
    .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/new AdminHttpError\((\d+), '([a-z_]+)'/g)].map((m) => ({ status: Number(m[1]), code: m[2]!, file: f.slice(root.length) })));
  t.ok(thrown.length >= 25, `${thrown.length} throws found`);
  for (const { status, code, file } of thrown) {
    const rows = Object.values(tables).map((tb) => tb[code]).filter((r) => r !== undefined);
    t.ok(rows.length > 0, `${code} (${file}) is in a table`);
    for (const r of rows) t.equal(r.status, status, `${code} (${file}) is thrown with its row's status`);
  }
});
