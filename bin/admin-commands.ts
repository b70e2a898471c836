// `tollgate accounts|keys|byok …`: thin clients of the admin API of a running tollgate
// (--admin-url, default $TOLLGATE_ADMIN_URL or http://127.0.0.1:8081; token from
// $TOLLGATE_ADMIN_TOKEN). Answers are printed as a table (--json: the API's JSON) on stdout;
// errors go to stderr, exit 1.

import { parseArgs } from 'node:util';

export const ADMIN_USAGE = `admin commands (talk to a running tollgate's admin port):
  tollgate accounts create ID [--tier free|starter|pro|scale] [--overage-cap CREDITS] [--time-zone TZ]
  tollgate accounts list
  tollgate accounts get ID                 the account and its usage this period
  tollgate accounts set-tier ID TIER
  tollgate accounts set-limit ID CREDITS|none   the overage spend limit per period
  tollgate accounts set-timezone ID TZ     the daily usage history's IANA zone (e.g. Europe/Paris; UTC)
  tollgate accounts suspend ID             refuse its keys (403 account_suspended) until resumed
  tollgate accounts resume ID
  tollgate accounts delete ID              revoke its keys; its usage and history are kept
  tollgate keys issue ACCOUNT [--label TEXT]   prints the new key once (tg_ + 32 characters)
  tollgate keys list ACCOUNT               key ids, labels, dates; never the keys
  tollgate keys revoke KEY_ID              stops the key on every replica within a second
  tollgate byok rotate                     re-seal stored provider keys under byok.masterKey
  tollgate usage [--sort id|tier|used|limit|overage|requests|lastRequest] [--order asc|desc] [--csv]
                                           every account's current period
  tollgate audit [--account ID] [--limit N] [--cursor ID]   the audit log, newest first
  tollgate dashboard link ACCOUNT [--ttl SECONDS]   a signed link to the account's usage page
                                           (dashboard.linkSecret; default ttl: dashboard.linkTtlSeconds)

  --json            print the API's JSON instead of a table (for scripts)
  --admin-url URL   admin port (default $TOLLGATE_ADMIN_URL or http://127.0.0.1:8081)
  the admin token is read from $TOLLGATE_ADMIN_TOKEN`;

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface Ctx {
  adminUrl: string;
  token: string;
}

async function call(ctx: Ctx, method: string, path: string, body?: unknown, raw = false): Promise<any> {
  let res: Response;
  try {
    res = await fetch(new URL(path, ctx.adminUrl), {
      method,
      headers: { authorization: `Bearer ${ctx.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch (err) {
    throw new CliError(`cannot reach the admin API at ${ctx.adminUrl}: ${(err as Error).cause ?? (err as Error).message}`, 1);
  }
  const text = await res.text();
  if (raw && res.ok) return text;
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { raw: text };
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } }).error;
    throw new CliError(`${res.status} ${e?.code ?? 'error'}: ${e?.message ?? text}`, 1);
  }
  return json;
}

const need = (v: string | undefined, what: string): string => {
  if (!v) throw new CliError(`missing ${what}\n\n${ADMIN_USAGE}`, 2);
  return v;
};

/** Runs `tollgate <group> <verb> …`; returns the exit code. */
export async function runAdminCommand(group: string, argv: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        'admin-url': { type: 'string' },
        tier: { type: 'string' },
        'overage-cap': { type: 'string' },
        'time-zone': { type: 'string' },
        label: { type: 'string' },
        json: { type: 'boolean' },
        csv: { type: 'boolean' },
        sort: { type: 'string' },
        order: { type: 'string' },
        account: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
        ttl: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
    if (values.help) {
      out(`${ADMIN_USAGE}\n`);
      return 0;
    }
    const token = process.env.TOLLGATE_ADMIN_TOKEN;
    if (!token) throw new CliError('set TOLLGATE_ADMIN_TOKEN to the admin token (admin.token in the config)', 2);
    const ctx: Ctx = { adminUrl: values['admin-url'] ?? process.env.TOLLGATE_ADMIN_URL ?? 'http://127.0.0.1:8081', token };
    const [verb, a, b] = positionals;
    const enc = encodeURIComponent;
    let result: any;
    /** How the answer reads as a table: rows of cells (the --json output is the answer itself). */
    let table: () => string = () => JSON.stringify(result, null, 2);
    const accountTable = () => renderTable([result.account].map(accountRow));
    const key = group === 'usage' || group === 'audit' ? group : `${group} ${verb ?? ''}`;
    switch (key) {
      case 'accounts create': {
        const body: Record<string, unknown> = { id: need(a, 'account ID'), tier: values.tier ?? 'free' };
        if (values['overage-cap'] !== undefined) body.overageCapCredits = Number(values['overage-cap']);
        if (values['time-zone'] !== undefined) body.timeZone = values['time-zone'];
        result = await call(ctx, 'POST', '/admin/accounts', body);
        table = accountTable;
        break;
      }
      case 'accounts list':
        result = await call(ctx, 'GET', '/admin/accounts');
        table = () => renderTable(result.accounts.map(accountRow));
        break;
      case 'accounts get':
        result = await call(ctx, 'GET', `/admin/accounts/${enc(need(a, 'account ID'))}`);
        table = () => {
          const u = result.usage;
          return `${accountTable()}\nperiod ${u.period.start} .. ${u.period.end}: ${u.credits.used} of ${u.credits.limit} credits used, ${u.overage} overage, ${u.requestCount} requests\n`;
        };
        break;
      case 'accounts set-tier':
        result = await call(ctx, 'PATCH', `/admin/accounts/${enc(need(a, 'account ID'))}`, { tier: need(b, 'TIER') });
        table = accountTable;
        break;
      case 'accounts set-limit': {
        const v = need(b, 'CREDITS (or none)');
        const credits = v === 'none' ? null : Number(v);
        if (credits !== null && !(Number.isFinite(credits) && credits >= 0)) throw new CliError(`set-limit: a number of credits or "none", got "${v}"`, 2);
        result = await call(ctx, 'PATCH', `/admin/accounts/${enc(need(a, 'account ID'))}`, { overageCapCredits: credits });
        table = accountTable;
        break;
      }
      case 'accounts set-timezone':
        result = await call(ctx, 'PATCH', `/admin/accounts/${enc(need(a, 'account ID'))}`, { timeZone: need(b, 'TZ') });
        table = accountTable;
        break;
      case 'accounts suspend':
      case 'accounts resume':
        result = await call(ctx, 'POST', `/admin/accounts/${enc(need(a, 'account ID'))}/${verb}`, {});
        table = accountTable;
        break;
      case 'accounts delete':
        result = await call(ctx, 'DELETE', `/admin/accounts/${enc(need(a, 'account ID'))}`);
        table = () => `${accountTable()}revoked keys: ${result.revokedKeys.join(', ') || 'none'}\n`;
        break;
      case 'usage': {
        const q = new URLSearchParams();
        if (values.sort) q.set('sort', values.sort);
        if (values.order) q.set('order', values.order);
        if (values.csv) {
          q.set('format', 'csv');
          out(await call(ctx, 'GET', `/admin/usage?${q}`, undefined, true));
          return 0;
        }
        result = await call(ctx, 'GET', `/admin/usage?${q}`);
        table = () =>
          renderTable(
            result.accounts.map((r: any) => ({ account: r.account, tier: r.tier, status: r.status, used: r.credits.used, limit: r.credits.limit, overage: r.credits.overage, requests: r.requestCount, 'last request': r.lastRequestAt ?? '-' })),
            ['used', 'limit', 'overage', 'requests'],
          );
        break;
      }
      case 'audit': {
        const q = new URLSearchParams();
        if (values.account) q.set('account', values.account);
        if (values.limit) q.set('limit', values.limit);
        if (values.cursor) q.set('cursor', values.cursor);
        result = await call(ctx, 'GET', `/admin/audit?${q}`);
        table = () =>
          renderTable(result.entries.map((e: any) => ({ at: e.at, actor: e.actor, action: e.action, account: e.accountId, before: brief(e.before), after: brief(e.after) }))) +
          (result.next ? `more: --cursor ${result.next}\n` : '');
        break;
      }
      case 'dashboard link': {
        const body: Record<string, unknown> = { account: need(a, 'ACCOUNT') };
        if (values.ttl !== undefined) body.ttlSeconds = Number(values.ttl);
        result = await call(ctx, 'POST', '/admin/dashboard/links', body);
        result.url = new URL(result.path, ctx.adminUrl).toString();
        table = () => `${result.url}\nexpires ${result.expiresAt}\n`;
        break;
      }
      case 'keys issue': {
        const body: Record<string, unknown> = {};
        if (values.label) body.label = values.label;
        result = await call(ctx, 'POST', `/admin/accounts/${enc(need(a, 'account ID'))}/keys`, body);
        err('the key is shown once: tollgate keeps only its hash\n');
        table = () => `${renderTable([keyRow(result)])}key: ${result.key}\n`;
        break;
      }
      case 'keys list':
        result = await call(ctx, 'GET', `/admin/accounts/${enc(need(a, 'account ID'))}/keys`);
        table = () => renderTable(result.keys.map(keyRow));
        break;
      case 'keys revoke':
        result = await call(ctx, 'DELETE', `/admin/keys/${enc(need(a, 'KEY_ID'))}`);
        table = () => `revoked ${result.id}\n`;
        break;
      case 'byok rotate':
        result = await call(ctx, 'POST', '/admin/byok/rotate', {});
        break;
      default:
        throw new CliError(`unknown command: tollgate ${group} ${verb ?? ''}\n\n${ADMIN_USAGE}`, 2);
    }
    out(values.json ? `${JSON.stringify(result, null, 2)}\n` : table());
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      err(`tollgate: ${e.message}\n`);
      return e.exitCode;
    }
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`tollgate: ${(e as Error).message}\n\n${ADMIN_USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

const accountRow = (a: any) => ({
  id: a.id,
  tier: a.tier,
  status: a.deletedAt ? 'deleted' : a.suspended ? 'suspended' : a.status,
  'spend limit': a.overageCapCredits ?? '-',
  origin: a.origin,
  stripe: a.stripeCustomerId ?? '-',
  created: a.createdAt,
  'time zone': a.timeZone ?? 'UTC',
});
const keyRow = (k: any) => ({ id: k.id, account: k.accountId, label: k.label ?? '-', created: k.createdAt, revoked: k.revokedAt ?? '-' });
const brief = (v: unknown) => (v === undefined || v === null ? '-' : JSON.stringify(v));

/** Rows of cells as aligned columns under a header; `right`: the columns aligned right (numbers). */
export function renderTable(rows: Array<Record<string, unknown>>, right: string[] = []): string {
  if (rows.length === 0) return '(none)\n';
  const cols = Object.keys(rows[0]!);
  const cells = rows.map((r) => cols.map((c) => String(r[c] ?? '-')));
  const width = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (right.includes(cols[i]!) ? v.padStart(width[i]!) : v.padEnd(width[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(cols.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n')}\n`;
}
