// `tollgate accounts|keys|byok …`: thin clients of the admin API of a running tollgate
// (--admin-url, default $TOLLGATE_ADMIN_URL or http://127.0.0.1:8081; token from
// $TOLLGATE_ADMIN_TOKEN). Answers are printed as JSON on stdout; errors go to stderr, exit 1.

import { parseArgs } from 'node:util';

export const ADMIN_USAGE = `admin commands (talk to a running tollgate's admin port):
  tollgate accounts create ID [--tier free|starter|pro|scale] [--overage-cap CREDITS]
  tollgate accounts list
  tollgate accounts get ID                 the account and its usage this period
  tollgate accounts set-tier ID TIER
  tollgate keys issue ACCOUNT [--label TEXT]   prints the new key once (tg_ + 32 characters)
  tollgate keys list ACCOUNT               key ids, labels, dates; never the keys
  tollgate keys revoke KEY_ID              stops the key on every replica within a second
  tollgate byok rotate                     re-seal stored provider keys under byok.masterKey

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

async function call(ctx: Ctx, method: string, path: string, body?: unknown): Promise<unknown> {
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
        label: { type: 'string' },
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
    let result: unknown;
    switch (`${group} ${verb ?? ''}`) {
      case 'accounts create': {
        const body: Record<string, unknown> = { id: need(a, 'account ID'), tier: values.tier ?? 'free' };
        if (values['overage-cap'] !== undefined) body.overageCapCredits = Number(values['overage-cap']);
        result = await call(ctx, 'POST', '/admin/accounts', body);
        break;
      }
      case 'accounts list':
        result = await call(ctx, 'GET', '/admin/accounts');
        break;
      case 'accounts get':
        result = await call(ctx, 'GET', `/admin/accounts/${enc(need(a, 'account ID'))}`);
        break;
      case 'accounts set-tier':
        result = await call(ctx, 'PATCH', `/admin/accounts/${enc(need(a, 'account ID'))}`, { tier: need(b, 'TIER') });
        break;
      case 'keys issue': {
        const body: Record<string, unknown> = {};
        if (values.label) body.label = values.label;
        result = await call(ctx, 'POST', `/admin/accounts/${enc(need(a, 'account ID'))}/keys`, body);
        err('the key is shown once: tollgate keeps only its hash\n');
        break;
      }
      case 'keys list':
        result = await call(ctx, 'GET', `/admin/accounts/${enc(need(a, 'account ID'))}/keys`);
        break;
      case 'keys revoke':
        result = await call(ctx, 'DELETE', `/admin/keys/${enc(need(a, 'KEY_ID'))}`);
        break;
      case 'byok rotate':
        result = await call(ctx, 'POST', '/admin/byok/rotate', {});
        break;
      default:
        throw new CliError(`unknown command: tollgate ${group} ${verb ?? ''}\n\n${ADMIN_USAGE}`, 2);
    }
    out(`${JSON.stringify(result, null, 2)}\n`);
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
