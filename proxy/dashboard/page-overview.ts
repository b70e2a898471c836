// The operator's overview: accounts by credits used this period, the totals over time by modality,
// the top models, alerts fired, and ledger and provider health.

import { html, type SafeHtml } from './html.js';
import { notice, page, stats, tableWrap } from './layout.js';
import { mergeBuckets } from './charts.js';
import { count, credits, time } from './format.js';
import type { Health } from './health.js';
import { historyCharts, topModelsSection, windows, type History } from './sections.js';
import type { FiredAlertView } from './source.js';
import type { UsageRow } from '../admin/operator.js';

export interface OverviewModel {
  now: number;
  rows: UsageRow[];
  /** One per account; undefined: the ledger keeps no history. */
  histories: History[] | undefined;
  /** How many accounts the charts sum (all, unless there are more than the overview reads). */
  chartedAccounts: number;
  /** What the listed accounts' periods fired (at most ALERT_ROWS of them); undefined: no alert source. */
  alerts: FiredAlertView[] | undefined;
  /** How many accounts the alerts table covers (as the charts: the biggest spenders). */
  alertAccounts: number;
  health: Health;
}

export function operatorNav(current: 'overview' | 'account'): SafeHtml {
  return html`<nav aria-label="Dashboard"><a href="/dashboard"${current === 'overview' ? html` aria-current="page"` : ''}>Overview</a></nav>`;
}

export function overviewPage(m: OverviewModel): string {
  const w = windows(m.now);
  const totalUsed = m.rows.reduce((n, r) => n + r.used, 0);
  const totalOverage = m.rows.reduce((n, r) => n + r.overage, 0);
  const merged: History | undefined = m.histories && { daily: mergeBuckets(m.histories.map((h) => h.daily)), hourly: mergeBuckets(m.histories.map((h) => h.hourly)) };
  const body = html`
${stats([
  { label: 'Accounts', value: count(m.rows.length), id: 'accounts' },
  { label: 'Credits used this period', value: credits(totalUsed), id: 'used' },
  { label: 'Overage this period', value: credits(totalOverage), id: 'overage' },
  { label: 'Requests this period', value: count(m.rows.reduce((n, r) => n + r.requests, 0)), id: 'requests' },
])}
<section aria-labelledby="h-accounts"><h2 id="h-accounts">Accounts by credits used this period</h2>
<p class="actions"><a href="/dashboard/usage.csv" download>Download CSV</a></p>
${tableWrap(
  'Accounts',
  html`<table data-table="accounts"><caption>Accounts, most credits used first</caption>
<thead><tr><th scope="col">Account</th><th scope="col">Tier</th><th scope="col">Status</th><th scope="col">Used</th><th scope="col">Limit</th><th scope="col">Overage</th><th scope="col">Requests</th><th scope="col">Last request</th></tr></thead>
<tbody>${m.rows.map(
    (r) => html`<tr data-account="${r.account}"><th scope="row"><a href="/dashboard/accounts/${encodeURIComponent(r.account)}">${r.account}</a></th><td>${r.tier}</td><td>${r.status}</td><td class="num" data-col="used">${credits(r.used)}</td><td class="num" data-col="limit">${credits(r.limit)}</td><td class="num" data-col="overage">${credits(r.overage)}</td><td class="num" data-col="requests">${count(r.requests)}</td><td>${r.lastRequestAt ? time(r.lastRequestAt) : '—'}</td></tr>`,
  )}</tbody></table>`,
)}
</section>
${merged && m.chartedAccounts < m.rows.length ? notice(`The charts below sum the ${m.chartedAccounts} accounts that used the most credits this period (of ${m.rows.length}).`) : ''}
${merged ? historyCharts(merged, w, { byModel: false }) : notice('This ledger keeps no usage history: the charts need it.')}
${merged ? topModelsSection(merged.daily) : ''}
${m.alerts ? alertsSection(m.alerts, { allAccounts: true, covered: m.alertAccounts, of: m.rows.length }) : ''}
${m.health.alerts ? alertWebhooks(m.health.alerts) : ''}
${healthSection(m.health)}`;
  return page({ title: 'Overview', session: 'operator', nav: operatorNav('overview'), body });
}

/** Rows shown at most; the JSON API (GET /admin/accounts/:id/alerts) has every account's. */
export const ALERT_ROWS = 200;

const thresholdText = (a: FiredAlertView): string => {
  if (a.threshold === null) return '—';
  if (a.thresholdType === 'percent') return `${a.threshold}%`;
  return a.thresholdType === 'remainingCredits' ? `${credits(a.threshold)} credits left` : `spend limit ${credits(a.threshold)} credits`;
};

/** Alerts fired this period: account (on the overview), event, threshold, delivered or waiting. */
export function alertsSection(alerts: FiredAlertView[], scope: { allAccounts: boolean; covered?: number; of?: number }): SafeHtml {
  const shown = alerts.slice(0, ALERT_ROWS);
  const acct = scope.allAccounts;
  return html`<section aria-labelledby="h-alerts"><h2 id="h-alerts">Alerts fired this period</h2>
${acct && scope.covered !== undefined && scope.of !== undefined && scope.covered < scope.of ? notice(`For the ${scope.covered} accounts that used the most credits this period (of ${scope.of}).`) : ''}
${alerts.length > shown.length ? notice(`The first ${shown.length} of ${alerts.length}.`) : ''}${
    shown.length === 0
      ? notice('No alert fired this period.')
      : tableWrap(
          'Alerts fired this period',
          html`<table data-table="alerts"><caption>Threshold alerts fired this period${acct ? ', by account (most credits used first)' : ''}, in the order they fired; waiting: not yet taken by the webhook</caption><thead><tr>${acct ? html`<th scope="col">Account</th>` : ''}<th scope="col">Event</th><th scope="col">Threshold</th><th scope="col">Delivery</th><th scope="col">Fired</th></tr></thead>
<tbody>${shown.map(
            (a) =>
              html`<tr data-account="${a.accountId}">${acct ? html`<th scope="row"><a href="/dashboard/accounts/${encodeURIComponent(a.accountId)}">${a.accountId}</a></th>` : ''}<td data-col="type">${a.type}</td><td data-col="threshold">${thresholdText(a)}</td><td data-col="state">${a.state}</td><td>${a.firedAt === null ? '—' : time(a.firedAt)}</td></tr>`,
          )}</tbody></table>`,
        )
  }</section>`;
}

/** The alert deliverer's counters (this process, or every worker's summed). */
function alertWebhooks(a: NonNullable<Health['alerts']>): SafeHtml {
  return html`<section aria-labelledby="h-alert-hooks"><h2 id="h-alert-hooks">Alerts sent</h2>
${
  a.byType.length === 0
    ? notice('No alert sent since this process started.')
    : tableWrap(
        'Alerts sent',
        html`<table data-table="alert-webhooks"><caption>Alert webhooks since start, by event (from /metrics)</caption><thead><tr><th scope="col">Event</th><th scope="col">Sent</th><th scope="col">Failed sends</th></tr></thead>
<tbody>${a.byType.map((x) => html`<tr><th scope="row">${x.type}</th><td class="num">${count(x.sent)}</td><td class="num">${count(x.failures)}</td></tr>`)}</tbody></table>`,
      )
}
${stats([{ label: 'Alerts waiting for a later retry', value: count(a.deferred), id: 'alerts-deferred' }])}</section>`;
}

function healthSection(h: Health): SafeHtml {
  const ledgerState = !h.ledger.reachable ? 'unreachable' : h.ledger.ready ? 'ready' : `not ready${h.ledger.reason ? `: ${h.ledger.reason}` : ''}`;
  return html`<section aria-labelledby="h-health"><h2 id="h-health">Health</h2>
${stats([
  { label: `Ledger (${h.ledger.kind})`, value: ledgerState, id: 'ledger' },
  { label: 'Settles waiting in the journal', value: count(h.ledger.journaled), id: 'journaled' },
  { label: 'Ledger errors on the request path', value: count(h.ledgerErrors), id: 'ledger-errors' },
  { label: 'Requests in flight', value: count(h.inFlight), id: 'in-flight' },
])}
${
  h.providers.length === 0
    ? notice('No provider traffic since this process started.')
    : tableWrap(
        'Providers',
        html`<table data-table="providers"><caption>Providers since start (from /metrics)</caption><thead><tr><th scope="col">Provider</th><th scope="col">Requests</th><th scope="col">5xx answers</th><th scope="col">Upstream failures</th></tr></thead>
<tbody>${h.providers.map((p) => html`<tr><th scope="row">${p.provider}</th><td class="num">${count(p.requests)}</td><td class="num">${count(p.serverErrors)}</td><td class="num">${count(p.upstreamFailures)}</td></tr>`)}</tbody></table>`,
      )
}</section>`;
}
