// The customer's own page (its key's session, or a signed link): this period against the limit,
// the burn rate and when the credits run out at that rate, history charts by modality and model,
// receipts, and CSV downloads.

import { html } from './html.js';
import { notice, page, stats } from './layout.js';
import { credits, count, day, time } from './format.js';
import { historyCharts, receiptsTable, topModelsSection, windows, type History } from './sections.js';
import type { UsageSnapshot } from '../../ledger/types.js';
import type { ReceiptView, UsageExtras } from './source.js';

export interface CustomerModel {
  now: number;
  accountId: string;
  usage: UsageSnapshot;
  extras: UsageExtras | undefined;
  history: History | undefined;
  receipts: ReceiptView[] | undefined;
  /** Query string that keeps a link's access on the CSV downloads ("" for a session). */
  linkQuery: string;
  session: 'customer' | 'link';
}

export function customerPage(m: CustomerModel): string {
  const u = m.usage;
  const e = m.extras;
  const pct = u.limitMicro > 0 ? Math.min(100, Math.floor((u.usedMicro * 100) / u.limitMicro)) : 0;
  const q = m.linkQuery;
  const body = html`
<section aria-labelledby="h-period"><h2 id="h-period">This period</h2>
<p>${time(u.period.start)} to ${time(u.period.end)} · tier <strong data-stat="tier">${u.tier}</strong></p>
<p><label for="period-meter">Credits used: <span data-stat="used">${credits(u.usedMicro)}</span> of <span data-stat="limit">${credits(u.limitMicro)}</span> (${pct}%)</label>
<meter id="period-meter" min="0" max="${u.limitMicro}" value="${Math.min(u.usedMicro, u.limitMicro)}" low="${Math.floor(u.limitMicro * 0.8)}" high="${u.limitMicro}">${pct}%</meter></p>
${stats([
  { label: 'Remaining (credits)', value: credits(u.remainingMicro), id: 'remaining' },
  { label: 'Overage (credits)', value: credits(u.overageMicro), id: 'overage' },
  { label: 'Requests', value: count(u.requestCount), id: 'requests' },
  { label: 'Burn rate (credits per day, last 7 days)', value: e?.burnRateMicroPerDay == null ? '—' : credits(e.burnRateMicroPerDay), id: 'burn-rate' },
  { label: 'Credits run out at this rate', value: e?.projectedExhaustion == null ? 'not this period' : day(e.projectedExhaustion), id: 'run-out' },
])}
</section>
${m.history ? historyCharts(m.history, windows(m.now), { byModel: true }) : notice('Usage history is not available.')}
${m.history ? topModelsSection(m.history.daily) : ''}
<section aria-labelledby="h-downloads"><h2 id="h-downloads">Downloads</h2><ul>
${m.history ? html`<li><a href="/dashboard/me/history.csv${q}" download>Daily history by modality and model (CSV)</a></li>` : ''}
${m.receipts ? html`<li><a href="/dashboard/me/receipts.csv${q}" download>Recent requests (CSV)</a></li>` : ''}
</ul></section>
${m.receipts ? html`<section aria-labelledby="h-receipts"><h2 id="h-receipts">Recent requests</h2>${receiptsTable(m.receipts, { showKey: false })}</section>` : ''}`;
  return page({ title: `Usage of ${m.accountId}`, session: m.session, body });
}
