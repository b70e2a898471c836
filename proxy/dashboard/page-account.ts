// The operator's page for one account: its tier and spend limit, this period's usage, its keys
// (ids and labels only: tollgate keeps no secret to show), the history charts and its receipts.

import { html } from './html.js';
import { notice, page, stats, tableWrap } from './layout.js';
import { credits, count, time } from './format.js';
import { historyCharts, receiptsTable, topModelsSection, windows, type History } from './sections.js';
import { alertsSection, operatorNav } from './page-overview.js';
import type { Account, ApiKeyInfo, UsageSnapshot } from '../../ledger/types.js';
import type { FiredAlertView, ReceiptView } from './source.js';

export interface AccountModel {
  now: number;
  account: Account;
  usage: UsageSnapshot;
  keys: ApiKeyInfo[];
  history: History | undefined;
  receipts: ReceiptView[] | undefined;
  alerts: FiredAlertView[] | undefined;
}

export function accountPage(m: AccountModel): string {
  const a = m.account;
  const u = m.usage;
  const id = encodeURIComponent(a.id);
  const spendLimit = a.overageCapMicro === undefined || a.overageCapMicro === null ? 'none' : credits(a.overageCapMicro);
  const body = html`
${stats([
  { label: 'Tier', value: u.tier, id: 'tier' },
  { label: 'Status', value: a.deletedAt ? 'deleted' : a.suspended ? 'suspended' : a.status, id: 'status' },
  { label: 'Spend limit on overage (credits)', value: spendLimit, id: 'spend-limit' },
  { label: 'Used this period (credits)', value: credits(u.usedMicro), id: 'used', note: `${time(u.period.start)} to ${time(u.period.end)}` },
  { label: 'Limit (credits)', value: credits(u.limitMicro), id: 'limit' },
  { label: 'Remaining (credits)', value: credits(u.remainingMicro), id: 'remaining' },
  { label: 'Overage (credits)', value: credits(u.overageMicro), id: 'overage' },
  { label: 'Requests this period', value: count(u.requestCount), id: 'requests' },
])}
<section aria-labelledby="h-keys"><h2 id="h-keys">API keys</h2>
${
  m.keys.length === 0
    ? notice('No key.')
    : tableWrap(
        'API keys',
        html`<table data-table="keys"><caption>API keys (ids and labels; tollgate stores only their hashes)</caption><thead><tr><th scope="col">Key id</th><th scope="col">Label</th><th scope="col">Created</th><th scope="col">Revoked</th></tr></thead>
<tbody>${m.keys.map((k) => html`<tr><td><code>${k.id}</code></td><td>${k.label ?? '—'}</td><td>${time(k.createdAt)}</td><td>${k.revokedAt ? time(k.revokedAt) : '—'}</td></tr>`)}</tbody></table>`,
      )
}</section>
${m.history ? historyCharts(m.history, windows(m.now), { byModel: true }) : notice('This ledger keeps no usage history: the charts need it.')}
${m.history ? html`<p class="actions"><a href="/dashboard/accounts/${id}/history.csv" download>Download daily history (CSV)</a></p>` : ''}
${m.history ? topModelsSection(m.history.daily) : ''}
${m.receipts ? html`<section aria-labelledby="h-receipts"><h2 id="h-receipts">Recent requests</h2>${receiptsTable(m.receipts, { showKey: true })}</section>` : ''}
${m.alerts ? alertsSection(m.alerts, { allAccounts: false }) : ''}`;
  return page({ title: `Account ${a.id}`, session: 'operator', nav: operatorNav('account'), body });
}
