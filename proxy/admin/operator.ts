// The operator's overview on the admin port (Authorization: Bearer <admin token>):
//   GET /admin/usage[?sort=id|tier|used|limit|overage|requests&order=asc|desc&format=csv]
//       every live account's current period: tier, status, credits used, limit, overage, requests,
//       and when its last request settled (any period; null: never)
//   GET /admin/usage/history[?from=YYYY-MM-DD&to=YYYY-MM-DD&format=csv]
//       totals by day and modality across every live account (operator-history.ts)
//   GET /admin/audit[?account=ID&limit=N&cursor=ID]   the audit log, newest first, paged
// Credits are decimal numbers exact to 6 places (µcr / 1e6), as in /v1/usage.

import { AUDIT_MAX_PAGE } from '../../ledger/audit-log.js';
import type { Clock, Ledger } from '../../ledger/types.js';
import { fmt } from '../pipeline.js';
import { operatorHistoryCsv, operatorHistoryJson, parseOperatorHistoryQuery, readOperatorHistory } from './operator-history.js';
import { AdminHttpError, type AdminRouter } from './router.js';

export interface UsageRow {
  account: string;
  tier: string;
  status: 'active' | 'suspended';
  /** µcr */
  used: number;
  limit: number;
  overage: number;
  requests: number;
  periodStart: number;
  periodEnd: number;
  /** ms; null: never. */
  lastRequestAt: number | null;
}

const SORTS = {
  id: (r: UsageRow) => r.account,
  tier: (r: UsageRow) => r.tier,
  used: (r: UsageRow) => r.used,
  limit: (r: UsageRow) => r.limit,
  overage: (r: UsageRow) => r.overage,
  requests: (r: UsageRow) => r.requests,
  lastRequest: (r: UsageRow) => r.lastRequestAt ?? 0,
} as const;
type SortKey = keyof typeof SORTS;

export const USAGE_CSV_HEADER = 'account,tier,status,used,limit,overage,requests,period_start,period_end,last_request';

export async function usageRows(ledger: Ledger): Promise<UsageRow[]> {
  const accounts = (await ledger.listAccounts()).filter((a) => !a.deletedAt);
  return Promise.all(
    accounts.map(async (a) => {
      const u = await ledger.usage(a.id);
      return {
        account: a.id,
        tier: u.tier,
        status: a.suspended ? 'suspended' : 'active',
        used: u.usedMicro,
        limit: u.limitMicro,
        overage: u.overageMicro,
        requests: u.requestCount,
        periodStart: u.period.start,
        periodEnd: u.period.end,
        lastRequestAt: u.lastRequestAt ?? null,
      } satisfies UsageRow;
    }),
  );
}

export function sortRows(rows: UsageRow[], sort: string, order: string): UsageRow[] {
  if (!(sort in SORTS)) throw new AdminHttpError(400, 'invalid_request', `sort: one of ${Object.keys(SORTS).join(', ')}`);
  if (order !== 'asc' && order !== 'desc') throw new AdminHttpError(400, 'invalid_request', 'order: asc or desc');
  const key = SORTS[sort as SortKey];
  const dir = order === 'asc' ? 1 : -1;
  // Ties (and every secondary order) by account id, ascending: the output is stable.
  return [...rows].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return c !== 0 ? c * dir : a.account.localeCompare(b.account);
  });
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function usageCsv(rows: UsageRow[]): string {
  const lines = rows.map((r) =>
    [r.account, r.tier, r.status, fmt(r.used), fmt(r.limit), fmt(r.overage), String(r.requests), new Date(r.periodStart).toISOString(), new Date(r.periodEnd).toISOString(), r.lastRequestAt ? new Date(r.lastRequestAt).toISOString() : ''].map(csvField).join(','),
  );
  return `${[USAGE_CSV_HEADER, ...lines].join('\n')}\n`;
}

const credits = (micro: number) => micro / 1_000_000;

export function registerOperatorRoutes(router: AdminRouter, ledger: Ledger, deps: { clock: Clock }): void {
  router.add('GET', '/admin/usage', 'admin', async (ctx) => {
    const q = ctx.url.searchParams;
    const sort = q.get('sort') ?? 'id';
    const rows = sortRows(await usageRows(ledger), sort, q.get('order') ?? (sort === 'id' || sort === 'tier' ? 'asc' : 'desc'));
    const format = q.get('format') ?? 'json';
    if (format === 'csv') return { text: usageCsv(rows), headers: { 'content-type': 'text/csv; charset=utf-8' } };
    if (format !== 'json') throw new AdminHttpError(400, 'invalid_request', 'format: json or csv');
    return {
      body: {
        accounts: rows.map((r) => ({
          account: r.account,
          tier: r.tier,
          status: r.status,
          credits: { used: credits(r.used), limit: credits(r.limit), overage: credits(r.overage) },
          requestCount: r.requests,
          period: { start: new Date(r.periodStart).toISOString(), end: new Date(r.periodEnd).toISOString() },
          lastRequestAt: r.lastRequestAt ? new Date(r.lastRequestAt).toISOString() : null,
        })),
      },
    };
  });

  router.add('GET', '/admin/usage/history', 'admin', async (ctx) => {
    const q = parseOperatorHistoryQuery(ctx.url.searchParams, deps.clock.now());
    const r = await readOperatorHistory(ledger, q);
    if (q.format === 'csv') return { text: operatorHistoryCsv(r.days), headers: { 'content-type': 'text/csv; charset=utf-8' } };
    return { body: operatorHistoryJson(q, r) };
  });

  router.add('GET', '/admin/audit', 'admin', async (ctx) => {
    const q = ctx.url.searchParams;
    const limit = Number(q.get('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_MAX_PAGE) throw new AdminHttpError(400, 'invalid_request', `limit: 1 to ${AUDIT_MAX_PAGE}`);
    const cursor = q.get('cursor') ?? undefined;
    if (cursor !== undefined && !/^\d+-\d+$/.test(cursor)) throw new AdminHttpError(400, 'invalid_request', 'cursor: the `next` of the previous page');
    const account = q.get('account') ?? undefined;
    const page = await ledger.audit.read({ limit, ...(account ? { accountId: account } : {}), ...(cursor ? { cursor } : {}) });
    return { body: { entries: page.entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })), next: page.next } };
  });
}
