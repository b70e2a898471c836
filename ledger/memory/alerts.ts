// Threshold alerts in memory: recorded after each debit (as lib/alerts.lua's alert_check), the
// alert deliverer's view of them (AlertOutbox), and the levels the current period has fired.

import { limitOf } from '../account-state.js';
import { alertLevels, byRecordOrder, crossed, effectiveRules, samePeriod, type AlertRules } from '../alert-rules.js';
import { firedList } from '../alert-fired.js';
import type { AlertOutbox, Ledger } from '../types.js';
import type { Entry, MemoryContext } from './context.js';

export interface Alerts {
  /** After a debit: records the levels `used` reached that the period has not. */
  check(e: Entry, now: number): void;
  outbox: AlertOutbox;
  firedAlerts: Ledger['firedAlerts'];
}

export function createAlerts({ clock, accounts, entry, required, tierOf }: MemoryContext, rules: AlertRules | undefined): Alerts {
  /** Accounts with events waiting for delivery (the Redis alert index). */
  const alertsPending = new Set<string>();

  function check(e: Entry, now: number): void {
    if (!rules) return;
    const tier = tierOf(e);
    const limit = limitOf(e.st, tier);
    const levels = alertLevels(effectiveRules(rules, e.account.alerts), limit, e.account.overageCapMicro ?? null, tier.hardCap);
    const a = e.alerts;
    if (!samePeriod(a.ps, e.st.ps)) a.fired = new Set();
    a.ps = e.st.ps;
    for (const l of crossed(levels, e.st.used, a.fired)) {
      a.fired.add(l.token);
      a.waiting.set(`${e.st.ps}:${l.token}`, {
        accountId: e.account.id,
        token: l.token,
        type: l.type,
        thresholdType: l.thresholdType,
        threshold: l.threshold,
        usedMicro: e.st.used,
        limitMicro: limit,
        periodStart: e.st.ps,
        periodEnd: e.st.pe,
        createdAt: now,
        at: l.at,
      });
      a.marks.set(l.token, { firedAt: now, threshold: l.threshold, periodStart: e.st.ps, periodEnd: e.st.pe });
      alertsPending.add(e.account.id);
    }
  }

  const outbox: AlertOutbox = {
    async pendingAccounts(full) {
      return full ? [...accounts.keys()].sort() : [...alertsPending].sort();
    },
    async lease(accountId, owner, ttlMs) {
      const e = required(accountId);
      const now = clock.now();
      if (e.alertLease && e.alertLease.expires > now) return false;
      e.alertLease = { owner, expires: now + ttlMs };
      return true;
    },
    async release(accountId, owner) {
      const e = required(accountId);
      if (e.alertLease?.owner === owner) e.alertLease = null;
    },
    async waiting(accountId) {
      return [...required(accountId).alerts.waiting.values()].map((r) => ({ ...r })).sort(byRecordOrder);
    },
    async delivered(accountId, periodStart, token) {
      return required(accountId).alerts.waiting.delete(`${periodStart}:${token}`);
    },
    async markClean(accountId) {
      if (required(accountId).alerts.waiting.size === 0) alertsPending.delete(accountId);
    },
  };

  const firedAlerts: Ledger['firedAlerts'] = async (accountId) => {
    const a = entry(accountId)?.alerts;
    if (!a || a.fired.size === 0) return { periodStart: null, alerts: [] };
    return firedList({ firedPs: a.ps, tokens: a.fired, waiting: [...a.waiting.values()], marks: (tk) => a.marks.get(tk) }, clock.now());
  };

  return { check, outbox, firedAlerts };
}
