// GET /admin/accounts/:id/alerts (admin token): the threshold alerts the account's current period
// fired, each delivered or still waiting for the webhook (ledger.firedAlerts; README, Alerts).

import type { FiredAlerts } from '../../ledger/alert-fired.js';
import { alertEventId } from '../../ledger/alert-rules.js';
import type { Ledger } from '../../ledger/types.js';
import { AdminHttpError, type AdminRouter } from './router.js';

const ACCOUNT_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const credits = (micro: number): number => micro / 1_000_000;

/**
 * The JSON: `id` is the webhook's event id, `threshold` a percent or credits as in the webhook
 * body (by `thresholdType`), `firedAt` when the debit recorded it.
 */
export function firedAlertsBody(accountId: string, f: FiredAlerts) {
  return {
    account: accountId,
    periodStart: f.periodStart === null ? null : new Date(f.periodStart).toISOString(),
    alerts: f.alerts.map((a) => ({
      id: alertEventId(accountId, a.periodStart, a.token),
      token: a.token,
      type: a.type,
      thresholdType: a.thresholdType,
      threshold: a.threshold === null || a.thresholdType === 'percent' ? a.threshold : credits(a.threshold),
      state: a.state,
      firedAt: a.firedAt === null ? null : new Date(a.firedAt).toISOString(),
    })),
  };
}

export function registerAlertRoutes(router: AdminRouter, ledger: Ledger): void {
  router.add('GET', '/admin/accounts/:id/alerts', 'admin', async (ctx) => {
    const id = ctx.params[0]!;
    const a = ACCOUNT_ID.test(id) ? await ledger.getAccount(id) : null;
    if (!a) throw new AdminHttpError(404, 'unknown_account', `no account "${id}"`);
    return { body: firedAlertsBody(a.id, await ledger.firedAlerts(a.id)) };
  });
}
